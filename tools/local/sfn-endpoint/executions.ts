// The execution registry: starts executions on the shared engines, follows each one to its end,
// and keeps what Describe/List/GetExecutionHistory read.

import './polyfill.ts';
import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError } from 'aws-local-stepfunctions';
import type { RunOptions } from 'aws-local-stepfunctions';
import { executionArn } from './arn.ts';
import type { AccountScope } from './arn.ts';
import { apiError } from './errors.ts';
import { HistoryBuilder } from './history.ts';
import type { EngineEvent, ExecutionOutcome } from './history.ts';
import type { MachineRuntime } from './machines.ts';
import { TaskCallLog, buildLocalHandlers } from './task-handlers.ts';
import type { EndpointLog, ExecutionStatus, ExecutionStatusChangeDetail } from './types.ts';

type Overrides = NonNullable<RunOptions['overrides']>;
type Run = ReturnType<MachineRuntime['engine']['run']>;

export interface ExecutionRecord {
  arn: string;
  name: string;
  machine: MachineRuntime;
  input: string;
  status: ExecutionStatus;
  startMs: number;
  stopMs?: number;
  output?: string;
  error?: string;
  cause?: string;
  history: HistoryBuilder;
  /** Resolves once the status is final and the history complete. */
  done: Promise<void>;
}

interface Internal extends ExecutionRecord {
  signal: AbortController;
  engineAbort: () => void;
  /** The engine's result has settled (the status becomes final after the event log is drained). */
  settled: boolean;
  stopDetails?: { error?: string; cause?: string };
  forcedFailure?: { error: string; cause: string };
}

export interface RegistryOptions {
  scope: AccountScope;
  retryIntervalOverrides?: Overrides['retryIntervalOverrides'];
  log: EndpointLog;
  maxHistoryEvents: number;
  maxRetainedExecutions: number;
  maxRetainedHistoryEvents: number;
  onExecutionEnded?: ((change: ExecutionStatusChangeDetail) => void) | undefined;
}

