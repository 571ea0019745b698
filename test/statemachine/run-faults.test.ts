/**
 * Faults during a run, on the real state machine definition: retried faults, exhausted retries,
 * permanent errors, a target table swapped away and back, a step dying around its commit, and the
 * database dropping every connection. Each run must end with the target equal to the source, no
 * row written twice, and metrics that count each source row once.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ConnectionLostError, RejectedRowError } from '../../lib/core/errors.ts';
import type { StepInput } from '../../lib/core/use-cases/run-steps.ts';
import type { TestDatabase } from '../support/database.ts';
import { useSeededHarness } from '../support/seeded-harness.ts';
import { FILM_DIM_QUERY, filmDimFull, filmDimIncremental, targetDiff } from '../support/film-dim.ts';
import { loopState, serviceError, sleep, startFaultHarness, type FaultHarness } from '../support/fault-harness.ts';

const FILMS = 300;
const EVERYTHING = { missing: 0, extra: 0, targetRows: FILMS, sourceRows: FILMS };
/**
 * What a client sees while the server restarts: every other session of the database ends (57P01).
 * Only while a batch read has just started sleeping in the slow source query, so that each round
 * ends a read that began its attempt (the next attempt of that batch is a counted retry): at most
 * 20 ms into its 40 ms sleep, so the read cannot finish between the check and the termination,
 * and not a read already ended by an earlier round (a terminated backend is listed until it exits).
 */
const TERMINATE_DURING_READ = `
  WITH sleeper AS (
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event = 'PgSleep' AND pid <> ALL($1::int[])
      AND clock_timestamp() - query_start < interval '20 milliseconds'
    LIMIT 1)
  SELECT (SELECT pid FROM sleeper) AS sleeper, count(pg_terminate_backend(a.pid))::int AS n
  FROM pg_stat_activity a
  WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND EXISTS (SELECT 1 FROM sleeper)`;

