/**
 * The state machine's task steps over the in-memory fakes: a run from StartRun to CompleteRun,
 * pause and resume, failures recorded on the run, retries counted once, incremental runs from the
 * checkpoint, continue-as-new, and executions started with only pipeline_id (console, CLI,
 * schedules), which get their run through the same path as POST /run.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionLostError, KeyIntegrityError, RunStateError } from '../../../lib/core/errors.ts';
import { createFakeEngine, type FakeEngine } from '../../support/fakes/engine.ts';
import { fullItems, incrementalItems, itemRows } from './items.ts';

async function setUp(definition = fullItems(2), rows = itemRows(1, 10), options: { batchesPerExecution?: number } = {}) {
  const engine = createFakeEngine(options);
  engine.source.rows.push(...rows);
  const pipeline = await engine.store.createPipeline(definition);
  return { engine, pipeline };
}

/** A run that committed two batches (4 rows) and then failed with its error recorded. */
async function failedAfterTwoBatches(engine: FakeEngine, pipelineId: string) {
  const accepted = await engine.runs.requestRun(pipelineId);
  const step = { execution_name: `${accepted.run_id}-e1`, execution_arn: accepted.execution_arn };
  let state = await engine.steps.startRun({ ...step, state: { pipeline_id: pipelineId, run_id: accepted.run_id } });
  state = await engine.steps.runBatch({ ...step, state: { ...state } });
  state = await engine.steps.runBatch({ ...step, state: { ...state } });
  engine.source.failNextRead(new ConnectionLostError('lost (fake)'));
  await expect(engine.steps.runBatch({ ...step, state: { ...state } })).rejects.toThrow(ConnectionLostError);
  await engine.steps.failRun({ ...step, state: { ...state, error: { Error: 'ConnectionLostError', Cause: JSON.stringify({ errorType: 'ConnectionLostError', errorMessage: 'lost (fake)' }) } } });
  return accepted.run_id;
}

