/**
 * GET /health and 5xx logging, through the real handler (the module serverless-offline and Lambda
 * load) against a throw-away embedded PostgreSQL cluster that is put into a smart shutdown and
 * then stopped: 200 while it accepts sessions, 503 with the reason while it refuses new ones
 * (57P03) and once it is unreachable; each 5xx logged once with its request id and cause.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type RunningPostgres } from '../../tools/local/embedded-postgres.ts';
import { freePort, isAlive } from '../../tools/local/processes.ts';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const event = (requestId: string) => ({ httpMethod: 'GET', path: '/health', headers: {}, body: null, pathParameters: null, queryStringParameters: null, requestContext: { requestId } }) as unknown as APIGatewayProxyEvent;
const context = (requestId: string) => ({ awsRequestId: requestId }) as Context;

describe('GET /health against a database that goes away', () => {
  let root: string;
  let server: RunningPostgres | undefined;
  let health: Handler;
  let postmaster: number;
  const logged: Record<string, unknown>[] = [];
  const write = process.stderr.write.bind(process.stderr);

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'etl-health-'));
    const dataDir = path.join(root, 'data');
    server = await startEmbeddedPostgres({ dataDir, port: await freePort(), durable: false });
    await server.ensureDatabase('etl');
    postmaster = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    // The handler reads its configuration once, at import (as in a Lambda container).
    process.env.DATABASE_URL = server.urlFor('etl');
    process.env.LOG_LEVEL = 'info';
    health = (await import('../../functions/http/health.ts')).handler;
    // The runtime logger writes JSON lines to stderr: keep a copy of them.
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      for (const line of String(chunk).split('\n').filter((l) => l.startsWith('{'))) logged.push(JSON.parse(line) as Record<string, unknown>);
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    });
  });

  afterAll(async () => {
    process.stderr.write = write;
    // The tests shut the server down themselves; stop() is only for a run that failed before that.
    if (postmaster && isAlive(postmaster)) await server?.stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  it('answers 200 {"status":"ok"} while the state database accepts sessions', async () => {
    const response = await health(event('req-ok'), context('req-ok'));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: 'ok' });
  });

  it('answers 503 naming 57P03 while the database is in a smart shutdown (open sessions go on, new ones are refused), and logs it with the request id', async () => {
    const open = new pg.Client({ connectionString: server!.urlFor('etl') });
    await open.connect();
    try {
      process.kill(postmaster, 'SIGTERM'); // smart shutdown: waits for `open` to end
      const deadline = Date.now() + 10_000;
      let response = await health(event('req-smart'), context('req-smart'));
      while (response.statusCode === 200 && Date.now() < deadline) response = await health(event('req-smart'), context('req-smart'));
      expect(response.statusCode).toBe(503);
      expect(JSON.parse(response.body)).toEqual({
        error: { code: 'unavailable', message: 'the state database refuses connections: it is shutting down or starting up (SQLSTATE 57P03)', request_id: 'req-smart' },
      });
      expect((await open.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      const line = logged.find((l) => l.request_id === 'req-smart');
      expect(line).toMatchObject({ level: 'ERROR', message: 'request failed', function_request_id: 'req-smart', status: 503, method: 'GET', path: '/health', error: { name: 'DependencyUnavailableError', cause: { code: '57P03' } } });
    } finally {
      await open.end();
    }
  });

  it('answers 503 "unreachable" once the database has stopped, without a host or port in the body', async () => {
    const deadline = Date.now() + 10_000;
    while (isAlive(postmaster) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const response = await health(event('req-down'), context('req-down'));
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'unavailable', message: 'the state database is unreachable', request_id: 'req-down' } });
    expect(logged.find((l) => l.request_id === 'req-down')).toMatchObject({ status: 503, error: { cause: { code: 'ECONNREFUSED' } } });
  });
});
