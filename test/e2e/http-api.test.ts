/**
 * The local stack started as `npm start` starts it (serverless-offline, the local Step Functions
 * endpoint, the real definition), driven through the HTTP API as a user would.
 */
import { readFile } from 'node:fs/promises';
import { ListExecutionsCommand, StartExecutionCommand, StopExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, PAGE_BUDGET_BYTES } from '../../lib/core/limits.ts';
import type { ApiClient } from '../../tools/local/api-client.ts';
import type { LocalStack } from '../../tools/local/stack.ts';
import type { TestDatabase } from '../support/database.ts';
import { FILM_DIM_QUERY, filmDimFull, filmDimIncremental, targetDiff } from '../support/film-dim.ts';
import { startLocalStackUnderTest, type LocalStackUnderTest } from '../support/local-stack.ts';

const API_KEY = 'e2e-secret-key';

/** Local addresses (ip:port, hex as the kernel lists them) of the listening TCP sockets on `port`. */
async function listeners(port: number): Promise<string[]> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((file) => readFile(file, 'utf8').catch(() => '')));
  return tables
    .flatMap((table) => table.split('\n').slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(`:${hexPort}`))
    .map((fields) => fields[1]!);
}

describe('HTTP API of the local stack', () => {
  let db: TestDatabase;
  let stack: LocalStack;
  let api: ApiClient;
  let sfn: SFNClient;
  let local: LocalStackUnderTest | undefined;
  const apiOutput: string[] = [];

  beforeAll(async () => {
    local = await startLocalStackUnderTest({ films: 400, apiKey: API_KEY, onApiOutput: (line) => apiOutput.push(line) });
    ({ db, stack, api, sfn } = local);
  }, 180_000);

  afterAll(() => local?.stop());

  it('answers /health without an API key', async () => {
    const response = await fetch(`${stack.apiUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('refuses every other route without the key (401) or with a wrong one (403)', async () => {
    const missing = await fetch(`${stack.apiUrl}/pipelines`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const wrong = await fetch(`${stack.apiUrl}/pipelines/00000000-0000-0000-0000-000000000000/run`, { method: 'POST', headers: { 'x-api-key': 'nope' } });
    expect(wrong.status).toBe(403);
  });

  it.each([
    [{ mode: 'full', source: { query: 'SELECT 1' }, target: { type: 'postgres', table: 't', key: ['id'] } }, 'name: required'],
    [{ name: 'bad', mode: 'sideways', source: { query: 'SELECT 1' }, target: { type: 'postgres', table: 't', key: ['id'] } }, 'mode:'],
    [{ name: 'bad', mode: 'full', batch_size: 0, source: { query: 'SELECT 1' }, target: { type: 'postgres', table: 't', key: ['id'] } }, 'batch_size: must be at least 1'],
    [{ name: 'bad', mode: 'full', batch_size: 10_000_000, source: { query: 'SELECT 1' }, target: { type: 'postgres', table: 't', key: ['id'] } }, 'batch_size: must be at most'],
    [{ name: 'bad', mode: 'full', source: { query: 'SELECT 1' }, target: { type: 'postgres', table: 'x; DROP TABLE y', key: ['id'] } }, 'target.table:'],
    [{ name: 'bad', mode: 'full', source: { query: 'SELECT 1' }, target: { type: 'postgres', table: 't', key: [] } }, 'target.key:'],
    [{ name: 'bad', mode: 'incremental', source: { query: 'SELECT 1' }, target: { type: 'postgres', table: 't', key: ['id'] } }, 'source.incremental_key: required in incremental mode'],
    [{ name: 'bad', mode: 'full', colour: 'red', source: { query: 'SELECT 1' }, target: { type: 'postgres', table: 't', key: ['id'] } }, 'colour: unknown field'],
    [{ name: 'bad', mode: 'incremental', source: { query: 'SELECT 1', incremental_key: 'm', incremental_id_key: 'id' }, target: { type: 'postgres', table: 't', key: ['id'], delete_missing: true } }, 'target.delete_missing: only in full mode'],
    [{ name: 'bad', mode: 'full', source: { query: 'SELECT 1', deleted_flag: 'is deleted' }, target: { type: 'postgres', table: 't', key: ['id'] } }, 'source.deleted_flag: must be a SQL identifier'],
  ])('rejects a bad body with 400 naming the field (%#)', async (body, message) => {
    const response = await fetch(`${stack.apiUrl}/pipelines`, { method: 'POST', headers: { 'x-api-key': API_KEY }, body: JSON.stringify(body) });
    expect(response.status).toBe(400);
    const payload = (await response.json()) as { error: { code: string; message: string } };
    expect(payload.error.code).toBe('validation_error');
    expect(payload.error.message).toContain(message);
  });

  it('rejects a body that is not JSON with 400', async () => {
    const response = await fetch(`${stack.apiUrl}/pipelines`, { method: 'POST', headers: { 'x-api-key': API_KEY }, body: '{"name": ' });
    expect(response.status).toBe(400);
  });

  it('manages a pipeline: create, list, get, change, delete; 404 for unknown ids', async () => {
    const created = await api.createPipeline({ ...filmDimFull(50), name: 'crud' });
    expect(created).toMatchObject({ name: 'crud', status: 'IDLE', batch_size: 50 });
    await expect(api.createPipeline({ ...filmDimFull(50), name: 'crud' })).rejects.toMatchObject({ status: 409 });
    expect((await api.listPipelines()).map((p) => p.name)).toContain('crud');
    expect(await api.getPipeline(created.id)).toMatchObject({ id: created.id, last_run: null });
    expect(await api.updatePipeline(created.id, { batch_size: 75 })).toMatchObject({ batch_size: 75 });
    await api.deletePipeline(created.id);
    await expect(api.getPipeline(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(api.run('not-a-uuid')).rejects.toMatchObject({ status: 404 });
  });

  it('runs a full load to the end; the target equals the source', async () => {
    await db.pool.query('TRUNCATE analytics.film_dim');
    const pipeline = await api.createPipeline({ ...filmDimFull(64), name: 'e2e_full' });
    const accepted = await api.run(pipeline.id);
    expect(accepted).toMatchObject({ status: 'RUN_REQUESTED', execution_arn: expect.stringContaining(':execution:') as unknown });
    const run = await api.waitForRun(pipeline.id, accepted.run_id, { timeoutMs: 60_000 });
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 400, rows_written: 400, batches: 7 });
    expect(await targetDiff(db.pool)).toEqual({ missing: 0, extra: 0, targetRows: 400, sourceRows: 400 });
    expect((await api.listRuns(pipeline.id))[0]?.id).toBe(accepted.run_id);
  });

  it('starts exactly one execution when 20 run requests arrive at once; the others get 409', async () => {
    // Slow enough (pg_sleep per row) that the run cannot finish while the requests arrive:
    // serverless-offline serves one request of a function at a time.
    const slow = filmDimIncremental(50);
    // 5 s a batch, 40 s in all: far longer than the requests take even on a loaded machine.
    const query = `SELECT q.* FROM (${slow.source.query}) q CROSS JOIN LATERAL (SELECT pg_sleep(0.1 + 0 * length(q.title))) s`;
    const pipeline = await api.createPipeline({ ...slow, name: 'e2e_race', source: { ...slow.source, query } });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => api.run(pipeline.id)));
    const accepted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(accepted).toHaveLength(1);
    expect(refused.map((r) => (r.reason as { status: number }).status)).toEqual(Array(19).fill(409));
    const runId = (accepted[0] as PromiseFulfilledResult<{ run_id: string }>).value.run_id;
    expect((await api.getRun(pipeline.id, runId)).status).toBe('RUNNING');
    await api.pause(pipeline.id);
    expect(await api.waitForRun(pipeline.id, runId, { timeoutMs: 60_000 })).toMatchObject({ status: 'PAUSED' });
    const executions = await sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn, maxResults: 1000 }));
    expect((executions.executions ?? []).filter((e) => e.name?.startsWith(runId))).toHaveLength(1);
  });

  it('lists the connections without secrets, and refuses an unknown one with 400 naming the field', async () => {
    const connections = await api.connections();
    expect(connections.map((c) => [c.name, c.ok])).toEqual([['default', true]]);
    expect(JSON.stringify(connections)).not.toMatch(/password|postgres:\/\//);
    const body = { ...filmDimFull(50), name: 'e2e_unknown_connection', source: { ...filmDimFull(50).source, connection: 'warehouse' } };
    await expect(api.createPipeline(body)).rejects.toMatchObject({ status: 400, message: '400 validation_error: source.connection: unknown connection "warehouse" (known: default)' });
    const unauthorised = await fetch(`${stack.apiUrl}/connections`);
    expect(unauthorised.status).toBe(401);
  });

  it('resets and previews a pipeline over HTTP; creation answers with its warnings', async () => {
    const created = await api.createPipeline({ ...filmDimFull(5), name: 'e2e_reset_preview' });
    expect((created as unknown as { warnings: string[] }).warnings).toEqual([]);
    const before = (await targetDiff(db.pool)).targetRows;
    const preview = await api.preview(created.id);
    expect(preview.columns?.map((c) => c.name)).toEqual(['film_id', 'title', 'description', 'rating', 'type', 'creation_date', 'modified', 'genres', 'actors', 'directors', 'writers']);
    expect(preview.rows).toHaveLength(5);
    expect((await targetDiff(db.pool)).targetRows).toBe(before); // a preview writes nothing
    expect(await api.reset(created.id)).toMatchObject({ id: created.id, status: 'IDLE' });
    await expect(api.reset('00000000-0000-0000-0000-000000000000')).rejects.toMatchObject({ status: 404 });
    await expect(api.preview('00000000-0000-0000-0000-000000000000')).rejects.toMatchObject({ status: 404 });
  });

  it('answers 409 to pause when the pipeline is not running', async () => {
    const pipeline = await api.createPipeline({ ...filmDimFull(50), name: 'e2e_idle' });
    await expect(api.pause(pipeline.id)).rejects.toMatchObject({ status: 409 });
  });

  it('runs a pipeline from an execution started with only pipeline_id (aws stepfunctions start-execution)', async () => {
    const pipeline = await api.createPipeline({ ...filmDimFull(100), name: 'e2e_cli' });
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, input: JSON.stringify({ pipeline_id: pipeline.id }) }));
    expect(started.executionArn).toBeDefined();
    const deadline = Date.now() + 60_000;
    let runs = await api.listRuns(pipeline.id);
    while ((runs[0]?.status ?? 'RUNNING') === 'RUNNING' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      runs = await api.listRuns(pipeline.id);
    }
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'SUCCEEDED', rows_read: 400, execution_arn: started.executionArn });
  });

  it('shows a run whose execution was stopped from outside as FAILED with the stop error', async () => {
    const slow = filmDimIncremental(20);
    const query = `SELECT q.* FROM (${slow.source.query}) q CROSS JOIN LATERAL (SELECT pg_sleep(0.02 + 0 * length(q.title))) s`;
    const pipeline = await api.createPipeline({ ...slow, name: 'e2e_stopped', source: { ...slow.source, query } });
    const accepted = await api.run(pipeline.id);
    await sfn.send(new StopExecutionCommand({ executionArn: accepted.execution_arn, error: 'Operator.Stopped', cause: 'stopped by the e2e test' }));
    const read = await api.getPipeline(pipeline.id);
    expect(read).toMatchObject({ status: 'FAILED', last_run: { id: accepted.run_id, status: 'FAILED', error: { name: 'Operator.Stopped' } } });
    expect(read.last_run?.error?.message).toContain('stopped by the e2e test');
  });

  it("refuses Lambda invokes on the local Lambda port without the API key (401) or with a wrong one (403), and serves them with it", async () => {
    const url = `${stack.lambdaUrl}/2015-03-31/functions/etl-local-failRun/invocations`;
    const body = JSON.stringify({ state: { pipeline_id: '00000000-0000-4000-8000-000000000000', run_id: '00000000-0000-4000-8000-000000000000' }, execution_name: 'x', execution_arn: 'x' });
    const anonymous = await fetch(url, { method: 'POST', body });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('x-amzn-errortype')).toBe('UnrecognizedClientException');
    expect((await fetch(url, { method: 'POST', body, headers: { 'x-api-key': 'nope' } })).status).toBe(403);

    // With the key: the Lambda Invoke API as the AWS SDK and CLI call it.
    const health = await fetch(`${stack.lambdaUrl}/2015-03-31/functions/etl-local-health/invocations`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY },
      body: JSON.stringify({ httpMethod: 'GET', path: '/health', headers: {} }),
    });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ statusCode: 200, body: '{"status":"ok"}' });
  });

  it('listens on 127.0.0.1 only: the HTTP API, the Lambda port and the Step Functions endpoint', async () => {
    const loopback = '0100007F'; // 127.0.0.1 as /proc/net/tcp writes it
    for (const url of [stack.apiUrl, stack.lambdaUrl, stack.sfnUrl]) {
      const port = Number(new URL(url).port);
      expect(new URL(url).hostname).toBe('127.0.0.1');
      expect(await listeners(port), url).toEqual([`${loopback}:${port.toString(16).toUpperCase().padStart(4, '0')}`]);
    }
  });

  it("shows the API's own logs and its handlers' logs as JSON lines in the stack's stream", () => {
    const lines = apiOutput.map((line) => JSON.parse(line) as { service?: string; message?: string; level?: string });
    expect(lines.every((line) => typeof line.message === 'string' && typeof line.level === 'string')).toBe(true);
    // A handler's own log line (POST /pipelines/{id}/run logs 'run requested') and serverless-offline's banner.
    expect(lines).toContainEqual(expect.objectContaining({ service: 'etl', message: 'run requested' }));
    expect(lines.some((line) => line.service === 'etl-api' && /listening on/i.test(line.message ?? ''))).toBe(true);
  });

  describe('size limits and pages', () => {
    const post = (body: string) => fetch(`${stack.apiUrl}/pipelines`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body });
    const get = async (path: string) => {
      const response = await fetch(`${stack.apiUrl}${path}`, { headers: { 'x-api-key': API_KEY } });
      return { status: response.status, text: await response.text() };
    };
    /** A valid pipeline body with a mapping of about `bytes` bytes. */
    const withMapping = (name: string, bytes: number) =>
      JSON.stringify({ name, mode: 'full', source: { query: 'SELECT 1 AS id' }, target: { type: 'elasticsearch', index: 'big', id_field: 'id', mapping: { _meta: { note: 'x'.repeat(bytes) } } } });

    it.each([
      ['just over the 1 MiB limit', MAX_BODY_BYTES + 1],
      ['of 4.6 MB, a mapping the API used to store', 4_600_000],
      ['of 10 MB, what API Gateway lets through', 10_000_000],
    ])('answers 413 payload_too_large, naming the limit, to a body %s', async (_, bytes) => {
      const body = withMapping('e2e_too_large', bytes - withMapping('e2e_too_large', 0).length);
      expect(Buffer.byteLength(body)).toBe(bytes);
      const response = await post(body);
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ error: { code: 'payload_too_large', message: `body: the request body is ${bytes} bytes; the limit is 1048576 bytes (1 MiB)` } });
    });

    it('answers 400 naming the field and its limit to a mapping over 64 KiB in a body under 1 MiB', async () => {
      const response = await post(withMapping('e2e_big_mapping', 900_000));
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('validation_error');
      expect(error.message).toMatch(/^target\.mapping: is \d+ bytes as JSON; the limit is 65536 bytes \(64 KiB\)$/);
      expect((await api.listPipelines()).map((p) => p.name)).not.toContain('e2e_big_mapping');
    });

    it('pages GET /pipelines in name order with limit, after and next, every pipeline once', async () => {
      for (const name of ['e2e_page_c', 'e2e_page_a', 'e2e_page_e', 'e2e_page_b', 'e2e_page_d']) await api.createPipeline({ ...filmDimFull(50), name });
      const names: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page: { pipelines: { name: string }[]; next: string | null } = await api.pipelinesPage({ limit: 2, after });
        expect(page.pipelines.length).toBeLessThanOrEqual(2);
        names.push(...page.pipelines.map((p) => p.name));
        after = page.next;
        pages++;
      } while (after);
      const all = await api.pipelinesPage({ limit: 200 });
      expect(all.next).toBeNull();
      expect(names).toEqual(all.pipelines.map((p) => p.name));
      expect(new Set(names).size).toBe(names.length);
      expect(names.filter((n) => n.startsWith('e2e_page_'))).toEqual(['e2e_page_a', 'e2e_page_b', 'e2e_page_c', 'e2e_page_d', 'e2e_page_e']);
      expect(pages).toBe(Math.ceil(names.length / 2));
      const first = JSON.parse((await get('/pipelines')).text) as object;
      expect(Object.keys(first).sort()).toEqual(['next', 'pipelines']);
    });

    it.each([
      ['/pipelines?limit=0', 'limit: must be an integer from 1 to 200'],
      ['/pipelines?limit=201', 'limit: must be an integer from 1 to 200'],
      ['/pipelines?limit=abc', 'limit: must be an integer from 1 to 200'],
      ['/pipelines?after=not-a-cursor', 'after: not a cursor of this list'],
      ['/pipelines/00000000-0000-0000-0000-000000000000/runs?limit=501', 'limit: must be an integer from 1 to 500'],
    ])('answers 400 naming the parameter to GET %s', async (path, message) => {
      const { status, text } = await get(path);
      expect(status).toBe(400);
      expect((JSON.parse(text) as { error: { message: string } }).error.message).toContain(message);
    });

    it('ends a page of large pipelines early, within the byte budget, and still lists every one', async () => {
      // About 197 KB each (two-byte characters): at most 10 fit in a page's 2 MiB.
      const query = `${FILM_DIM_QUERY} WHERE fw.title <> '${'é'.repeat(98_000)}'`;
      for (let i = 1; i <= 12; i++) await api.createPipeline({ ...filmDimFull(50), name: `e2e_wide_${String(i).padStart(2, '0')}`, source: { query } });
      const names: string[] = [];
      let after: string | null = null;
      let shortPages = 0;
      do {
        const { status, text } = await get(`/pipelines?limit=200${after ? `&after=${after}` : ''}`);
        expect(status).toBe(200);
        expect(Buffer.byteLength(text)).toBeLessThanOrEqual(PAGE_BUDGET_BYTES + 1024);
        const page = JSON.parse(text) as { pipelines: { name: string }[]; next: string | null };
        if (page.next && page.pipelines.length < 200) shortPages++;
        names.push(...page.pipelines.map((p) => p.name));
        after = page.next;
      } while (after);
      expect(shortPages).toBeGreaterThan(0);
      expect(names.filter((n) => n.startsWith('e2e_wide_'))).toHaveLength(12);
      expect(new Set(names).size).toBe(names.length);
    });

    it('pages GET /pipelines/{id}/runs newest first with limit, after and next', async () => {
      const pipeline = await api.createPipeline({ ...filmDimFull(400), name: 'e2e_run_pages' });
      const requested: string[] = [];
      for (let i = 0; i < 3; i++) {
        const accepted = await api.run(pipeline.id);
        expect(await api.waitForRun(pipeline.id, accepted.run_id, { timeoutMs: 60_000 })).toMatchObject({ status: 'SUCCEEDED' });
        requested.push(accepted.run_id);
      }
      const first = await api.runsPage(pipeline.id, { limit: 2 });
      expect(first.runs.map((r) => r.id)).toEqual([requested[2], requested[1]]);
      expect(first.next).toEqual(expect.any(String));
      const second = await api.runsPage(pipeline.id, { limit: 2, after: first.next });
      expect(second).toEqual({ runs: [expect.objectContaining({ id: requested[0] })], next: null });
      expect((await api.listRuns(pipeline.id)).map((r) => r.id)).toEqual([...requested].reverse());
      await expect(api.runsPage(pipeline.id, { after: 'bm9wZQ' })).rejects.toMatchObject({ status: 400, code: 'validation_error' });
    });
  });
});
