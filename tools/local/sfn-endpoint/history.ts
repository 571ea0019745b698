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
  region: string;
}

const NOT_TRUNCATED = { truncated: false };

const json = (v: unknown): string => JSON.stringify(v ?? null);
const text = (v: unknown): string => (typeof v === 'string' ? v : json(v));

export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  private readonly lastByScope = new Map<string, number>();
  /** States (name + Map index) whose latest attempt failed: their Exited follows a Catch. */
  private readonly failed = new Set<string>();

  constructor(private readonly ctx: HistoryContext) {}

  get count(): number {
    return this.events.length;
  }

  private push(type: string, ms: number, scope: string, details?: [string, Record<string, unknown>]): void {
    const id = this.events.length + 1;
    const event: HistoryEvent = { timestamp: ms / 1000, type, id, previousEventId: this.lastByScope.get(scope) ?? Math.max(0, id - 1) };
    if (details) event[details[0]] = details[1];
    this.events.push(event);
    this.lastByScope.set(scope, id);
  }

  add(ev: EngineEvent): void {
    const t = ev.timestamp;
    switch (ev.type) {
      case 'ExecutionStarted':
        this.push('ExecutionStarted', t, '', ['executionStartedEventDetails', { input: json(ev.input), inputDetails: NOT_TRUNCATED, roleArn: this.ctx.roleArn }]);
        return;
      case 'StateEntered': {
        const scope = ev.index === undefined ? '' : `#${ev.index}`;
        this.failed.delete(ev.state.name + scope);
        this.push(`${ev.state.type}StateEntered`, t, scope, ['stateEnteredEventDetails', { name: ev.state.name, input: json(ev.state.input), inputDetails: NOT_TRUNCATED }]);
        this.started(ev.state.name, ev.state.type, ev.state.input, t, scope);
        return;
      }
      case 'StateRetried': {
        const scope = ev.index === undefined ? '' : `#${ev.index}`;
        this.failed.delete(ev.state.name + scope);
        this.started(ev.state.name, ev.state.type, ev.state.input, t, scope);
        return;
      }
      case 'StateFailed': {
        const scope = ev.index === undefined ? '' : `#${ev.index}`;
        this.failed.add(ev.state.name + scope);
        if (ev.state.type === 'Task') this.taskFailed(ev.state.name, ev.Error, text(ev.Cause), t, scope);
        if (ev.state.type === 'Map' || ev.state.type === 'Parallel') this.push(`${ev.state.type}StateFailed`, t, scope);
        return;
      }
      case 'StateExited': {
        const scope = ev.index === undefined ? '' : `#${ev.index}`;
        const { name, type, output } = ev.state;
        if (!this.failed.delete(name + scope)) {
          if (type === 'Task') this.taskSucceeded(name, output, t, scope);
          if (type === 'Map' || type === 'Parallel') this.push(`${type}StateSucceeded`, t, scope);
        }
        this.push(`${type}StateExited`, t, scope, ['stateExitedEventDetails', { name, output: json(output), outputDetails: NOT_TRUNCATED }]);
        return;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const key = `mapIteration${ev.type.slice('MapIteration'.length)}EventDetails`;
        this.push(ev.type, t, `#${ev.index}`, [key, { name: ev.parentState.name, index: ev.index }]);
        return;
      }
      default:
        // Caught, Parallel branch and Execution* events: Catch has no history event of its own,
        // branches have none in AWS, and finish() writes the terminal event from the final outcome.
        return;
    }
  }

  /** Writes the terminal event. Called once, after the engine's event log has been drained. */
  finish(outcome: ExecutionOutcome, ms: number): void {
    this.ctx.calls.clear(); // calls whose events the engine dropped (late nested events) are no longer needed
    switch (outcome.status) {
      case 'SUCCEEDED':
        this.push('ExecutionSucceeded', ms, '', ['executionSucceededEventDetails', { output: outcome.output, outputDetails: NOT_TRUNCATED }]);
        return;
      case 'FAILED':
        this.push('ExecutionFailed', ms, '', ['executionFailedEventDetails', { error: outcome.error, cause: outcome.cause }]);
        return;
      case 'TIMED_OUT':
        this.push('ExecutionTimedOut', ms, '', ['executionTimedOutEventDetails', { error: outcome.error, cause: outcome.cause }]);
        return;
      case 'ABORTED': {
        const details: Record<string, unknown> = {};
        if (outcome.error !== undefined) details['error'] = outcome.error;
        if (outcome.cause !== undefined) details['cause'] = outcome.cause;
        this.push('ExecutionAborted', ms, '', ['executionAbortedEventDetails', details]);
        return;
      }
    }
  }

  /** A (re)started attempt: the Lambda is scheduled, or a Map/Parallel starts its work. */
  private started(name: string, type: string, rawInput: unknown, t: number, scope: string): void {
    if (type === 'Map' || type === 'Parallel') {
      // Iteration scopes restart with every Map run.
      if (type === 'Map') for (const key of this.lastByScope.keys()) if (key.startsWith('#')) this.lastByScope.delete(key);
      this.push(`${type}StateStarted`, t, scope, type === 'Map' ? ['mapStateStartedEventDetails', {}] : undefined);
      return;
    }
    const route = this.ctx.tasks.get(name);
    if (type !== 'Task' || !route) return;
    // The handler usually has been called by now, so its call carries the effective input (after Parameters).
    const input = json((route.insideMap ? undefined : this.ctx.calls.peek(name)?.input) ?? rawInput);
    const timeout = route.timeoutSeconds === undefined ? {} : { timeoutInSeconds: route.timeoutSeconds };
    if (route.kind === 'lambda') {
      this.push('LambdaFunctionScheduled', t, scope, ['lambdaFunctionScheduledEventDetails', { resource: route.resource, input, inputDetails: NOT_TRUNCATED, ...timeout }]);
      this.push('LambdaFunctionStarted', t, scope);
    } else {
      const res = { resourceType: 'lambda', resource: 'invoke' };
      this.push('TaskScheduled', t, scope, ['taskScheduledEventDetails', { ...res, region: this.ctx.region, parameters: input, ...timeout }]);
      this.push('TaskStarted', t, scope, ['taskStartedEventDetails', res]);
    }
  }

  private taskSucceeded(name: string, stateOutput: unknown, t: number, scope: string): void {
    const route = this.ctx.tasks.get(name);
    if (!route) return;
    const call = route.insideMap ? undefined : this.ctx.calls.take(name);
    this.succeededEvent(route, call?.ok ? call.output : stateOutput, t, scope);
  }

  private taskFailed(name: string, error: string, cause: string, t: number, scope: string): void {
    const route = this.ctx.tasks.get(name);
    if (!route) return;
    const call = route.insideMap ? undefined : this.ctx.calls.take(name);
    if (!route.insideMap) {
      if (!call) return; // failed before the handler ran (input processing): AWS records no task event either
      if (call.ok) {
        // The handler succeeded; ResultSelector/ResultPath/OutputPath failed afterwards.
        this.succeededEvent(route, call.output, t, scope);
        return;
      }
    }
    const timedOut = error === 'States.Timeout' || call?.settled === false;
    const lambda = route.kind === 'lambda';
    const type = lambda ? (timedOut ? 'LambdaFunctionTimedOut' : 'LambdaFunctionFailed') : timedOut ? 'TaskTimedOut' : 'TaskFailed';
    const key = `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
    const res = lambda ? {} : { resourceType: 'lambda', resource: 'invoke' };
    this.push(type, t, scope, [key, { ...res, error, cause }]);
  }

  private succeededEvent(route: TaskRoute, output: unknown, t: number, scope: string): void {
    const details = { output: json(output), outputDetails: NOT_TRUNCATED };
    if (route.kind === 'lambda') this.push('LambdaFunctionSucceeded', t, scope, ['lambdaFunctionSucceededEventDetails', details]);
    else this.push('TaskSucceeded', t, scope, ['taskSucceededEventDetails', { resourceType: 'lambda', resource: 'invoke', ...details }]);
  }
}
