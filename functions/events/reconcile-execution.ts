import { eventHandler, type ExecutionStatusChange } from '../../lib/runtime/event.ts';
import { services } from '../../lib/runtime/services.ts';

/** EventBridge "Step Functions Execution Status Change" of the run state machine: FAILED, TIMED_OUT or ABORTED. */
export const handler = eventHandler(async (detail: ExecutionStatusChange) => ({ reconciled: await services().reconcile.executionChanged(detail) }));