describe('the run steps over in-memory fakes', () => {
  it('runs a full pipeline from StartRun to CompleteRun: every row written once, metrics counted, sink prepared and finished', async () => {
    const { engine, pipeline } = await setUp();
    const accepted = await engine.runs.requestRun(pipeline.id);
    expect(await engine.driveLastStarted()).toMatchObject({ ended: 'completed' });
    expect(await engine.store.getRun(pipeline.id, accepted.run_id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 10, rows_written: 10, batches: 5, retries: 0, executions: 1, cursor: ['10'], batch_sizes: { '2': 5 } });
    expect(await engine.store.pipelineStatus(pipeline.id)).toBe('SUCCEEDED');
    expect([...engine.target.rows.keys()]).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(engine.target.prepared).toEqual([{ runId: accepted.run_id, fromStart: true }]);
    expect(engine.target.finished).toEqual([accepted.run_id]);
  });

  it('records the caught error on the run and the pipeline; the next run carries on from its cursor', async () => {
    const { engine, pipeline } = await setUp();
    const failedId = await failedAfterTwoBatches(engine, pipeline.id);
    expect(await engine.store.getRun(pipeline.id, failedId)).toMatchObject({ status: 'FAILED', cursor: ['4'], rows_read: 4, error: { name: 'ConnectionLostError', message: 'lost (fake)' } });
    expect(await engine.store.pipelineStatus(pipeline.id)).toBe('FAILED');

    const next = await engine.runs.requestRun(pipeline.id);
    expect(await engine.driveLastStarted()).toMatchObject({ ended: 'completed' });
    expect(await engine.store.getRun(pipeline.id, next.run_id)).toMatchObject({ status: 'SUCCEEDED', resumed_from: failedId, rows_read: 6 });
    expect(engine.target.prepared.at(-1)).toEqual({ runId: next.run_id, fromStart: false });
    expect(engine.target.rows.size).toBe(10);
  });

  it('records nothing on any run when the execution failed before claiming one', async () => {
    const { engine, pipeline } = await setUp();
    const recorded = await engine.steps.failRun({ state: { pipeline_id: pipeline.id, error: { Error: 'RunStateError', Cause: 'refused' } }, execution_name: 'outside-1', execution_arn: 'arn' });
    expect(recorded).toMatchObject({ recorded: false });
    expect(engine.store.runs()).toEqual([]);
  });

  it('fails a batch whose target keys repeat without moving the cursor', async () => {
    const { engine, pipeline } = await setUp(fullItems(2), [...itemRows(1, 2), { id: 3, title: 'a' }]);
    const accepted = await engine.runs.requestRun(pipeline.id);
    engine.source.rows.push({ id: 3, title: 'b' });
    expect(await engine.driveLastStarted()).toMatchObject({ ended: 'failed' });
    const run = await engine.store.getRun(pipeline.id, accepted.run_id);
    expect(run).toMatchObject({ status: 'FAILED', cursor: ['2'], error: { name: KeyIntegrityError.name } });
  });

  it('counts a retried batch once: the retry is counted, the rows are not', async () => {
    const { engine, pipeline } = await setUp();
    const accepted = await engine.runs.requestRun(pipeline.id);
    const step = { execution_name: `${accepted.run_id}-e1`, execution_arn: accepted.execution_arn };
    let state = await engine.steps.startRun({ ...step, state: { pipeline_id: pipeline.id, run_id: accepted.run_id } });
    engine.target.failNextWrite(new ConnectionLostError('lost (fake)'));
    await expect(engine.steps.runBatch({ ...step, state: { ...state } })).rejects.toThrow(ConnectionLostError);
    state = await engine.steps.runBatch({ ...step, state: { ...state } });
    expect(state).toMatchObject({ batches_in_execution: 1, done: false });
    expect(await engine.store.getRun(pipeline.id, accepted.run_id)).toMatchObject({ retries: 1, batches: 1, rows_read: 2, cursor: ['2'] });
  });

  it('pauses between batches when asked, keeps the cursor, and resumes the same run to the end', async () => {
    const { engine, pipeline } = await setUp();
    const accepted = await engine.runs.requestRun(pipeline.id);
    const step = { execution_name: `${accepted.run_id}-e1`, execution_arn: accepted.execution_arn };
    let state = await engine.steps.startRun({ ...step, state: { pipeline_id: pipeline.id, run_id: accepted.run_id } });
    state = await engine.steps.runBatch({ ...step, state: { ...state } });
    await engine.runs.requestPause(pipeline.id);
    state = await engine.steps.runBatch({ ...step, state: { ...state } });
    expect(state.pause_requested).toBe(true);
    await engine.steps.pauseRun({ ...step, state: { ...state } });
    expect(await engine.store.getRun(pipeline.id, accepted.run_id)).toMatchObject({ status: 'PAUSED', cursor: ['4'], finished_at: null });
    expect(await engine.store.pipelineStatus(pipeline.id)).toBe('PAUSED');
    // The paused execution's steps are refused once it paused: a second PauseRun, a batch.
    await expect(engine.steps.runBatch({ ...step, state: { ...state } })).rejects.toThrow(new RunStateError(`run ${accepted.run_id} is PAUSED`));

    await engine.runs.requestRun(pipeline.id);
    expect(await engine.driveLastStarted()).toMatchObject({ ended: 'completed' });
    expect(await engine.store.getRun(pipeline.id, accepted.run_id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 10, executions: 2 });
    expect(engine.target.prepared.map((p) => p.fromStart)).toEqual([true, false]);
  });

  it('starts an incremental run at the checkpoint the previous run left', async () => {
    const { engine, pipeline } = await setUp(incrementalItems(2), itemRows(1, 5, '2026-01-01 00:00:00'));
    const first = await engine.runs.requestRun(pipeline.id);
    await engine.driveLastStarted();
    expect(await engine.store.getCheckpoint(pipeline.id)).toMatchObject({ last_value: '2026-01-01 00:00:00', last_id: '5', run_id: first.run_id });

    engine.source.rows.push(...itemRows(6, 8, '2026-01-02 00:00:00'));
    const second = await engine.runs.requestRun(pipeline.id);
    await engine.driveLastStarted();
    expect(await engine.store.getRun(pipeline.id, second.run_id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 3, resumed_from: null, cursor: ['2026-01-02 00:00:00', '8'] });
    expect(engine.source.reads.at(-2)!.after).toEqual(['2026-01-01 00:00:00', '5']);
  });

  it('continues a long run as a new execution; the previous one can no longer write', async () => {
    const { engine, pipeline } = await setUp(fullItems(2), itemRows(1, 10), { batchesPerExecution: 2 });
    const accepted = await engine.runs.requestRun(pipeline.id);
    const first = await engine.driveLastStarted();
    expect(first).toMatchObject({ ended: 'continued' });
    const next = engine.executions.started.at(-1)!;
    expect(next).toMatchObject({ name: `${accepted.run_id}-e2`, input: { pipeline_id: pipeline.id, run_id: accepted.run_id, continued: true } });
    await expect(engine.steps.runBatch({ state: { ...first.state }, execution_name: `${accepted.run_id}-e1`, execution_arn: accepted.execution_arn })).rejects.toThrow(RunStateError);

    while ((await engine.driveLastStarted()).ended === 'continued');
    expect(await engine.store.getRun(pipeline.id, accepted.run_id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 10, executions: 3 });
  });
});

