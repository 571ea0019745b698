/**
 * The local stack's steps behave like Lambda and get the README's settings, as `npm start` runs
 * them: every task invokes its functions/steps handler in a worker thread with the function's
 * environment and timeout. A step stuck in a catastrophic regular expression is ended at its
 * timeout and retried or failed as the definition declares, while the API, the Step Functions
 * endpoint and other pipelines carry on.
 */
import { ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgStateStore } from '../../lib/adapters/pg/state-store.ts';
import type { ApiClient } from '../../tools/local/api-client.ts';
import type { LocalStack } from '../../tools/local/stack.ts';
import type { TestDatabase } from '../support/database.ts';
import { FILM_DIM_QUERY, filmDimFull } from '../support/film-dim.ts';
import { startLocalStackUnderTest, type LocalStackUnderTest } from '../support/local-stack.ts';

const FILMS = 100;
const RUN_BATCH_TIMEOUT_SECONDS = 2;
/** As a user sets them for `npm start` (start.ts reads them into localConfig.functionSettings). */
const SETTINGS = { SOURCE_STATEMENT_TIMEOUT_MS: '1000', BATCHES_PER_EXECUTION: '2', STALE_RUN_SECONDS: '5', LOG_LEVEL: 'warn' };

const catastrophic = {
  name: 'catastrophic_regex',
  mode: 'full',
  batch_size: 10,
  tasks: [
    { type: 'sql_reader', name: 'read', query: "SELECT 1 AS id, repeat('a', 34) || '!' AS x" },
    { type: 'map', name: 'only_as', filter: '$contains(x, /^(a+)+$/)' },
    { type: 'writer', name: 'write', target: { type: 'postgres', table: 'public.regex_target', key: ['id'] } },
  ],
};

