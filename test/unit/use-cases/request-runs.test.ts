/**
 * Run requests (POST /run, POST /pause) over the in-memory state store, which applies the same
 * lifecycle rules as the PostgreSQL one: new, resumed and taken-over runs, conflicts, an execution
 * that cannot be started, and where a new run starts reading.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError, ConnectionLostError, UpstreamUnavailableError } from '../../../lib/core/errors.ts';
import { createFakeEngine, STALE_RUN_SECONDS } from '../../support/fakes/engine.ts';
import { fullItems, itemRows } from './items.ts';

async function engineWithPipeline(rows = 10) {
  const engine = createFakeEngine();
  engine.source.rows.push(...itemRows(1, rows));
  const pipeline = await engine.store.createPipeline(fullItems(2));
  return { engine, pipeline };
}

describe('run requests over the in-memory store', () => {
  it('creates a run owned by the execution it starts, with {pipeline_id, run_id} as input', async () => {
    const { engine, pipeline } = await engineWithPipeline();
    const accepted = await engine.runs.requestRun(pipeline.id);
    expect(accepted).toMatchObject({ status: 'RUN_REQUESTED', resumed: false, taken_over: false });
    expect(engine.executions.started).toEqual([{ name: `${accepted.run_id}-e1`, input: { pipeline_id: pipeline.id, run_id: accepted.run_id }, executionArn: accepted.execution_arn }]);
    expect(await engine.store.getRun(pipeline.id, accepted.run_id)).toMatchObject({ status: 'RUNNING', execution_name: `${accepted.run_id}-e1`, execution_arn: accepted.execution_arn, cursor: null });
    expect(await engine.store.pipelineStatus(pipeline.id)).toBe('RUN_REQUESTED');
  });

  it('answers ConflictError while the run execution is running, and starts nothing more', async () => {
    const { engine, pipeline } = await engineWithPipeline();
    await engine.runs.requestRun(pipeline.id);
    await expect(engine.runs.requestRun(pipeline.id)).rejects.toThrow(ConflictError);
    expect(engine.executions.started).toHaveLength(1);
  });

  it('fails the run when its execution cannot be started, so the pipeline does not wait for it', async () => {
    const { engine, pipeline } = await engineWithPipeline();
    engine.executions.failNextStart();
    await expect(engine.runs.requestRun(pipeline.id)).rejects.toThrow(UpstreamUnavailableError);
    const [run] = engine.store.runs();
    expect(run).toMatchObject({ status: 'FAILED', error: { name: 'ExecutionStartError', message: 'the execution could not be started: connect ECONNREFUSED (fake)' } });
    expect(await engine.store.pipelineStatus(pipeline.id)).toBe('FAILED');
  });

  it('reconciles a run whose execution was stopped, then starts a new run from its cursor', async () => {
    const { engine, pipeline } = await engineWithPipeline();
    const first = await engine.runs.requestRun(pipeline.id);
    engine.target.failNextWrite(new ConnectionLostError('lost (fake)'));
    // Two batches commit, then the execution is stopped from outside (its state machine never runs FailRun).
    const step = { execution_name: `${first.run_id}-e1`, execution_arn: first.execution_arn };
    let state = await engine.steps.startRun({ ...step, state: { pipeline_id: pipeline.id, run_id: first.run_id } });
    await expect(engine.steps.runBatch({ ...step, state: { ...state } })).rejects.toThrow(ConnectionLostError);
    state = await engine.steps.runBatch({ ...step, state: { ...state } });
    state = await engine.steps.runBatch({ ...step, state: { ...state } });
    engine.executions.setStatus(`${first.run_id}-e1`, 'ABORTED', { error: 'Operator.Stopped', cause: 'stopped by a test' });

    const second = await engine.runs.requestRun(pipeline.id);
    expect(await engine.store.getRun(pipeline.id, first.run_id)).toMatchObject({ status: 'FAILED', cursor: ['4'], rows_read: 4, retries: 1, error: { name: 'Operator.Stopped' } });
    expect(second).toMatchObject({ resumed: false, taken_over: false });
    expect(await engine.store.getRun(pipeline.id, second.run_id)).toMatchObject({ resumed_from: first.run_id, cursor: ['4'] });
    expect(await engine.driveLastStarted()).toMatchObject({ ended: 'completed' });
    expect(await engine.store.getRun(pipeline.id, second.run_id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 6 });
    expect(engine.target.rows.size).toBe(10);
  });

  it('resumes a paused run on a run request, but not on a schedule tick', async () => {
    const { engine, pipeline } = await engineWithPipeline();
    const first = await engine.runs.requestRun(pipeline.id);
    await engine.runs.requestPause(pipeline.id);
    expect(await engine.driveLastStarted()).toMatchObject({ ended: 'paused' });
    expect(await engine.store.getRun(pipeline.id, first.run_id)).toMatchObject({ status: 'PAUSED', batches: 1, cursor: ['2'] });

    await expect(engine.runs.requestRun(pipeline.id, { resume: false })).rejects.toThrow(new ConflictError(`pipeline ${pipeline.id} is PAUSED; only a run request resumes it, a schedule's tick does not`));
    const resumed = await engine.runs.requestRun(pipeline.id);
    expect(resumed).toMatchObject({ run_id: first.run_id, resumed: true, taken_over: false, execution_arn: expect.stringContaining(`${first.run_id}-e2`) as unknown });
    expect(await engine.driveLastStarted()).toMatchObject({ ended: 'completed' });
    expect(await engine.store.getRun(pipeline.id, first.run_id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 10, executions: 2 });
  });

  it('takes over, by its heartbeat, a run whose execution Step Functions cannot describe, once it is stale', async () => {
    const { engine, pipeline } = await engineWithPipeline();
    // A request that committed but died before StartExecution: no execution will ever claim the run.
    const { run: orphan } = await engine.store.requestRun(pipeline.id);
    engine.executions.unreachable(true);
    await expect(engine.runs.requestRun(pipeline.id)).rejects.toThrow(ConflictError);
    engine.store.clock.advance(STALE_RUN_SECONDS);
    const accepted = await engine.runs.requestRun(pipeline.id);
    expect(accepted).toMatchObject({ run_id: orphan.id, resumed: true, taken_over: true });
    expect(engine.executions.started.at(-1)!.name).toMatch(new RegExp(`^${orphan.id}-e1-t[a-z0-9]+$`));
    engine.executions.unreachable(false);
    expect(await engine.driveLastStarted()).toMatchObject({ ended: 'completed' });
    expect(await engine.store.getRun(pipeline.id, orphan.id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 10, executions: 1 });
  });

  it('asks a running pipeline to pause, and answers ConflictError when nothing runs', async () => {
    const { engine, pipeline } = await engineWithPipeline();
    await expect(engine.runs.requestPause(pipeline.id)).rejects.toThrow(new ConflictError(`pipeline ${pipeline.id} is not running (status IDLE)`));
    await engine.runs.requestRun(pipeline.id);
    expect(await engine.runs.requestPause(pipeline.id)).toEqual({ status: 'PAUSE_REQUESTED' });
  });

  it('starts from the beginning after a success, and after a reset, however a failed run ended before', async () => {
    const { engine, pipeline } = await engineWithPipeline();
    engine.target.failNextWrite(new ConnectionLostError('lost (fake)'));
    const failed = await engine.runs.requestRun(pipeline.id);
    const state = { pipeline_id: pipeline.id, run_id: failed.run_id };
    const step = { execution_name: `${failed.run_id}-e1`, execution_arn: failed.execution_arn };
    const loop = await engine.steps.startRun({ ...step, state });
    await expect(engine.steps.runBatch({ ...step, state: { ...loop } })).rejects.toThrow(ConnectionLostError);
    await engine.steps.runBatch({ ...step, state: { ...loop } });
    await engine.steps.failRun({ ...step, state: { ...loop, error: { Error: 'ConnectionLostError', Cause: 'lost' } } });
    expect(await engine.store.getRun(pipeline.id, failed.run_id)).toMatchObject({ status: 'FAILED', cursor: ['2'] });

    await engine.store.resetPipeline(pipeline.id);
    const afterReset = await engine.runs.requestRun(pipeline.id);
    expect(await engine.store.getRun(pipeline.id, afterReset.run_id)).toMatchObject({ resumed_from: null, cursor: null });
    expect(await engine.driveLastStarted()).toMatchObject({ ended: 'completed' });
    const next = await engine.runs.requestRun(pipeline.id);
    expect(await engine.store.getRun(pipeline.id, next.run_id)).toMatchObject({ resumed_from: null, cursor: null });
  });
});
