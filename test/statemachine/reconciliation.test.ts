/**
 * Reconciliation on the real state machine definition and the local Step Functions endpoint: once
 * the execution of an active run has ended (stopped from outside, failed without reaching or
 * completing FailRun) or was never started, the run and its pipeline read FAILED with the
 * execution's error and cause: on every read, on run and pause requests, and at once through the
 * execution status-change event (EventBridge in the cloud).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConnectionLostError, RejectedRowError, UpstreamUnavailableError } from '../../lib/core/errors.ts';
import { createSfnExecutionStarter } from '../../lib/adapters/sfn/execution-starter.ts';
import { createPgStateStore } from '../../lib/adapters/pg/state-store.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { createRequestRuns } from '../../lib/core/use-cases/request-runs.ts';
import { freePort } from '../../tools/local/processes.ts';
import type { TestDatabase } from '../support/database.ts';
import { useSeededHarness } from '../support/seeded-harness.ts';
import { filmDimFull, targetDiff } from '../support/film-dim.ts';
import type { FaultHarness } from '../support/fault-harness.ts';

const FILMS = 200;
const EVERYTHING = { missing: 0, extra: 0, targetRows: FILMS, sourceRows: FILMS };

/** The pipeline and run as stored, without reconciling (what a read would show before this feature). */
async function stored(db: TestDatabase, runId: string) {
  const { rows } = await db.pool.query<{ run: string; pipeline: string }>(
    'SELECT r.status AS run, p.status AS pipeline FROM etl.pipeline_runs r JOIN etl.pipelines p ON p.id = r.pipeline_id WHERE r.id = $1',
    [runId],
  );
  return rows[0]!;
}

describe('reconciliation on read and on requests', () => {
  const fixture = useSeededHarness({ films: FILMS });
  let db: TestDatabase;
  let harness: FaultHarness;
  beforeAll(() => {
    ({ db, harness } = fixture);
  });

  const executionEnded = (runId: string, status: string) =>
    harness.until(async () => (await harness.executionsOf(runId)).find((e) => e.status === status), `an execution of ${runId} to end ${status}`);

  it('shows a run whose execution was stopped from outside as FAILED with the stop error and cause', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(20));
    harness.delayBatches(20);
    const accepted = await harness.engine.runs.requestRun(pipeline.id);
    await harness.until(async () => (await db.pool.query('SELECT 1 FROM etl.pipeline_runs WHERE id = $1 AND batches >= 1', [accepted.run_id])).rowCount, 'a committed batch');
    await harness.stopExecution(accepted.execution_arn);
    expect(await stored(db, accepted.run_id)).toEqual({ run: 'RUNNING', pipeline: 'RUNNING' });

    const read = await harness.engine.manage.get(pipeline.id);
    expect(read.status).toBe('FAILED');
    expect(read.last_run).toMatchObject({
      id: accepted.run_id,
      status: 'FAILED',
      error: { name: 'Operator.Stopped', message: expect.stringContaining('stopped from outside by a test') as unknown },
    });
    expect(await stored(db, accepted.run_id)).toEqual({ run: 'FAILED', pipeline: 'FAILED' });
  });

  it('reconciles the pipeline list too', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(20));
    harness.delayBatches(20);
    const accepted = await harness.engine.runs.requestRun(pipeline.id);
    await harness.stopExecution(accepted.execution_arn);
    const listed = await harness.engine.manage.list();
    expect(listed.pipelines.find((p) => p.id === pipeline.id)?.status).toBe('FAILED');
  });

  it('reconciles a run whose execution failed because its FailRun step failed too (database down during FailRun)', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(20));
    harness.intercept('runBatch', async () => {
      throw new RejectedRowError('row 7 refused by the target');
    });
    harness.intercept('failRun', async () => {
      throw new ConnectionLostError('the state database is down');
    });
    const accepted = await harness.engine.runs.requestRun(pipeline.id);
    await executionEnded(accepted.run_id, 'FAILED');
    expect(await stored(db, accepted.run_id)).toEqual({ run: 'RUNNING', pipeline: 'RUNNING' });

    const run = await harness.engine.runs.getRun(pipeline.id, accepted.run_id);
    expect(run).toMatchObject({ status: 'FAILED', error: { name: 'ConnectionLostError', message: expect.stringContaining('the state database is down') as unknown } });
    expect((await harness.engine.manage.get(pipeline.id)).status).toBe('FAILED');
  });

  it('reconciles before a pause request: a stopped run answers 409 and reads FAILED', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(20));
    harness.delayBatches(20);
    const accepted = await harness.engine.runs.requestRun(pipeline.id);
    await harness.stopExecution(accepted.execution_arn);
    await expect(harness.engine.runs.requestPause(pipeline.id)).rejects.toMatchObject({ name: 'ConflictError', message: expect.stringContaining('FAILED') as unknown });
    expect(await stored(db, accepted.run_id)).toEqual({ run: 'FAILED', pipeline: 'FAILED' });
  });

  it('reconciles before a run request: the stopped run is FAILED and a new run carries on from its cursor', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(20));
    harness.delayBatches(20);
    const first = await harness.engine.runs.requestRun(pipeline.id);
    await harness.until(async () => (await db.pool.query('SELECT 1 FROM etl.pipeline_runs WHERE id = $1 AND batches >= 2', [first.run_id])).rowCount, 'two committed batches');
    await harness.stopExecution(first.execution_arn);
    harness.clearIntercepts();

    const second = await harness.engine.runs.requestRun(pipeline.id);
    expect(second).toMatchObject({ resumed: false, taken_over: false });
    expect(second.run_id).not.toBe(first.run_id);
    const failed = await harness.engine.runs.getRun(pipeline.id, first.run_id);
    expect(failed).toMatchObject({ status: 'FAILED', error: { name: 'Operator.Stopped' } });
    const done = await harness.waitForRun(pipeline.id, second.run_id, ['SUCCEEDED', 'FAILED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', resumed_from: first.run_id, rows_read: FILMS - failed.rows_read });
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('fails a run whose request never started an execution, once the start grace period has passed', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    // A request that committed, then died before StartExecution (process killed, Lambda timeout).
    const { run } = await harness.engine.store.requestRun(pipeline.id, { nameExecution: (r) => `${r.id}-e1` });
    expect((await harness.engine.manage.get(pipeline.id)).status).toBe('RUN_REQUESTED');
    await expect(harness.engine.runs.requestRun(pipeline.id)).rejects.toMatchObject({ name: 'ConflictError' });

    await db.pool.query(`UPDATE etl.pipeline_runs SET heartbeat_at = now() - interval '61 seconds' WHERE id = $1`, [run.id]);
    const read = await harness.engine.manage.get(pipeline.id);
    expect(read).toMatchObject({ status: 'FAILED', last_run: { id: run.id, status: 'FAILED', error: { name: 'ExecutionNotFound' } } });
    expect(read.last_run?.error?.message).toContain('was never started');
    const accepted = await harness.engine.runs.requestRun(pipeline.id);
    expect(await harness.waitForRun(pipeline.id, accepted.run_id, ['SUCCEEDED', 'FAILED'])).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS });
  });

  it('records a run request whose StartExecution fails as FAILED at once; the pipeline is not left RUN_REQUESTED', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    const unreachable = createSfnExecutionStarter({ stateMachineArn: harness.stateMachineArn, region: 'us-east-1', endpoint: `http://127.0.0.1:${await freePort()}` });
    const runs = createRequestRuns({ store: createPgStateStore(harness.pool), executions: unreachable, logger: silentLogger });
    await expect(runs.requestRun(pipeline.id)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    const read = await harness.engine.manage.get(pipeline.id);
    expect(read).toMatchObject({ status: 'FAILED', last_run: { status: 'FAILED', error: { name: 'ExecutionStartError' } } });
  });
});