/** Input equality for idempotent StartExecution: same JSON value, whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function outcomeOf(rec: Internal, err: unknown): ExecutionOutcome {
  if (err instanceof ExecutionAbortedError) {
    return rec.forcedFailure ? { status: 'FAILED', ...rec.forcedFailure } : { status: 'ABORTED', ...rec.stopDetails };
  }
  if (err instanceof ExecutionTimeoutError) {
    return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution exceeded the TimeoutSeconds of its state machine' };
  }
  const inner = err instanceof ExecutionError ? err.cause : err;
  if (inner instanceof Error) {
    const detail: unknown = inner.cause;
    const cause = detail === undefined ? inner.message : typeof detail === 'string' ? detail : JSON.stringify(detail);
    return { status: 'FAILED', error: inner.name, cause };
  }
  return { status: 'FAILED', error: 'States.Runtime', cause: String(inner) };
}

export class ExecutionRegistry {
  private readonly records = new Map<string, Internal>();
  private readonly finished: string[] = [];
  /** History events held by the finished executions still retained. */
  private retainedEvents = 0;

  constructor(private readonly o: RegistryOptions) {}

  get(arn: string): ExecutionRecord | undefined {
    return this.records.get(arn);
  }

  /** Newest first, as ListExecutions answers. */
  list(machine: MachineRuntime): ExecutionRecord[] {
    return [...this.records.values()].filter((r) => r.machine === machine).reverse();
  }

  start(machine: MachineRuntime, name: string | undefined, input: string, inputValue: unknown): ExecutionRecord {
    const execName = name ?? randomUUID();
    const arn = executionArn(this.o.scope, machine.name, execName);
    const existing = this.records.get(arn);
    if (existing) {
      // AWS: the same name and input while RUNNING is an idempotent retry; anything else is a conflict.
      if (existing.status === 'RUNNING' && canonical(JSON.parse(existing.input)) === canonical(inputValue)) return existing;
      throw apiError.executionAlreadyExists(arn);
    }
    const calls = new TaskCallLog();
    const signal = new AbortController();
    const rec: Internal = {
      arn,
      name: execName,
      machine,
      input,
      status: 'RUNNING',
      startMs: Date.now(),
      history: new HistoryBuilder({ tasks: machine.tasks, calls, roleArn: machine.roleArn }),
      done: Promise.resolve(),
      signal,
      engineAbort: () => undefined,
      settled: false,
    };
    this.records.set(arn, rec);
    const handlers = buildLocalHandlers({
      tasks: machine.tasks,
      handlers: machine.handlers,
      calls,
      context: { executionArn: arn, executionName: execName, stateMachineArn: machine.arn, signal: signal.signal },
    });
    const run = machine.engine.run(inputValue as Parameters<MachineRuntime['engine']['run']>[0], {
      overrides: {
        taskResourceLocalHandlers: handlers as Overrides['taskResourceLocalHandlers'],
        retryIntervalOverrides: this.o.retryIntervalOverrides,
      },
      // The Context Object ($$) of AWS; $$.State is not supported by the engine.
      context: {
        Execution: { Id: arn, Name: execName, RoleArn: machine.roleArn, StartTime: new Date(rec.startMs).toISOString() },
        StateMachine: { Id: machine.arn, Name: machine.name },
      },
    });
    rec.engineAbort = run.abort;
    this.o.log({ event: 'execution.started', executionArn: arn, stateMachine: machine.name, name: execName });
    rec.done = this.follow(rec, run);
    return rec;
  }

  /** StopExecution: ABORTED at once; a finished execution is left as it is. Returns the stop date (ms). */
  async stop(arn: string, error?: string, cause?: string): Promise<number> {
    const rec = this.records.get(arn);
    if (!rec) throw apiError.executionDoesNotExist(arn);
    if (rec.status === 'RUNNING' && !rec.settled) {
      rec.stopDetails = { error, cause };
      rec.status = 'ABORTED';
      rec.stopMs = Date.now();
      rec.engineAbort();
      rec.signal.abort();
    }
    await rec.done;
    return rec.stopMs ?? Date.now();
  }

  /** Aborts every running execution and waits until each has reached its final state. */
  async stopAll(cause: string): Promise<void> {
    const running = [...this.records.values()].filter((r) => r.status === 'RUNNING');
    await Promise.all(running.map((r) => this.stop(r.arn, 'States.Aborted', cause)));
  }

  private async follow(rec: Internal, run: Run): Promise<void> {
    const drained = this.drain(rec, run.eventLogs);
    let outcome: ExecutionOutcome;
    try {
      outcome = { status: 'SUCCEEDED', output: JSON.stringify((await run.result) ?? null) };
    } catch (err) {
      outcome = outcomeOf(rec, err);
    }
    rec.settled = true;
    await drained;
    // Releases handlers still pending after a timeout or failure (they see the signal).
    rec.signal.abort();
    this.finish(rec, outcome);
  }

  /** Always drain the engine's event log: it buffers every event until read. */
  private async drain(rec: Internal, logs: AsyncGenerator<EngineEvent>): Promise<void> {
    try {
      for await (const ev of logs) {
        if (rec.forcedFailure) continue;
        rec.history.add(ev);
        // AWS fails an execution whose history reaches the limit (keep one slot for the terminal event).
        if (rec.history.count >= this.o.maxHistoryEvents - 1 && !rec.settled && rec.status === 'RUNNING') {
          rec.forcedFailure = {
            error: 'States.Runtime',
            cause: `The execution reached the maximum number of history events (${this.o.maxHistoryEvents})`,
          };
          rec.engineAbort();
          rec.signal.abort();
        }
      }
    } catch (err) {
      this.o.log({ event: 'execution.history_error', executionArn: rec.arn, message: String(err) });
    }
  }

  private finish(rec: Internal, result: ExecutionOutcome): void {
    const now = Date.now();
    // A StopExecution that raced with the engine's own ending wins, as the caller was told ABORTED.
    const outcome: ExecutionOutcome = rec.status === 'ABORTED' ? { status: 'ABORTED', ...rec.stopDetails } : result;
    if (rec.status === 'RUNNING') {
      rec.status = outcome.status;
      rec.stopMs = now;
      if (outcome.status === 'SUCCEEDED') rec.output = outcome.output;
    }
    if (outcome.status !== 'SUCCEEDED') {
      rec.error = outcome.error;
      rec.cause = outcome.cause;
    }
    rec.history.finish(outcome, now);
    const { status, error, cause } = rec;
    this.o.log({ event: 'execution.finished', executionArn: rec.arn, stateMachine: rec.machine.name, status, error, cause, durationMs: now - rec.startMs });
    try {
      this.o.onExecutionEnded?.({
        executionArn: rec.arn,
        stateMachineArn: rec.machine.arn,
        name: rec.name,
        status,
        startDate: rec.startMs,
        stopDate: rec.stopMs ?? now,
        input: rec.input,
        error: error ?? null,
        cause: cause ?? null,
      });
    } catch (err) {
      this.o.log({ event: 'execution.listener_error', executionArn: rec.arn, message: String(err) });
    }
    this.finished.push(rec.arn);
    this.retainedEvents += rec.history.count;
    // A history costs ~3 KB of JSON per loop iteration: a count of executions alone would let a
    // long run with small batches (2,000 batches per 1M rows at batch_size 500) grow the
    // endpoint's memory with the run. The newest finished execution is always kept.
    const overBudget = () =>
      this.finished.length > this.o.maxRetainedExecutions || (this.finished.length > 1 && this.retainedEvents > this.o.maxRetainedHistoryEvents);
    while (overBudget()) {
      const oldest = this.finished.shift();
      if (oldest === undefined) break;
      this.retainedEvents -= this.records.get(oldest)?.history.count ?? 0;
      this.records.delete(oldest);
    }
  }
}