describe('steps of the local stack', () => {
  let db: TestDatabase;
  let stack: LocalStack;
  let api: ApiClient;
  let sfn: SFNClient;
  let local: LocalStackUnderTest | undefined;
  const stepLines: string[] = [];

  beforeAll(async () => {
    local = await startLocalStackUnderTest({
      films: FILMS,
      prepare: async (created) => void (await created.pool.query('CREATE TABLE public.regex_target (id int PRIMARY KEY, x text)')),
      settings: SETTINGS,
      functionTimeouts: { runBatch: RUN_BATCH_TIMEOUT_SECONDS },
      retryIntervalOverrides: { RunBatch: 0 },
      onStepOutput: (line) => stepLines.push(line),
    });
    ({ db, stack, api, sfn } = local);
  }, 180_000);

  afterAll(() => local?.stop());

  const executionsOf = async (runId: string) => {
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn, maxResults: 1000 }));
    return executions.filter((e) => e.name?.startsWith(runId));
  };

  it('ends a step stuck in a catastrophic regular expression at the function timeout, retries it as declared, then fails the run; meanwhile another pipeline completes and the API and endpoint answer', async () => {
    const stuck = await api.createPipeline(catastrophic);
    const healthy = await api.createPipeline({ ...filmDimFull(50), name: 'healthy' });
    // Warm the list route's function first: a cold serverless-offline worker alone takes seconds here.
    await api.listPipelines();
    const stuckRun = await api.run(stuck.id);
    const healthyRun = await api.run(healthy.id);

    // Answers while RunBatch spins (each attempt is a fresh worker, killed after 2 s). Had the
    // regex run in this process, one evaluation on 34 `a`s would hold it for minutes.
    const slowest = { api: 0, endpoint: 0 };
    const probes = (async () => {
      for (let i = 0; i < 10; i += 1) {
        let started = Date.now();
        await api.listPipelines();
        slowest.api = Math.max(slowest.api, Date.now() - started);
        started = Date.now();
        await executionsOf(stuckRun.run_id);
        slowest.endpoint = Math.max(slowest.endpoint, Date.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    expect(await api.waitForRun(healthy.id, healthyRun.run_id, { timeoutMs: 60_000 })).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, rows_written: FILMS });
    expect((await api.getRun(stuck.id, stuckRun.run_id)).status).toBe('RUNNING');
    await probes;
    expect(slowest.api).toBeLessThan(5_000);
    expect(slowest.endpoint).toBeLessThan(5_000);

    const failed = await api.waitForRun(stuck.id, stuckRun.run_id, { timeoutMs: 90_000 });
    expect(failed).toMatchObject({
      status: 'FAILED',
      rows_written: 0,
      retries: 6, // RunBatch's Retry on Sandbox.Timedout: MaxAttempts 6
      error: { name: 'Sandbox.Timedout', message: `Task timed out after ${RUN_BATCH_TIMEOUT_SECONDS.toFixed(2)} seconds` },
    });
    expect((await api.getPipeline(stuck.id)).status).toBe('FAILED');
    expect((await executionsOf(stuckRun.run_id)).map((e) => e.status)).toEqual(['FAILED']);
  }, 150_000);

  it('SOURCE_STATEMENT_TIMEOUT_MS=1000 fails a source query that sleeps 3 s with the statement timeout error', async () => {
    const slow = filmDimFull(50);
    const query = `SELECT q.* FROM (${FILM_DIM_QUERY}) q CROSS JOIN (SELECT pg_sleep(3)) s`;
    const pipeline = await api.createPipeline({ ...slow, name: 'slow_source', source: { ...slow.source, query } });
    const accepted = await api.run(pipeline.id);
    const run = await api.waitForRun(pipeline.id, accepted.run_id, { timeoutMs: 30_000 });
    expect(run).toMatchObject({ status: 'FAILED', rows_read: 0, error: { name: 'SourceQueryError', message: expect.stringContaining('statement timeout') as unknown } });
  });

  it('BATCHES_PER_EXECUTION=2 makes a 5-batch run use 3 executions', async () => {
    const pipeline = await api.createPipeline({ ...filmDimFull(FILMS / 5), name: 'five_batches' });
    const accepted = await api.run(pipeline.id);
    const run = await api.waitForRun(pipeline.id, accepted.run_id, { timeoutMs: 60_000 });
    expect(run).toMatchObject({ status: 'SUCCEEDED', batches: 5, executions: 3, rows_read: FILMS });
    expect(await executionsOf(accepted.run_id)).toHaveLength(3);
  });

  it('STALE_RUN_SECONDS=5: a run request answers 409 while a run without an execution is fresh, and takes it over once its heartbeat is 5 s old', async () => {
    const pipeline = await api.createPipeline({ ...filmDimFull(50), name: 'orphaned' });
    // A request that committed but never started its execution (a crash in between).
    const { run: orphan } = await createPgStateStore(db.pool).requestRun(pipeline.id);
    await expect(api.run(pipeline.id)).rejects.toMatchObject({ status: 409 });
    await db.pool.query(`UPDATE etl.pipeline_runs SET heartbeat_at = now() - interval '6 seconds', requested_at = now() - interval '6 seconds' WHERE id = $1`, [orphan.id]);
    const accepted = await api.run(pipeline.id);
    expect(accepted).toMatchObject({ run_id: orphan.id, taken_over: true });
    expect(await api.waitForRun(pipeline.id, orphan.id, { timeoutMs: 60_000 })).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS });
  });

  it('LOG_LEVEL=warn: the step functions wrote their errors and no info line', () => {
    // Lines that are not JSON are Node's own warnings (the AWS SDK warns about Node 20).
    const entries = stepLines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: string; message: string });
    expect(entries.filter((e) => e.level === 'INFO' || e.level === 'DEBUG')).toEqual([]);
    expect(entries.filter((e) => e.level === 'ERROR').map((e) => e.message)).toContain('run failed');
    // Every line a step wrote carries its invocation's context (Powertools' injectLambdaContext).
    for (const entry of entries.filter((e) => e.message === 'run failed') as unknown as Record<string, unknown>[]) {
      expect(String(entry.function_name)).toMatch(/^etl-local-failRun$/);
      expect(typeof entry.function_request_id).toBe('string');
      expect(typeof entry.cold_start).toBe('boolean');
    }
  });
});
