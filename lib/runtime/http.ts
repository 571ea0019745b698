/**
 * The middy preset of every HTTP handler: API key check, JSON body parsing, one table mapping
 * errors to statuses, JSON responses. 5xx bodies never carry internal messages.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ConflictError, NotFoundError, UpstreamUnavailableError, ValidationError } from '../core/errors.ts';
import { MAX_BODY_BYTES, describeBytes } from '../core/limits.ts';
import { config } from './config.ts';
import { logger } from './logger-instance.ts';

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

const statusOf: [new (...args: never[]) => Error, number, string][] = [
  [ValidationError, 400, 'validation_error'],
  [UnauthorizedError, 401, 'unauthorized'],
  [ForbiddenError, 403, 'forbidden'],
  [NotFoundError, 404, 'not_found'],
  [ConflictError, 409, 'conflict'],
  [PayloadTooLargeError, 413, 'payload_too_large'],
  [UpstreamUnavailableError, 503, 'upstream_unavailable'],
];

export function errorResponse(error: unknown): APIGatewayProxyResult {
  const match = statusOf.find(([type]) => error instanceof type);
  if (match) return json(match[1], { error: { code: match[2], message: (error as Error).message } });
  logger.error('unhandled error in HTTP handler', { error });
  return json(500, { error: { code: 'internal_error', message: 'internal error' } });
}

function json(status: number, body: unknown): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'application/json' }, body: body === undefined ? '' : JSON.stringify(body) };
}

export interface HttpHandlerOptions {
  /** Only /health is public; every other route requires the API key when one is configured. */
  public?: boolean;
}

export function httpHandler(work: (request: HttpRequest) => Promise<HttpResult>, options: HttpHandlerOptions = {}) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>().handler(async (event) => {
    try {
      if (!options.public) checkApiKey(event);
      const result = await work({ body: parseBody(event), params: clean(event.pathParameters), query: clean(event.queryStringParameters) });
      return json(result.status, result.body);
    } catch (error) {
      return errorResponse(error);
    }
  });
}

function checkApiKey(event: APIGatewayProxyEvent): void {
  if (!config.apiKey) return;
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'x-api-key')?.[1];
  if (header === undefined || header === '') throw new UnauthorizedError('this API needs the x-api-key header');
  if (header !== config.apiKey) throw new ForbiddenError('the x-api-key header is not valid');
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