describe('executions started with only pipeline_id (console, CLI, schedules)', () => {
  it('start from the same cursor as POST /run after a failed full run', async () => {
    const byRequest = await setUp();
    const failedByRequest = await failedAfterTwoBatches(byRequest.engine, byRequest.pipeline.id);
    const viaApi = await byRequest.engine.runs.requestRun(byRequest.pipeline.id);

    const byExecution = await setUp();
    const failedByExecution = await failedAfterTwoBatches(byExecution.engine, byExecution.pipeline.id);
    await byExecution.engine.drive('outside-1', { pipeline_id: byExecution.pipeline.id });
    const adopted = byExecution.engine.store.runs().find((run) => run.execution_name === 'outside-1')!;

    expect(await byRequest.engine.store.getRun(byRequest.pipeline.id, viaApi.run_id)).toMatchObject({ resumed_from: failedByRequest, cursor: ['4'] });
    expect(adopted).toMatchObject({ status: 'SUCCEEDED', resumed_from: failedByExecution, rows_read: 6, executions: 1 });
  });

  it('claim again, on a retried StartRun, the run they already adopted', async () => {
    const { engine, pipeline } = await setUp();
    const input = { state: { pipeline_id: pipeline.id }, execution_name: 'outside-1', execution_arn: engine.executions.executionArn!('outside-1') };
    const first = await engine.steps.startRun(input);
    const retried = await engine.steps.startRun(input);
    expect(retried.run_id).toBe(first.run_id);
    expect(engine.store.runs()).toHaveLength(1);
    expect(await engine.store.getRun(pipeline.id, first.run_id)).toMatchObject({ execution_name: 'outside-1', executions: 2 });
  });

  it('are refused while another execution runs the pipeline, and take over its run once that execution ended', async () => {
    const { engine, pipeline } = await setUp();
    const accepted = await engine.runs.requestRun(pipeline.id);
    await expect(engine.steps.startRun({ state: { pipeline_id: pipeline.id }, execution_name: 'outside-1', execution_arn: 'arn' })).rejects.toThrow(RunStateError);

    // Ended before it claimed the run: reconciliation fails it, and the outside execution starts a new run.
    engine.executions.setStatus(`${accepted.run_id}-e1`, 'ABORTED');
    expect(await engine.drive('outside-2', { pipeline_id: pipeline.id })).toMatchObject({ ended: 'completed' });
    expect(await engine.store.getRun(pipeline.id, accepted.run_id)).toMatchObject({ status: 'FAILED', error: { name: 'ExecutionAborted' } });
    expect(engine.store.runs().find((run) => run.execution_name === 'outside-2')).toMatchObject({ status: 'SUCCEEDED', rows_read: 10 });
  });

  it('never resume a paused run when started by a schedule', async () => {
    const { engine, pipeline } = await setUp();
    await engine.runs.requestRun(pipeline.id);
    await engine.runs.requestPause(pipeline.id);
    await engine.driveLastStarted();
    await expect(engine.steps.startRun({ state: { pipeline_id: pipeline.id, scheduled_at: '2026-01-01T01:00:00Z' }, execution_name: 'tick-1', execution_arn: 'arn' })).rejects.toThrow(
      new RunStateError(`pipeline ${pipeline.id} is PAUSED; only a run request resumes it, a schedule's tick does not`),
    );
    expect(await engine.store.pipelineStatus(pipeline.id)).toBe('PAUSED');
  });
});
