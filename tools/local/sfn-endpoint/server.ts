// HTTP side of the AWS JSON 1.0 protocol: POST / with `X-Amz-Target: AWSStepFunctions.<Action>`,
// JSON in and out, errors as {"__type": "<Name>", "message": "..."} (what the AWS SDK v3 and the CLI parse).

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Action, Body } from './actions.ts';
import { SfnApiError } from './errors.ts';
import type { EndpointLog } from './types.ts';

const TARGET_PREFIX = 'AWSStepFunctions.';
const MAX_BODY_BYTES = 1024 * 1024;
const CONTENT_TYPE = 'application/x-amz-json-1.0';

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const payload = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': randomUUID(),
  };
  if (errorType) headers['x-amzn-ErrorType'] = errorType;
  res.writeHead(status, headers);
  res.end(payload);
}

function sendError(res: ServerResponse, err: SfnApiError): void {
  send(res, err.statusCode, { __type: err.name, message: err.message }, err.name);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new SfnApiError('ValidationException', `Request body exceeds ${MAX_BODY_BYTES} bytes`, 413);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string): Body {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SfnApiError('SerializationException', 'The request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SfnApiError('SerializationException', 'The request body must be a JSON object');
  }
  return parsed as Body;
}

function resolveAction(req: IncomingMessage, actions: Record<string, Action>): Action {
  const header = req.headers['x-amz-target'];
  const target = Array.isArray(header) ? header[0] : header;
  const supported = Object.keys(actions).join(', ');
  if (!target || !target.startsWith(TARGET_PREFIX)) {
    throw new SfnApiError(
      'UnknownOperationException',
      `Missing or foreign X-Amz-Target '${target ?? ''}': this is a local Step Functions endpoint; expected ${TARGET_PREFIX}<Action> with one of: ${supported}`,
    );
  }
  const name = target.slice(TARGET_PREFIX.length);
  const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
  if (!action) {
    throw new SfnApiError('UnknownOperationException', `Operation ${name} is not supported by the local Step Functions endpoint; supported: ${supported}`);
  }
  return action;
}

async function handle(req: IncomingMessage, res: ServerResponse, actions: Record<string, Action>, info: () => unknown, log: EndpointLog): Promise<void> {
  try {
    if (req.method === 'GET' && (req.url === '/' || req.url === '')) {
      // A cheap liveness answer for scripts and people with a browser.
      send(res, 200, info());
      return;
    }
    if (req.method !== 'POST') throw new SfnApiError('UnknownOperationException', `Use POST / with ${TARGET_PREFIX}<Action>`, 405);
    const body = await readBody(req);
    const action = resolveAction(req, actions);
    send(res, 200, await action(parseBody(body)));
  } catch (err) {
    if (err instanceof SfnApiError) {
      sendError(res, err);
      return;
    }
    log({ event: 'sfn_endpoint.internal_error', target: req.headers['x-amz-target'], message: err instanceof Error ? err.stack : String(err) });
    sendError(res, new SfnApiError('InternalFailure', err instanceof Error ? err.message : String(err), 500));
  }
}

export function createSfnServer(actions: Record<string, Action>, info: () => unknown, log: EndpointLog): Server {
  return createServer((req, res) => {
    handle(req, res, actions, info, log).catch((err: unknown) => {
      // Only reached when writing the response itself failed (client gone).
      log({ event: 'sfn_endpoint.response_error', message: String(err) });
      res.destroy();
    });
  });
}

/** Listens and resolves with the bound port (port 0 picks a free one). */
export async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`Local Step Functions endpoint cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('Local Step Functions endpoint has no TCP address');
  return address.port;
}

export async function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