describe('reconciliation by the execution status-change event', () => {
  const fixture = useSeededHarness({ films: FILMS, reconcileOnExecutionEnd: true });
  let db: TestDatabase;
  let harness: FaultHarness;
  beforeAll(() => {
    ({ db, harness } = fixture);
  });

  it('fails the run as soon as its execution is stopped, without any read', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(20));
    harness.delayBatches(20);
    const accepted = await harness.engine.runs.requestRun(pipeline.id);
    await harness.stopExecution(accepted.execution_arn);
    await harness.until(async () => (await stored(db, accepted.run_id)).run === 'FAILED', 'the event to fail the run');
    expect(await stored(db, accepted.run_id)).toEqual({ run: 'FAILED', pipeline: 'FAILED' });
    const { rows } = await db.pool.query<{ error_name: string; error_message: string }>('SELECT error_name, error_message FROM etl.pipeline_runs WHERE id = $1', [accepted.run_id]);
    expect(rows[0]).toEqual({ error_name: 'Operator.Stopped', error_message: expect.stringContaining('stopped from outside by a test') as unknown });
  });

  it('leaves a run that its execution finished itself as it recorded it', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    harness.intercept('runBatch', async () => {
      throw new RejectedRowError('row 3 refused by the target');
    });
    const accepted = await harness.engine.runs.requestRun(pipeline.id);
    await harness.until(async () => (await harness.executionsOf(accepted.run_id)).find((e) => e.status === 'FAILED'), 'the execution to fail');
    const { rows } = await db.pool.query<{ status: string; error_name: string; error_message: string }>('SELECT status, error_name, error_message FROM etl.pipeline_runs WHERE id = $1', [accepted.run_id]);
    expect(rows[0]).toEqual({ status: 'FAILED', error_name: 'RejectedRowError', error_message: 'row 3 refused by the target' });
  });
});
