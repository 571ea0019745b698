/**
 * Stuck runs and concurrent requests on the real state machine definition. A run whose execution
 * died (stopped from outside, crashed, forgotten by the service) must not block its pipeline: it
 * is reconciled to FAILED (reconcile-runs.ts) and the next request starts a new run from its
 * cursor; the dead execution, should it wake up, can no longer write. A run that Step Functions
 * cannot tell about is judged by its heartbeat and taken over. A live execution still answers 409,
 * and concurrent requests start exactly one execution.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import type { RunAccepted } from '../../lib/core/use-cases/request-runs.ts';
import type { TestDatabase } from '../support/database.ts';
import { useSeededHarness } from '../support/seeded-harness.ts';
import { filmDimFull, targetDiff } from '../support/film-dim.ts';
import type { FaultHarness } from '../support/fault-harness.ts';

const FILMS = 300;
const EVERYTHING = { missing: 0, extra: 0, targetRows: FILMS, sourceRows: FILMS };
// A write waiting for the target's lock, found by the lock it waits for (a pushed-down statement's
// text is longer than pg_stat_activity shows).
const WRITE_WAITING = `SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'analytics.film_dim'::regclass AND mode = 'RowExclusiveLock'`;

describe('stuck runs and concurrent requests on the real state machine definition', () => {
  const fixture = useSeededHarness({ films: FILMS });
  let db: TestDatabase;
  let harness: FaultHarness;
  beforeAll(() => {
    ({ db, harness } = fixture);
  });

  const run = (pipelineId: string, runId: string) => harness.engine.runs.getRun(pipelineId, runId);
  const lockTarget = async (): Promise<pg.PoolClient> => {
    const locker = await db.pool.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE analytics.film_dim IN SHARE MODE');
    return locker;
  };
  const unlock = async (locker: pg.PoolClient) => {
    await locker.query('COMMIT');
    locker.release();
  };

  it('fails a run whose execution was stopped from outside; the next run carries on from its cursor; the stopped execution can no longer write', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(25));
    let calls = 0;
    let zombie: Promise<unknown> | undefined;
    let locker: pg.PoolClient | undefined;
    let second: RunAccepted | undefined;
    harness.intercept('runBatch', async (input, real) => {
      calls += 1;
      if (calls !== 3) return await real(input);
      // The third batch waits inside its write transaction while the execution is stopped: the
      // Lambda of a stopped execution keeps running, and will try to commit later.
      locker = await lockTarget();
      zombie = real(input);
      return await zombie;
    });
    const first = await harness.engine.runs.requestRun(pipeline.id);
    try {
      await harness.until(async () => (await db.pool.query(WRITE_WAITING)).rowCount, 'the third batch to wait in its write');
      await expect(harness.engine.runs.requestRun(pipeline.id)).rejects.toMatchObject({ name: 'ConflictError', message: expect.stringContaining('is running') as unknown });

      await harness.stopExecution(first.execution_arn);
      const stuck = await run(pipeline.id, first.run_id);
      expect(stuck).toMatchObject({ status: 'FAILED', batches: 2, execution_name: `${first.run_id}-e1`, error: { name: 'Operator.Stopped' } });
      expect((await harness.engine.manage.get(pipeline.id)).status).toBe('FAILED');

      second = await harness.engine.runs.requestRun(pipeline.id);
      expect(second).toMatchObject({ resumed: false, taken_over: false, status: 'RUN_REQUESTED' });
      expect(second.run_id).not.toBe(first.run_id);

      // Every write path of the stopped execution is refused from now on.
      const old = { name: stuck.execution_name!, arn: first.execution_arn };
      const state = { pipeline_id: pipeline.id, run_id: first.run_id, batches_in_execution: 2, batches_per_execution: 500, done: false, pause_requested: false };
      const refused = { name: 'RunStateError' };
      await expect(harness.engine.steps.runBatch({ state, execution_name: old.name, execution_arn: old.arn })).rejects.toMatchObject(refused);
      await expect(harness.engine.store.claimRun({ pipelineId: pipeline.id, runId: first.run_id, executionName: old.name, executionArn: old.arn })).rejects.toMatchObject(refused);
      await expect(
        harness.engine.store.advance(null, { runId: first.run_id, pipelineId: pipeline.id, from: stuck.cursor, to: ['x'], rowsRead: 1, rowsWritten: 1, rowsDropped: 0, checkpoint: false, executionName: old.name }),
      ).rejects.toMatchObject(refused);
      await expect(harness.engine.store.handOver(first.run_id, old.name, `${first.run_id}-e9`)).rejects.toMatchObject(refused);
      await expect(harness.engine.store.pauseRun(first.run_id, old.name)).rejects.toMatchObject(refused);
      await expect(harness.engine.store.completeRun(first.run_id, old.name)).rejects.toMatchObject(refused);
      await expect(harness.engine.store.failRun(first.run_id, old.name, { name: 'X', message: 'x' })).rejects.toMatchObject(refused);
    } finally {
      if (locker) await unlock(locker);
    }
    // Released, the stopped execution's batch reaches its commit and is rolled back with it.
    await expect(zombie).rejects.toMatchObject({ name: 'RunStateError', message: expect.stringContaining('not committed') as unknown });

    const done = await harness.waitForRun(pipeline.id, second.run_id, ['SUCCEEDED', 'FAILED', 'PAUSED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', resumed_from: first.run_id, rows_read: FILMS - 50, batches: FILMS / 25 - 2, executions: 1, error: null });
    expect(await run(pipeline.id, first.run_id)).toMatchObject({ status: 'FAILED', rows_read: 50 });
    expect((await harness.executionsOf(first.run_id)).map((e) => e.status)).toEqual(['ABORTED']);
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('fails a paused run whose resuming execution was stopped before it claimed it; the next run carries on from its cursor', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(25));
    harness.delayBatches(10);
    const first = await harness.engine.runs.requestRun(pipeline.id);
    await harness.until(async () => (await run(pipeline.id, first.run_id)).batches >= 2, 'two committed batches');
    await harness.engine.runs.requestPause(pipeline.id);
    await harness.waitForRun(pipeline.id, first.run_id, ['PAUSED']);

    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let zombie: Promise<unknown> | undefined;
    let starts = 0;
    harness.intercept('startRun', async (input, real) => {
      starts += 1;
      if (starts !== 1) return await real(input);
      await gate;
      zombie = real(input);
      return await zombie;
    });
    const second = await harness.engine.runs.requestRun(pipeline.id);
    expect(second).toMatchObject({ run_id: first.run_id, resumed: true, taken_over: false });
    await harness.stopExecution(second.execution_arn);
    const paused = await run(pipeline.id, first.run_id);
    expect(paused).toMatchObject({ status: 'FAILED', error: { name: 'Operator.Stopped' } });
    expect((await harness.engine.manage.get(pipeline.id)).status).toBe('FAILED');

    const third = await harness.engine.runs.requestRun(pipeline.id);
    expect(third).toMatchObject({ resumed: false, taken_over: false });
    release();
    await harness.until(async () => zombie !== undefined, 'the stopped StartRun to go on');
    await expect(zombie).rejects.toMatchObject({ name: 'RunStateError' });

    const done = await harness.waitForRun(pipeline.id, third.run_id, ['SUCCEEDED', 'FAILED', 'PAUSED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', resumed_from: first.run_id, rows_read: FILMS - paused.rows_read, executions: 1 });
    expect((await harness.engine.runs.listRuns(pipeline.id)).runs).toHaveLength(2);
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('an execution started from outside without run_id is refused while the run lives, and once it is stopped starts a new run from its cursor', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(25));
    harness.delayBatches(10);
    const first = await harness.engine.runs.requestRun(pipeline.id);
    await harness.until(async () => (await run(pipeline.id, first.run_id)).batches >= 1, 'a committed batch');
    const startOutside = async (name: string) =>
      (await harness.sfn.send(new StartExecutionCommand({ stateMachineArn: harness.stateMachineArn, name, input: JSON.stringify({ pipeline_id: pipeline.id }) }))).executionArn!;

    const refused = await startOutside(`outside-1-${pipeline.id}`);
    await harness.until(async () => (await harness.executionsOf('outside-1')).find((e) => e.executionArn === refused && e.status === 'FAILED'), 'the outside execution to fail');
    expect((await run(pipeline.id, first.run_id)).status).toBe('RUNNING');

    await harness.stopExecution(first.execution_arn);
    const adopted = await startOutside(`outside-2-${pipeline.id}`);
    const newRun = await harness.until(async () => (await harness.engine.runs.listRuns(pipeline.id)).runs.find((r) => r.execution_arn === adopted), 'the outside execution to start a run');
    const done = await harness.waitForRun(pipeline.id, newRun.id, ['SUCCEEDED', 'FAILED', 'PAUSED']);
    const stopped = await run(pipeline.id, first.run_id);
    expect(stopped).toMatchObject({ status: 'FAILED', error: { name: 'Operator.Stopped' } });
    // The same run-creation path as POST /run: the stopped run's committed batches are not read again.
    expect(done).toMatchObject({ status: 'SUCCEEDED', execution_arn: adopted, resumed_from: first.run_id, rows_read: FILMS - stopped.rows_read, batches: (FILMS - stopped.rows_read) / 25 });
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('judges a run with no execution to ask about by its heartbeat: 409 until STALE_RUN_SECONDS, then taken over', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    // A request that committed but crashed before StartExecution: nothing will ever claim the run.
    const { run: orphan } = await harness.engine.store.requestRun(pipeline.id);
    await expect(harness.engine.runs.requestRun(pipeline.id)).rejects.toBeInstanceOf(ConflictError);

    await db.pool.query(`UPDATE etl.pipeline_runs SET heartbeat_at = now() - interval '16 minutes' WHERE id = $1`, [orphan.id]);
    const accepted = await harness.engine.runs.requestRun(pipeline.id);
    expect(accepted).toMatchObject({ run_id: orphan.id, taken_over: true });
    const done = await harness.waitForRun(pipeline.id, orphan.id, ['SUCCEEDED', 'FAILED', 'PAUSED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, executions: 1 });
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('fails at once a run whose started execution Step Functions does not know (a restarted local endpoint); the next run starts', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    const { run: orphan } = await harness.engine.store.requestRun(pipeline.id);
    const ghost = `${orphan.id}-e1`;
    // As if the run had been handed to an execution that the (restarted) endpoint no longer knows.
    await db.pool.query('UPDATE etl.pipeline_runs SET execution_name = $2, execution_arn = $3 WHERE id = $1', [
      orphan.id,
      ghost,
      `${harness.stateMachineArn.replace(':stateMachine:', ':execution:')}:${ghost}`,
    ]);
    const accepted = await harness.engine.runs.requestRun(pipeline.id);
    expect(accepted).toMatchObject({ taken_over: false });
    expect(accepted.run_id).not.toBe(orphan.id);
    expect(await run(pipeline.id, orphan.id)).toMatchObject({ status: 'FAILED', error: { name: 'ExecutionNotFound' } });
    const done = await harness.waitForRun(pipeline.id, accepted.run_id, ['SUCCEEDED', 'FAILED', 'PAUSED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS });
  });

  it('starts exactly one execution for 20 concurrent run requests; the other 19 get 409', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(25));
    harness.delayBatches(5);
    const before = (await harness.executionsOf('')).length;
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => harness.engine.runs.requestRun(pipeline.id)));
    const accepted = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    expect(accepted).toHaveLength(1);
    expect(rejected).toHaveLength(19);
    for (const error of rejected) expect(error).toBeInstanceOf(ConflictError);
    expect((await harness.executionsOf('')).length - before).toBe(1);
    expect(await harness.executionsOf(accepted[0]!.run_id)).toHaveLength(1);

    const done = await harness.waitForRun(pipeline.id, accepted[0]!.run_id, ['SUCCEEDED', 'FAILED', 'PAUSED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, executions: 1 });
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('lets exactly one of 20 concurrent requests replace a stopped run, and one of 20 resume a paused one', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(25));
    harness.delayBatches(5);
    const first = await harness.engine.runs.requestRun(pipeline.id);
    await harness.until(async () => (await run(pipeline.id, first.run_id)).batches >= 1, 'a committed batch');
    await harness.stopExecution(first.execution_arn);

    const race = async () => {
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => harness.engine.runs.requestRun(pipeline.id)));
      const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
      expect(winners).toHaveLength(1);
      return winners[0]!;
    };
    const replacement = await race();
    expect(replacement).toMatchObject({ resumed: false, taken_over: false });
    expect(replacement.run_id).not.toBe(first.run_id);
    expect(await harness.executionsOf(first.run_id)).toHaveLength(1);
    expect(await harness.executionsOf(replacement.run_id)).toHaveLength(1);
    const stopped = await run(pipeline.id, first.run_id);
    expect(stopped.status).toBe('FAILED');

    await harness.until(async () => (await run(pipeline.id, replacement.run_id)).batches >= 2, 'two committed batches');
    await harness.engine.runs.requestPause(pipeline.id);
    await harness.waitForRun(pipeline.id, replacement.run_id, ['PAUSED']);
    const resume = await race();
    expect(resume).toMatchObject({ run_id: replacement.run_id, resumed: true, taken_over: false });
    expect(await harness.executionsOf(replacement.run_id)).toHaveLength(2);

    const done = await harness.waitForRun(pipeline.id, replacement.run_id, ['SUCCEEDED', 'FAILED', 'PAUSED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS - stopped.rows_read });
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });
});
