/**
 * The inside of one local Lambda "container": a worker thread that loads one handler module
 * (its module-level singletons, such as the pg pool, live as long as the worker, as in a warm
 * Lambda) and runs one invocation at a time. The runner (runner.ts) ends it at the timeout.
 * Messages: protocol.ts.
 *
 * Plain JavaScript so that a bundled handler (.mjs, as Lambda runs it) loads natively: with tsx
 * registered, tsx transforms the 5 MB bundle too, and the container took ~400 MB and 4-5 s to
 * start instead of ~15 MB. A TypeScript handler (the tests' in-repository path) registers tsx
 * first: Node cannot load .ts by itself and a worker does not reliably inherit the loader of a
 * vitest or tsx parent.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

/** @type {import('./protocol.ts').WorkerInit} */
const init = workerData;
const port = parentPort;
/** @param {import('./protocol.ts').FromWorker} message */
const send = (message) => port.postMessage(message);

/** Lambda reports `errorType` = error.name and `errorMessage`; the ASL's Retry/Catch match the name. */
function describeError(error) {
  if (error instanceof Error) return { name: error.name || 'Error', message: error.message };
  return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) };
}

let handler;
try {
  if (init.module.endsWith('.ts')) (await import('tsx/esm/api')).register();
  const loaded = await import(pathToFileURL(init.module).href);
  const candidate = loaded[init.exportName];
  if (typeof candidate !== 'function') throw Object.assign(new Error(`${init.module} has no function export "${init.exportName}"`), { name: 'Runtime.HandlerNotFound' });
  handler = candidate;
  send({ type: 'ready' });
} catch (error) {
  // An init failure (a bad setting makes config.ts throw at import) fails the invocation with its own name.
  send({ type: 'init-error', error: describeError(error) });
}

port.on('message', (/** @type {import('./protocol.ts').ToWorker} */ message) => {
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
    (error) => send({ type: 'error', id: message.id, error: describeError(error) }),
  );
});
