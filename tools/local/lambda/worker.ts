/**
 * The inside of one local Lambda "container": a worker thread that loads one handler module
 * (its module-level singletons, such as the pg pool, live as long as the worker, as in a warm
 * Lambda) and runs one invocation at a time. The runner (runner.ts) ends it at the timeout.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (message: FromWorker) => port.postMessage(message);

/** Lambda reports `errorType` = error.name and `errorMessage`; the ASL's Retry/Catch match the name. */
function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name || 'Error', message: error.message };
  return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) };
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

let handler: Handler;
try {
  const loaded = (await import(pathToFileURL(init.module).href)) as Record<string, unknown>;
  const candidate = loaded[init.exportName];
  if (typeof candidate !== 'function') throw Object.assign(new Error(`${init.module} has no function export "${init.exportName}"`), { name: 'Runtime.HandlerNotFound' });
  handler = candidate as Handler;
  send({ type: 'ready' });
} catch (error) {
  // An init failure (a bad setting makes config.ts throw at import) fails the invocation with its own name.
  send({ type: 'init-error', error: describeError(error) });
}

port.on('message', (message: ToWorker) => {
  const deadline = Date.now() + message.timeoutMs;
  const context = {
    functionName: init.functionName,
    functionVersion: '$LATEST',
    awsRequestId: randomUUID(),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  handler(message.event, context).then(
    // A Lambda payload is JSON: undefined becomes null, Dates become strings.
    (result) => send({ type: 'result', id: message.id, payload: JSON.stringify(result ?? null) }),
    (error: unknown) => send({ type: 'error', id: message.id, error: describeError(error) }),
  );
});
