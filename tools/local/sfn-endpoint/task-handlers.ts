// Routes each Task state of one execution to its in-process handler through aws-local-stepfunctions'
// `taskResourceLocalHandlers` (keyed by state NAME), and makes handler failures look like Lambda's.

import type { TaskRoute } from './definition.ts';
import type { TaskContext, TaskHandler } from './types.ts';

/** One invocation of a Task handler, kept until the history records its outcome. */
export interface TaskCall {
  input: unknown;
  settled: boolean;
  ok: boolean;
  /** The handler's result (the Lambda payload). */
  output?: unknown;
}

/** Invocations per state name in call order; history.ts takes them back in the same order. */
export class TaskCallLog {
  private readonly byState = new Map<string, TaskCall[]>();

  begin(stateName: string, input: unknown): TaskCall {
    const call: TaskCall = { input, settled: false, ok: false };
    const list = this.byState.get(stateName);
    if (list) list.push(call);
    else this.byState.set(stateName, [call]);
    return call;
  }

  peek(stateName: string): TaskCall | undefined {
    return this.byState.get(stateName)?.[0];
  }

  clear(): void {
    this.byState.clear();
  }

  take(stateName: string): TaskCall | undefined {
    const list = this.byState.get(stateName);
    const call = list?.shift();
    if (list && list.length === 0) this.byState.delete(stateName);
    return call;
  }
}

type LocalHandler = (input: unknown) => Promise<unknown>;

export interface HandlerRouting {
  tasks: ReadonlyMap<string, TaskRoute>;
  handlers: Record<string, TaskHandler>;
  calls: TaskCallLog;
  context: Omit<TaskContext, 'stateName'>;
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Step Functions matches Retry/Catch on the Lambda errorType, which is `error.name`. A fresh Error
 * with only name and message (no `cause`) makes aws-local-stepfunctions report
 * {"Error": name, "Cause": message} in Catch results and in the execution's failure.
 */
export function toTaskError(err: unknown): Error {
  if (err instanceof Error) return namedError(err.name || 'Error', err.message);
  if (typeof err === 'object' && err !== null) {
    const o = err as { name?: unknown; errorType?: unknown; message?: unknown; errorMessage?: unknown };
    const name = typeof o.name === 'string' ? o.name : typeof o.errorType === 'string' ? o.errorType : 'Error';
    const message = typeof o.message === 'string' ? o.message : typeof o.errorMessage === 'string' ? o.errorMessage : JSON.stringify(err);
    return namedError(name, message);
  }
  return namedError('Error', String(err));
}

/** A Lambda result is JSON: undefined becomes null, Dates become strings, nothing is shared. */
function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** Settles with the handler, or rejects as soon as the execution is aborted (a stuck handler must not hold it). */
async function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(namedError('States.Aborted', 'The execution was aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function localHandler(route: TaskRoute, r: HandlerRouting): LocalHandler {
  const context: TaskContext = { ...r.context, stateName: route.stateName };
  return async (input) => {
    const call = r.calls.begin(route.stateName, input);
    try {
      if (r.context.signal.aborted) throw namedError('States.Aborted', 'The execution was aborted');
      const handler = r.handlers[route.handlerKey];
      if (!handler) throw namedError('Lambda.ResourceNotFoundException', `Function not found: ${route.handlerKey}`);
      const output = toJson(await raceAbort(handler(input ?? null, context), r.context.signal));
      Object.assign(call, { settled: true, ok: true, output });
      return output;
    } catch (err) {
      call.settled = true;
      throw toTaskError(err);
    }
  };
}

/** The `taskResourceLocalHandlers` override for one execution. */
export function buildLocalHandlers(r: HandlerRouting): Record<string, LocalHandler> {
  const out: Record<string, LocalHandler> = {};
  for (const route of r.tasks.values()) out[route.stateName] = localHandler(route, r);
  return out;
}
