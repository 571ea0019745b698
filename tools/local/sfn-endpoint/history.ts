// Maps aws-local-stepfunctions event logs to Step Functions history events, in the shapes
// GetExecutionHistory returns (type, id, previousEventId, timestamp and the matching *EventDetails).

import type { StateMachine } from 'aws-local-stepfunctions';
import type { TaskRoute } from './definition.ts';
import type { TaskCallLog } from './task-handlers.ts';
import type { HistoryEvent } from './types.ts';

/** The library does not export its event type; take it from `run()`. */
export type EngineEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export type ExecutionOutcome =
  | { status: 'SUCCEEDED'; output: string }
  | { status: 'FAILED' | 'TIMED_OUT'; error: string; cause: string }
  | { status: 'ABORTED'; error?: string; cause?: string };

export interface HistoryContext {
  tasks: ReadonlyMap<string, TaskRoute>;
  calls: TaskCallLog;
  roleArn: string;
}

const NOT_TRUNCATED = { truncated: false };

const json = (v: unknown): string => JSON.stringify(v ?? null);
const text = (v: unknown): string => (typeof v === 'string' ? v : json(v));

export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  /** States whose latest attempt failed: their Exited follows a Catch. */
  private readonly failed = new Set<string>();

  constructor(private readonly ctx: HistoryContext) {}

  get count(): number {
    return this.events.length;
  }

  private push(type: string, ms: number, details?: [string, Record<string, unknown>]): void {
    const id = this.events.length + 1;
    const event: HistoryEvent = { timestamp: ms / 1000, type, id, previousEventId: id - 1 };
    if (details) event[details[0]] = details[1];
    this.events.push(event);
  }

  add(ev: EngineEvent): void {
    const t = ev.timestamp;
    switch (ev.type) {
      case 'ExecutionStarted':
        this.push('ExecutionStarted', t, ['executionStartedEventDetails', { input: json(ev.input), inputDetails: NOT_TRUNCATED, roleArn: this.ctx.roleArn }]);
        return;
      case 'StateEntered':
        this.failed.delete(ev.state.name);
        this.push(`${ev.state.type}StateEntered`, t, ['stateEnteredEventDetails', { name: ev.state.name, input: json(ev.state.input), inputDetails: NOT_TRUNCATED }]);
        this.scheduled(ev.state.name, ev.state.input, t);
        return;
      case 'StateRetried':
        this.failed.delete(ev.state.name);
        this.scheduled(ev.state.name, ev.state.input, t);
        return;
      case 'StateFailed':
        this.failed.add(ev.state.name);
        if (ev.state.type === 'Task') this.taskFailed(ev.state.name, ev.Error, text(ev.Cause), t);
        return;
      case 'StateExited': {
        const { name, type, output } = ev.state;
        if (!this.failed.delete(name) && type === 'Task') this.taskSucceeded(name, output, t);
        this.push(`${type}StateExited`, t, ['stateExitedEventDetails', { name, output: json(output), outputDetails: NOT_TRUNCATED }]);
        return;
      }
      default:
        // Caught and Execution* events: Catch has no history event of its own, and finish()
        // writes the terminal event from the final outcome.
        return;
    }
  }

  /** Writes the terminal event. Called once, after the engine's event log has been drained. */
  finish(outcome: ExecutionOutcome, ms: number): void {
    this.ctx.calls.clear(); // calls whose events the engine never sent are no longer needed
    switch (outcome.status) {
      case 'SUCCEEDED':
        this.push('ExecutionSucceeded', ms, ['executionSucceededEventDetails', { output: outcome.output, outputDetails: NOT_TRUNCATED }]);
        return;
      case 'FAILED':
        this.push('ExecutionFailed', ms, ['executionFailedEventDetails', { error: outcome.error, cause: outcome.cause }]);
        return;
      case 'TIMED_OUT':
        this.push('ExecutionTimedOut', ms, ['executionTimedOutEventDetails', { error: outcome.error, cause: outcome.cause }]);
        return;
      case 'ABORTED': {
        const details: Record<string, unknown> = {};
        if (outcome.error !== undefined) details['error'] = outcome.error;
        if (outcome.cause !== undefined) details['cause'] = outcome.cause;
        this.push('ExecutionAborted', ms, ['executionAbortedEventDetails', details]);
        return;
      }
    }
  }

  /** A (re)started attempt of a Task: its Lambda is scheduled and started. */
  private scheduled(name: string, rawInput: unknown, t: number): void {
    const route = this.ctx.tasks.get(name);
    if (!route) return;
    // The handler usually has been called by now, so its call carries the effective input (after Parameters).
    const input = json(this.ctx.calls.peek(name)?.input ?? rawInput);
    const timeout = route.timeoutSeconds === undefined ? {} : { timeoutInSeconds: route.timeoutSeconds };
    this.push('LambdaFunctionScheduled', t, ['lambdaFunctionScheduledEventDetails', { resource: route.resource, input, inputDetails: NOT_TRUNCATED, ...timeout }]);
    this.push('LambdaFunctionStarted', t);
  }

  private taskSucceeded(name: string, stateOutput: unknown, t: number): void {
    if (!this.ctx.tasks.has(name)) return;
    const call = this.ctx.calls.take(name);
    this.succeededEvent(call?.ok ? call.output : stateOutput, t);
  }

  private taskFailed(name: string, error: string, cause: string, t: number): void {
    if (!this.ctx.tasks.has(name)) return;
    const call = this.ctx.calls.take(name);
    if (!call) return; // failed before the handler ran (input processing): AWS records no task event either
    if (call.ok) {
      // The handler succeeded; ResultSelector/ResultPath/OutputPath failed afterwards.
      this.succeededEvent(call.output, t);
      return;
    }
    const type = error === 'States.Timeout' || !call.settled ? 'LambdaFunctionTimedOut' : 'LambdaFunctionFailed';
    this.push(type, t, [`${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`, { error, cause }]);
  }

  private succeededEvent(output: unknown, t: number): void {
    this.push('LambdaFunctionSucceeded', t, ['lambdaFunctionSucceededEventDetails', { output: json(output), outputDetails: NOT_TRUNCATED }]);
  }
}
