/**
 * The middy preset of every HTTP handler: API key check, JSON body parsing, one table mapping
 * errors to statuses, JSON responses. 5xx bodies never carry internal messages.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ConflictError, ConnectionLostError, DependencyUnavailableError, NotFoundError, UpstreamUnavailableError, ValidationError } from '../core/errors.ts';
import { MAX_BODY_BYTES, describeBytes } from '../core/limits.ts';
import { config } from './config.ts';
import { logger, observability } from './logger-instance.ts';
import { lambdaHandler } from './observability.ts';

export class UnauthorizedError extends Error {
  override readonly name = 'UnauthorizedError';
}

export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

export interface HttpRequest {
  body: unknown;
  params: Record<string, string>;
  query: Record<string, string>;
}

export interface HttpResult {
  status: number;
  body?: unknown;
}

/**
 * The one table from errors to statuses. A fourth element is the fixed message of a 5xx whose
 * own message may carry internals (hosts, SDK or driver text); without it the error's message is
 * shown (4xx messages and the health check's verdict are written to be shown).
 */
const statusOf: [new (...args: never[]) => Error, number, string, string?][] = [
  [ValidationError, 400, 'validation_error'],
  [UnauthorizedError, 401, 'unauthorized'],
  [ForbiddenError, 403, 'forbidden'],
  [NotFoundError, 404, 'not_found'],
  [ConflictError, 409, 'conflict'],
  [PayloadTooLargeError, 413, 'payload_too_large'],
  [DependencyUnavailableError, 503, 'unavailable'],
  [ConnectionLostError, 503, 'unavailable', 'the database is unavailable; try again later'],
  [UpstreamUnavailableError, 503, 'upstream_unavailable', 'Step Functions is unavailable; try again later'],
];

/** What the log says about the request a 5xx answered. */
export interface RequestInfo {
  requestId?: string | undefined;
  method?: string | undefined;
  path?: string | undefined;
}

export function errorResponse(error: unknown, request: RequestInfo = {}): APIGatewayProxyResult {
  const [, status, code, fixed] = statusOf.find(([type]) => error instanceof type) ?? [Error, 500, 'internal_error', 'internal error'];
  const message = fixed ?? (error as Error).message;
  if (status < 500) return json(status, { error: { code, message } });
  // Every 5xx is logged once, here, with its request id and the whole cause chain.
  logger.error('request failed', { status, code, request_id: request.requestId, method: request.method, path: request.path, error });
  return json(status, { error: { code, message, ...(request.requestId ? { request_id: request.requestId } : {}) } });
}

function json(status: number, body: unknown): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'application/json' }, body: body === undefined ? '' : JSON.stringify(body) };
}

export interface HttpHandlerOptions {
  /** Only /health is public; every other route requires the API key when one is configured. */
  public?: boolean;
}

export function httpHandler(work: (request: HttpRequest) => Promise<HttpResult>, options: HttpHandlerOptions = {}) {
  return lambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>(observability).handler(async (event, context) => {
    try {
      if (!options.public) checkApiKey(event);
      const result = await work({ body: parseBody(event), params: clean(event.pathParameters), query: clean(event.queryStringParameters) });
      return json(result.status, result.body);
    } catch (error) {
      const requestId = (context as Partial<Context> | undefined)?.awsRequestId ?? event.requestContext?.requestId;
      return errorResponse(error, { requestId, method: event.httpMethod, path: event.path });
    }
  });
}

function checkApiKey(event: APIGatewayProxyEvent): void {
  if (!config.apiKey) return;
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'x-api-key')?.[1];
  if (header === undefined || header === '') throw new UnauthorizedError('this API needs the x-api-key header');
  if (!sameSecret(header, config.apiKey)) throw new ForbiddenError('the x-api-key header is not valid');
}

/**
 * Constant-time comparison: both sides are hashed first, so the buffers compared have equal
 * length and neither the time taken nor an early length check tells anything about the key.
 */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Measured before anything is decoded or parsed: API Gateway lets up to 10 MB through. */
function parseBody(event: APIGatewayProxyEvent): unknown {
  if (!event.body) return undefined;
  const bytes = event.isBase64Encoded ? Buffer.byteLength(event.body, 'base64') : Buffer.byteLength(event.body, 'utf8');
  if (bytes > MAX_BODY_BYTES) throw new PayloadTooLargeError(`body: the request body is ${bytes} bytes; the limit is ${describeBytes(MAX_BODY_BYTES)}`);
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('body: is not valid JSON', 'body');
  }
}

const clean = (values: Record<string, string | undefined> | null): Record<string, string> =>
  Object.fromEntries(Object.entries(values ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined));
