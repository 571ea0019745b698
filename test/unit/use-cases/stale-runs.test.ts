/**
 * The stale-run rule over the in-memory store and executions: when an active run may be taken
 * over (its execution ended, or cannot be asked about and the run shows no life), and when it
 * may not (its execution runs, or it showed life within STALE_RUN_SECONDS).
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../../lib/core/errors.ts';
import { createFakeEngine, STALE_RUN_SECONDS } from '../../support/fakes/engine.ts';
import { fullItems, itemRows } from './items.ts';

async function runningPipeline() {
  const engine = createFakeEngine();
  engine.source.rows.push(...itemRows(1, 6));
  const pipeline = await engine.store.createPipeline(fullItems(2));
  return { engine, pipeline };
}

describe('the stale-run rule', () => {
  it('finds nothing to take over on a pipeline without an active run', async () => {
    const { engine, pipeline } = await runningPipeline();
    expect(await engine.stale.check(pipeline.id)).toBeNull();
  });

  it('refuses while the owner execution is running, however old its heartbeat', async () => {
    const { engine, pipeline } = await runningPipeline();
    const accepted = await engine.runs.requestRun(pipeline.id);
    engine.store.clock.advance(STALE_RUN_SECONDS * 10);
    await expect(engine.stale.check(pipeline.id)).rejects.toThrow(
      new ConflictError(`pipeline ${pipeline.id} is already RUN_REQUESTED (run ${accepted.run_id}, execution ${accepted.run_id}-e1 is running)`),
    );
  });

  it('takes over at once a run whose owner Step Functions reports ended', async () => {
    const { engine, pipeline } = await runningPipeline();
    const accepted = await engine.runs.requestRun(pipeline.id);
    engine.executions.setStatus(`${accepted.run_id}-e1`, 'TIMED_OUT');
    expect(await engine.stale.check(pipeline.id)).toEqual({ runId: accepted.run_id, executionName: `${accepted.run_id}-e1`, minIdleSeconds: null, reason: `execution ${accepted.run_id}-e1 is TIMED_OUT` });
  });

  it('judges by the heartbeat when Step Functions cannot be asked: alive until STALE_RUN_SECONDS, then stale', async () => {
    const { engine, pipeline } = await runningPipeline();
    const accepted = await engine.runs.requestRun(pipeline.id);
    engine.executions.unreachable(true);
    engine.store.clock.advance(STALE_RUN_SECONDS - 1);
    await expect(engine.stale.check(pipeline.id)).rejects.toThrow(new ConflictError(`pipeline ${pipeline.id} is already RUN_REQUESTED (run ${accepted.run_id})`));
    engine.store.clock.advance(1);
    expect(await engine.stale.check(pipeline.id)).toMatchObject({ runId: accepted.run_id, minIdleSeconds: STALE_RUN_SECONDS, reason: expect.stringContaining('no sign of life') as unknown });
  });

  it('judges by the heartbeat a run whose recorded ARN is not its owner (handed over, start not confirmed)', async () => {
    const { engine, pipeline } = await runningPipeline();
    const { run } = await engine.store.requestRun(pipeline.id, { nameExecution: () => 'never-started' });
    expect(run.execution_arn).toBe('');
    await expect(engine.stale.check(pipeline.id)).rejects.toThrow(ConflictError);
    engine.store.clock.advance(STALE_RUN_SECONDS);
    expect(await engine.stale.check(pipeline.id)).toMatchObject({ runId: run.id, executionName: 'never-started', minIdleSeconds: STALE_RUN_SECONDS });
  });

  it('lets the heartbeat of a live owner win over a takeover judged from an earlier read', async () => {
    const { engine, pipeline } = await runningPipeline();
    const accepted = await engine.runs.requestRun(pipeline.id);
    engine.executions.unreachable(true);
    engine.store.clock.advance(STALE_RUN_SECONDS);
    const takeOver = (await engine.stale.check(pipeline.id))!;
    // The owner shows life (its StartRun) between the judgement and the request.
    await engine.steps.startRun({ state: { pipeline_id: pipeline.id, run_id: accepted.run_id }, execution_name: `${accepted.run_id}-e1`, execution_arn: accepted.execution_arn });
    await expect(engine.store.requestRun(pipeline.id, { takeOver })).rejects.toThrow(new ConflictError(`pipeline ${pipeline.id} is already RUNNING`));
  });
});