describe('run faults on the real state machine definition', () => {
  // Paced retries (the definition's backoff is seconds long): a fault that heals within a few
  // hundred milliseconds is retried through; one that does not exhausts MaxAttempts quickly.
  const fixture = useSeededHarness({ films: FILMS, retryIntervalMs: 40 });
  let db: TestDatabase;
  let harness: FaultHarness;
  beforeAll(() => {
    ({ db, harness } = fixture);
  });

  /** The fault strikes after the attempt began, as a connection lost mid-read would. */
  const failAfterBegin = async (input: StepInput, error: Error): Promise<never> => {
    await harness.engine.store.beginBatchAttempt(loopState(input.state).run_id, input.execution_name);
    throw error;
  };

  it('retries a batch that lost its connection twice, counts both retries, and writes each row once', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    let calls = 0;
    harness.intercept('runBatch', async (input, real) => {
      calls += 1;
      if (calls === 3 || calls === 4) return await failAfterBegin(input, new ConnectionLostError('Connection terminated unexpectedly (injected)'));
      return await real(input);
    });
    const run = await harness.runToEnd(pipeline.id);
    expect(run).toMatchObject({ status: 'SUCCEEDED', retries: 2, rows_read: FILMS, rows_written: FILMS, batches: 6, error: null });
    expect(calls).toBe(8); // 6 batches and 2 failed attempts of the third (the sixth page sees it is the last)
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  /** The next run after a failure, asked for by POST /run or by an execution started with only pipeline_id (console, CLI, schedule). */
  const nextRun = {
    'POST /run': (pipelineId: string) => harness.runToEnd(pipelineId),
    'an execution started with only pipeline_id': async (pipelineId: string) => {
      const name = `outside-${pipelineId}`;
      const { executionArn } = await harness.sfn.send(new StartExecutionCommand({ stateMachineArn: harness.stateMachineArn, name, input: JSON.stringify({ pipeline_id: pipelineId }) }));
      const run = await harness.until(async () => (await harness.engine.runs.listRuns(pipelineId)).runs.find((r) => r.execution_arn === executionArn), 'the execution to start a run');
      return await harness.waitForRun(pipelineId, run.id, ['SUCCEEDED', 'FAILED', 'PAUSED']);
    },
  };

  it.each(Object.keys(nextRun) as (keyof typeof nextRun)[])('fails the run with the error recorded when retries run out; the next run (%s) resumes from the last committed cursor', async (way) => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    let calls = 0;
    harness.intercept('runBatch', async (input, real) => {
      calls += 1;
      if (calls > 3) return await failAfterBegin(input, new ConnectionLostError('server closed the connection unexpectedly (injected)'));
      return await real(input);
    });
    const failed = await harness.runToEnd(pipeline.id);
    expect(failed).toMatchObject({
      status: 'FAILED',
      rows_read: 150,
      batches: 3,
      retries: 6, // MaxAttempts of RunBatch's Retry
      error: { name: 'ConnectionLostError', message: 'server closed the connection unexpectedly (injected)' },
    });
    expect(calls).toBe(3 + 7);
    expect((await harness.engine.manage.get(pipeline.id)).status).toBe('FAILED');
    expect(await targetDiff(db.pool)).toMatchObject({ targetRows: 150, extra: 0, missing: FILMS - 150 });

    harness.clearIntercepts();
    const resumed = await nextRun[way](pipeline.id);
    expect(resumed.id).not.toBe(failed.id);
    expect(resumed).toMatchObject({ status: 'SUCCEEDED', resumed_from: failed.id, rows_read: FILMS - 150, batches: 3, retries: 0, error: null });
    expect((await harness.engine.manage.get(pipeline.id)).status).toBe('SUCCEEDED');
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('an incremental run that failed is resumed by the next run from the checkpoint', async () => {
    const pipeline = await harness.engine.manage.create(filmDimIncremental(50));
    let calls = 0;
    harness.intercept('runBatch', async (input, real) => {
      calls += 1;
      if (calls > 2) return await failAfterBegin(input, new ConnectionLostError('connection timeout (injected)'));
      return await real(input);
    });
    const failed = await harness.runToEnd(pipeline.id);
    expect(failed).toMatchObject({ status: 'FAILED', rows_read: 100, error: { name: 'ConnectionLostError' } });
    const checkpoint = await harness.engine.runs.getCheckpoint(pipeline.id);
    expect(checkpoint).toMatchObject({ run_id: failed.id });
    expect([checkpoint.last_value, checkpoint.last_id]).toEqual(failed.cursor);

    harness.clearIntercepts();
    const next = await harness.runToEnd(pipeline.id);
    expect(next).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS - 100, retries: 0 });
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('fails at once, without retrying, on a permanent error from a step', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    let calls = 0;
    harness.intercept('runBatch', async (input, real) => {
      calls += 1;
      if (calls === 3) throw new RejectedRowError('film_dim rejects row 101: value too long (injected)');
      return await real(input);
    });
    const run = await harness.runToEnd(pipeline.id);
    expect(run).toMatchObject({ status: 'FAILED', retries: 0, rows_read: 100, batches: 2, error: { name: 'RejectedRowError', message: 'film_dim rejects row 101: value too long (injected)' } });
    expect(calls).toBe(3);
    expect((await harness.engine.manage.get(pipeline.id)).status).toBe('FAILED');
    expect(await targetDiff(db.pool)).toMatchObject({ targetRows: 100, extra: 0 });
  });

  it('fails at once on source SQL that no longer runs (a renamed column), and resumes once it is fixed', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    let calls = 0;
    harness.intercept('runBatch', async (input, real) => {
      calls += 1;
      if (calls === 3) await db.pool.query('ALTER TABLE content.film_work RENAME COLUMN title TO title_renamed');
      return await real(input);
    });
    try {
      const failed = await harness.runToEnd(pipeline.id);
      expect(failed).toMatchObject({ status: 'FAILED', retries: 0, rows_read: 100, error: { name: 'SourceQueryError', message: expect.stringContaining('title') as unknown } });
      expect(calls).toBe(3);
    } finally {
      await db.pool.query('ALTER TABLE IF EXISTS content.film_work RENAME COLUMN title_renamed TO title').catch(() => undefined);
    }
    harness.clearIntercepts();
    const resumed = await harness.runToEnd(pipeline.id);
    expect(resumed).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS - 100 });
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('retries while the target table is renamed away, and carries on when it is back', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(25));
    harness.intercept('runBatch', async (input, real) => {
      await sleep(5); // long enough for the test to act mid-run
      return await real(input);
    });
    const { run_id } = await harness.engine.runs.requestRun(pipeline.id);
    try {
      await harness.until(async () => (await harness.engine.runs.getRun(pipeline.id, run_id)).batches >= 2, 'two committed batches');
      await db.pool.query('ALTER TABLE analytics.film_dim RENAME TO film_dim_away');
      await harness.until(async () => (await harness.engine.runs.getRun(pipeline.id, run_id)).retries >= 2, 'two retries');
    } finally {
      await db.pool.query('ALTER TABLE IF EXISTS analytics.film_dim_away RENAME TO film_dim');
    }
    const run = await harness.waitForRun(pipeline.id, run_id, ['SUCCEEDED', 'FAILED']);
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, batches: 12, error: null });
    expect(run.retries).toBeGreaterThanOrEqual(2);
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('a step that dies after its commit, before answering, is retried without reading the batch again', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    let calls = 0;
    harness.intercept('runBatch', async (input, real) => {
      calls += 1;
      const result = await real(input);
      if (calls === 3) throw serviceError('Sandbox.Timedout', 'Task timed out (injected: the process died after the batch committed)');
      return result;
    });
    const run = await harness.runToEnd(pipeline.id);
    // The retry found the batch committed (the cursor had moved) and read the next one: from the
    // run's point of view nothing was attempted twice, so no retry is counted and no row re-read.
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, rows_written: FILMS, batches: 6, retries: 0 });
    expect(calls).toBe(6); // 6 batches; the attempt that died after its commit is not a batch of its own
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('a step whose connection dies inside its write transaction is retried; the rolled-back batch is written once', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    let calls = 0;
    let killed = 0;
    harness.intercept('runBatch', async (input, real) => {
      calls += 1;
      if (calls !== 3) return await real(input);
      // Hold the target so the write waits inside its transaction, then end that session: the
      // process "dies" with the batch written but not committed.
      const locker = await db.pool.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE analytics.film_dim IN SHARE MODE');
      const kill = (async () => {
        // Polled from another session: pg_stat_activity is a snapshot for the rest of a transaction.
        const pid = await harness.until(
          // By the lock it waits for: a pushed-down statement's text is longer than pg_stat_activity shows.
          async () => (await db.pool.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'analytics.film_dim'::regclass AND mode = 'RowExclusiveLock'`)).rows[0]?.pid,
          'the batch write to wait for the lock',
          4_000, // below the sink's lock_timeout
        );
        killed = (await db.pool.query<{ n: number }>('SELECT count(pg_terminate_backend($1))::int AS n', [pid])).rows[0]!.n;
      })();
      try {
        return await real(input);
      } finally {
        await Promise.allSettled([kill]);
        await locker.query('COMMIT');
        locker.release();
      }
    });
    const run = await harness.runToEnd(pipeline.id);
    expect(killed).toBe(1);
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, batches: 6, retries: 1 });
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('recovers when the database drops every connection, again and again, while batches are read', async () => {
    // A source query slow enough (40 ms a page) that a read is in flight when the sessions end.
    const query = `${FILM_DIM_QUERY} WHERE (SELECT count(*) FROM pg_sleep(0.04)) = 1`;
    const pipeline = await harness.engine.manage.create({ ...filmDimFull(25), name: 'film_dim_slow', source: { query } });
    const killer = new pg.Client({ connectionString: db.url });
    await killer.connect();
    try {
      const { run_id } = await harness.engine.runs.requestRun(pipeline.id);
      const endedReads: number[] = [];
      for (let round = 1; round <= 4; round += 1) {
        const sleeper = await harness.until(
          async () => (await killer.query<{ sleeper: number | null }>(TERMINATE_DURING_READ, [endedReads])).rows[0]!.sleeper,
          `round ${round}: sessions ended during a batch read`,
          10_000,
        );
        endedReads.push(sleeper);
      }
      const run = await harness.waitForRun(pipeline.id, run_id, ['SUCCEEDED', 'FAILED']);
      // Each of the four killed reads had begun its attempt: the next attempt of that batch is a retry.
      expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, batches: 12, error: null });
      expect(run.retries).toBeGreaterThanOrEqual(4);
    } finally {
      await killer.end();
    }
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });
  describe('with RunBatch TimeoutSeconds of 1 s', () => {
    let short: FaultHarness;
    beforeAll(async () => {
      short = await startFaultHarness({ databaseUrl: db.url, runBatchTimeoutSeconds: 1 });
    });
    afterAll(async () => {
      await short.stop();
    });

    it('a step hung in its write past TimeoutSeconds is retried while it still runs; only one of the two attempts commits', async () => {
      const pipeline = await short.engine.manage.create(filmDimFull(50));
      let calls = 0;
      let hung: Promise<unknown> | undefined;
      let unlocked: Promise<void> | undefined;
      short.intercept('runBatch', async (input, real) => {
        calls += 1;
        if (calls !== 3) return await real(input);
        // The target stays locked past the 1 s timeout: Step Functions gives up on this attempt and
        // retries while the attempt itself is still waiting inside its write transaction, as a
        // Lambda that outlives its state's TimeoutSeconds does.
        const locker = await db.pool.connect();
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE analytics.film_dim IN SHARE MODE');
        unlocked = (async () => {
          await sleep(1_500);
          await locker.query('COMMIT');
          locker.release();
        })();
        hung = real(input);
        return await hung;
      });
      const run = await short.runToEnd(pipeline.id);
      await unlocked;
      const [first] = await Promise.allSettled([hung]);
      // Both attempts wrote the same rows; the cursor advance commits with the write, and only the
      // attempt that finds the cursor where it started may advance it: the other rolls back
      // (TransientConflictError, retried from the new cursor if the state machine still waits on it).
      const outcome = first.status === 'fulfilled' ? 'committed' : (first.reason as Error).name;
      expect(outcome).toMatch(/^(committed|TransientConflictError)$/);
      expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, rows_written: FILMS, batches: 6, error: null });
      expect(run.retries).toBeGreaterThanOrEqual(1);
      expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
    });
  });
});
