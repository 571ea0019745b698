/**
 * Runs the Lambda handlers of this repository locally the way Lambda runs them, for the local
 * Step Functions endpoint: each function gets warm "containers" (worker threads that import its
 * handler module once and serve one invocation at a time; a new one starts when all are busy),
 * the function's environment, and its timeout. At the timeout the worker is terminated, which
 * stops even a CPU-bound handler (a catastrophic regular expression), and the invocation fails
 * with `Sandbox.Timedout`, the error Step Functions reports for a Lambda timeout. Nothing a
 * handler does can block the process that runs the endpoint and the other executions.
 */
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { ErrorDescription, FromWorker, WorkerInit } from './protocol.ts';

export interface LocalFunction {
  /** The function key in serverless.yml, e.g. `runBatch`. */
  key: string;
  /** The deployed name, `<service>-<stage>-<key>`. */
  name: string;
  /** Absolute path of the handler module. */
  module: string;
  /** Absolute path of the function's esbuild bundle, as Lambda runs it (may not be built yet). */
  bundle?: string;
  exportName: string;
  timeoutSeconds: number;
}

export interface LocalLambdaOptions {
  functions: readonly LocalFunction[];
  /** The functions' whole environment (a worker sees nothing else, as a Lambda sees only its own). */
  env: Record<string, string>;
  /** Each line a function writes (its JSON logs). Default: this process's stderr. */
  onOutput?: (line: string, fn: LocalFunction) => void;
  /** A container idle this long is ended, as Lambda reclaims idle ones (default 120 s). */
  idleSeconds?: number;
  /**
   * Whether a new container loads the function's bundle (`bundle`) rather than its TypeScript
   * module, asked each time one starts. A bundle loads in ~15 MB; the module through tsx took
   * ~80 MB per container (hundreds of modules transpiled, with their source maps). Only fresh
   * bundles will do (the stack says yes once serverless-offline has built them): a bundle left
   * from an earlier build would run old code. Default: never.
   */
  useBundles?: () => boolean;
}

export interface LocalLambda {
  /** Invokes a function by key; resolves with its JSON result, rejects with the error Lambda would report. */
  invoke(key: string, event: unknown): Promise<unknown>;
  /** Ends every container (in-flight invocations fail). */
  stop(): Promise<void>;
}

/** How long loading a handler module may take (Lambda allows 10 s; tsx compiles on first load). */
const INIT_LIMIT_MS = 60_000;
const WORKER = new URL('./worker.mjs', import.meta.url);

function namedError(error: ErrorDescription): Error {
  return Object.assign(new Error(error.message), { name: error.name });
}

interface Pending {
  id: number;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

class Container {
  busy = false;
  dead = false;
  idleSince = Date.now();
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private pending: Pending | undefined;
  private sequence = 0;

  constructor(
    readonly fn: LocalFunction,
    env: Record<string, string>,
    onOutput: (line: string) => void,
    module: string,
  ) {
    const init: WorkerInit = { module, exportName: fn.exportName, functionName: fn.name };
    // execArgv: [] so that a vitest or tsx parent's flags do not leak in; worker.mjs registers tsx for a .ts module.
    this.worker = new Worker(WORKER, { workerData: init, env, execArgv: [], stdout: true, stderr: true });
    for (const stream of [this.worker.stdout, this.worker.stderr]) createInterface({ input: stream }).on('line', onOutput);
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.once('message', (message: FromWorker) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'init-error') reject(namedError(message.error));
      });
      this.worker.once('exit', (code) => reject(namedError({ name: 'Runtime.ExitError', message: `${fn.name}: the runtime exited during init with code ${code}` })));
    });
    this.ready.catch(() => undefined); // observed by run(); a container that never runs must not warn
    this.worker.on('message', (message: FromWorker) => this.settle(message));
    this.worker.on('error', (error) => this.fail({ name: 'Runtime.ExitError', message: `${fn.name}: the runtime exited: ${error.message}` }));
    this.worker.on('exit', (code) => this.fail({ name: 'Runtime.ExitError', message: `${fn.name}: the runtime exited with code ${code}` }));
  }

  async run(event: unknown): Promise<unknown> {
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    let initTimer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.ready,
        new Promise<never>((_, reject) => {
          initTimer = setTimeout(() => reject(namedError({ name: 'Sandbox.Timedout', message: `${this.fn.name}: init did not finish within ${INIT_LIMIT_MS} ms` })), INIT_LIMIT_MS);
        }),
      ]);
    } catch (error) {
      // Lambda retries init in a fresh container on the next invocation.
      await this.kill();
      throw error;
    } finally {
      clearTimeout(initTimer);
    }
    const id = ++this.sequence;
    return await new Promise((resolve, reject) => {
      // The timer runs from the moment the handler gets the event, as Lambda's does (init is apart).
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(namedError({ name: 'Sandbox.Timedout', message: `Task timed out after ${this.fn.timeoutSeconds.toFixed(2)} seconds` }));
        void this.kill();
      }, timeoutMs);
      const done = () => clearTimeout(timer);
      this.pending = { id, resolve: (value) => (done(), resolve(value)), reject: (error) => (done(), reject(error)) };
      this.worker.postMessage({ id, event, timeoutMs });
    });
  }

  async kill(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }

  private settle(message: FromWorker): void {
    const pending = this.pending;
    if (!pending || !('id' in message) || message.id !== pending.id) return;
    this.pending = undefined;
    if (message.type === 'result') pending.resolve(JSON.parse(message.payload) as unknown);
    else pending.reject(namedError(message.error));
  }

  private fail(error: ErrorDescription): void {
    this.dead = true;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(namedError(error));
  }
}

export function createLocalLambda(options: LocalLambdaOptions): LocalLambda {
  const byKey = new Map(options.functions.map((fn) => [fn.key, fn]));
  const containers = new Set<Container>();
  const write = options.onOutput ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const idleMs = (options.idleSeconds ?? 120) * 1000;
  let stopped = false;

  const reaper = setInterval(() => {
    for (const container of containers) {
      if (!container.busy && Date.now() - container.idleSince > idleMs) {
        containers.delete(container);
        void container.kill();
      }
    }
  }, Math.min(idleMs, 30_000));
  reaper.unref();

  return {
    async invoke(key, event) {
      const fn = byKey.get(key);
      if (!fn) throw namedError({ name: 'Lambda.ResourceNotFoundException', message: `Function not found: ${key}` });
      if (stopped) throw namedError({ name: 'Lambda.ServiceException', message: 'the local Lambda runner is stopped' });
      let container = [...containers].find((c) => c.fn === fn && !c.busy && !c.dead);
      if (!container) {
        const module = fn.bundle && options.useBundles?.() ? fn.bundle : fn.module;
        container = new Container(fn, options.env, (line) => write(line, fn), module);
        containers.add(container);
      }
      container.busy = true;
      try {
        return await container.run(event);
      } finally {
        container.busy = false;
        container.idleSince = Date.now();
        if (container.dead) containers.delete(container);
      }
    },
    async stop() {
      stopped = true;
      clearInterval(reaper);
      const all = [...containers];
      containers.clear();
      await Promise.all(all.map((container) => container.kill()));
    },
  };
}
