import { runBatchHandler } from '../../lib/runtime/step.ts';
import { services } from '../../lib/runtime/services.ts';

/** State machine task: runBatch (statemachines/run-pipeline.asl.json); flushes the batch's metrics (EMF). */
export const handler = runBatchHandler(services);
