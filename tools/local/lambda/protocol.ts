/** Messages between the local Lambda runner and its worker threads. */

export interface WorkerInit {
  /** Absolute path of the handler module, e.g. <repo>/functions/steps/run-batch.ts, or its bundle. */
  module: string;
  exportName: string;
  functionName: string;
}

export interface ToWorker {
  id: number;
  event: unknown;
  timeoutMs: number;
}

export interface ErrorDescription {
  name: string;
  message: string;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: ErrorDescription }
  | { type: 'result'; id: number; payload: string }
  | { type: 'error'; id: number; error: ErrorDescription };
