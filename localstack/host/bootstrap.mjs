/**
 * One Lambda execution environment as a host process (LocalStack host mode; started by the
 * etl-host executor, localstack/host/executor/). Speaks the environment's side of LocalStack's
 * ExecutorEndpoint protocol, as lambda-runtime-init does in a container:
 *
 *   init:   load the handler (_HANDLER) from the unzipped deployment package (LAMBDA_TASK_ROOT),
 *           then POST <LOCALSTACK_RUNTIME_ENDPOINT>/status/<id>/ready, or /status/<id>/error
 *   invoke: LocalStack POSTs {"invoke-id", "invoked-function-arn", "payload", "trace-id"} to
 *           http://127.0.0.1:<ETL_HOST_RUNTIME_PORT>/invoke; the handler's output and the
 *           invocation's logs go back to <endpoint>/invocations/<invoke-id>/logs, then /response
 *           or /error (`{"errorType", "errorMessage", "trace"}`, as the Node.js runtime reports).
 *
 * The function timeout is enforced by the executor (it kills this process): a handler that
 * blocks the event loop could not time itself out.
 */
/* global console, fetch */
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { register } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const env = process.env;
const runtimeEndpoint = env.LOCALSTACK_RUNTIME_ENDPOINT;
const runtimeId = env.LOCALSTACK_RUNTIME_ID;
const port = Number(env.ETL_HOST_RUNTIME_PORT);
const taskRoot = env.LAMBDA_TASK_ROOT;
const timeoutMs = Number(env.AWS_LAMBDA_FUNCTION_TIMEOUT ?? 3) * 1000;

// The Lambda Node.js runtime provides AWS SDK v3 (the bundles leave @aws-sdk/* out): resolve
// those, and only those, from the project's node_modules.
register('./resolve-runtime-packages.mjs', import.meta.url, { data: { modulesRoot: env.ETL_LAMBDA_MODULES_ROOT } });

async function post(route, body) {
  const response = await fetch(`${runtimeEndpoint}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  if (!response.ok && response.status !== 202) throw new Error(`LocalStack answered ${response.status} to ${route}`);
}

const errorPayload = (error, fallbackType = 'Error') => {
  const details = error instanceof Error ? error : new Error(String(error));
  return { errorType: details.name || fallbackType, errorMessage: details.message, trace: (details.stack ?? '').split('\n') };
};

/** `functions/http/health.handler` -> the `handler` export of functions/http/health.{mjs,js,cjs}. */
async function loadHandler() {
  const spec = env._HANDLER ?? '';
  const dot = spec.lastIndexOf('.');
  if (dot <= 0) throw Object.assign(new Error(`bad handler "${spec}"`), { name: 'Runtime.MalformedHandlerName' });
  const base = path.resolve(taskRoot, spec.slice(0, dot));
  const file = ['.mjs', '.js', '.cjs'].map((extension) => base + extension).find((candidate) => existsSync(candidate));
  if (!file) throw Object.assign(new Error(`Cannot find module '${spec.slice(0, dot)}' in ${taskRoot}`), { name: 'Runtime.ImportModuleError' });
  const module = await import(pathToFileURL(file).href);
  const handler = module[spec.slice(dot + 1)] ?? module.default?.[spec.slice(dot + 1)];
  if (typeof handler !== 'function') throw Object.assign(new Error(`${spec} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  return handler;
}

// The invocation's output is teed into its logs (LocalStack stores them in CloudWatch Logs).
let current;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    current?.logs.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return write(chunk, ...rest);
  };
}

async function finish(invocation, outcome, body) {
  if (invocation.finished) return;
  invocation.finished = true;
  const id = invocation.id;
  if (current === invocation) current = undefined;
  await post(`/invocations/${id}/logs`, { logs: invocation.logs.join('') }).catch(() => undefined);
  await post(`/invocations/${id}/${outcome}`, body);
}

async function invoke(request, handler) {
  const invocation = { id: request['invoke-id'], logs: [], finished: false };
  current = invocation;
  const deadline = Date.now() + timeoutMs;
  env._X_AMZN_TRACE_ID = request['trace-id'] ?? '';
  const context = {
    awsRequestId: invocation.id,
    invokedFunctionArn: request['invoked-function-arn'],
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const event = JSON.parse(request.payload || 'null');
    const result =
      handler.length >= 3
        ? await new Promise((resolve, reject) => {
            const outcome = handler(event, context, (error, value) => (error ? reject(error) : resolve(value)));
            if (outcome && typeof outcome.then === 'function') outcome.then(resolve, reject);
          })
        : await handler(event, context);
    await finish(invocation, 'response', JSON.stringify(result ?? null));
  } catch (error) {
    await finish(invocation, 'error', errorPayload(error));
  }
}

// As the Node.js runtime: an error that escapes the handler fails the invocation and ends the
// environment (the executor starts a fresh process for the next invocation).
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    console.error(`${event}:`, error);
    const invocation = current;
    const report = invocation ? finish(invocation, 'error', errorPayload(error, 'Runtime.UnhandledPromiseRejection')) : Promise.resolve();
    void report.catch(() => undefined).finally(() => process.exit(129));
  });
}

let handler;
try {
  handler = await loadHandler();
} catch (error) {
  console.error('init failed:', error);
  await post(`/status/${runtimeId}/error`, errorPayload(error, 'Runtime.ImportModuleError')).catch(() => undefined);
  process.exit(1);
}

const server = http.createServer((request, response) => {
  if (request.method !== 'POST' || request.url !== '/invoke') {
    response.writeHead(404).end();
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      response.writeHead(400).end();
      return;
    }
    response.writeHead(202).end();
    void invoke(body, handler).catch((error) => console.error('could not report the invocation result:', error));
  });
});
server.listen(port, '127.0.0.1', () => {
  post(`/status/${runtimeId}/ready`, '{}').catch((error) => {
    console.error('could not report ready:', error);
    process.exit(1);
  });
});
