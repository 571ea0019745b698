/**
 * The middy preset of EventBridge-triggered functions: the handler gets the event's detail.
 * Errors propagate (EventBridge retries the invocation; the work is idempotent).
 */
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';

export type { ExecutionStatusChange } from '../core/use-cases/reconcile-runs.ts';

export function eventHandler<D, T>(work: (detail: D) => Promise<T>) {
  return middy<EventBridgeEvent<string, D>, T>().handler(async (event) => await work(event.detail));
}
