/**
 * The middy preset of EventBridge-triggered functions: the handler gets the event's detail.
 * Errors propagate (EventBridge retries the invocation; the work is idempotent).
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { observability } from './logger-instance.ts';
import { lambdaHandler } from './observability.ts';

export type { ExecutionStatusChange } from '../core/use-cases/reconcile-runs.ts';

export function eventHandler<D, T>(work: (detail: D) => Promise<T>) {
  return lambdaHandler<EventBridgeEvent<string, D>, T>(observability).handler(async (event) => await work(event.detail));
}
