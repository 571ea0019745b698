/**
 * Pause and resume on the real state machine definition: a pause lands between batches with the
 * cursor saved, the next run request resumes the same run in a new execution, and no row is read
 * twice however often that happens.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../lib/core/errors.ts';
import type { TestDatabase } from '../support/database.ts';
import { useSeededHarness } from '../support/seeded-harness.ts';
import { filmDimFull, targetDiff } from '../support/film-dim.ts';
import { loopState, seededRandom, sleep, type FaultHarness } from '../support/fault-harness.ts';

const FILMS = 600;
const EVERYTHING = { missing: 0, extra: 0, targetRows: FILMS, sourceRows: FILMS };

describe('pause and resume on the real state machine definition', () => {
  const fixture = useSeededHarness({ films: FILMS });
  let db: TestDatabase;
  let harness: FaultHarness;
  beforeAll(() => {
    ({ db, harness } = fixture);
  });


  it('pauses between batches with the cursor saved; the next request resumes the same run in a new execution', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(50));
    harness.delayBatches(15);
    const first = await harness.engine.runs.requestRun(pipeline.id);
    await harness.until(async () => (await harness.engine.runs.getRun(pipeline.id, first.run_id)).batches >= 2, 'two committed batches');
    await expect(harness.engine.runs.requestPause(pipeline.id)).resolves.toEqual({ status: 'PAUSE_REQUESTED' });

    const paused = await harness.waitForRun(pipeline.id, first.run_id, ['PAUSED', 'SUCCEEDED', 'FAILED']);
    expect(paused).toMatchObject({ status: 'PAUSED', finished_at: null, error: null });
    expect(paused.batches).toBeGreaterThanOrEqual(2);
    expect(paused.batches).toBeLessThan(FILMS / 50);
    expect(paused.rows_read).toBe(paused.batches * 50);
    expect(paused.cursor).not.toBeNull();
    expect((await harness.engine.manage.get(pipeline.id)).status).toBe('PAUSED');
    expect(await targetDiff(db.pool)).toMatchObject({ targetRows: paused.rows_read, extra: 0 });
    // The pausing execution ended normally (PauseRun is an end state), it did not fail.
    expect(await harness.executionsOf(first.run_id)).toEqual([expect.objectContaining({ executionArn: first.execution_arn, status: 'SUCCEEDED' })]);

    const second = await harness.engine.runs.requestRun(pipeline.id);
    expect(second).toMatchObject({ run_id: first.run_id, resumed: true, taken_over: false });
    expect(second.execution_arn).not.toBe(first.execution_arn);
    const done = await harness.waitForRun(pipeline.id, first.run_id, ['SUCCEEDED', 'FAILED', 'PAUSED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, rows_written: FILMS, batches: FILMS / 50, executions: 2, retries: 0 });
    expect((await harness.engine.runs.listRuns(pipeline.id)).runs).toHaveLength(1);
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('refuses to pause a pipeline that is not running (409), and a pipeline that does not exist (404)', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(200));
    await expect(harness.engine.runs.requestPause(pipeline.id)).rejects.toBeInstanceOf(ConflictError);
    await harness.runToEnd(pipeline.id);
    await expect(harness.engine.runs.requestPause(pipeline.id)).rejects.toMatchObject({ name: 'ConflictError', message: expect.stringContaining('SUCCEEDED') as unknown });
    await expect(harness.engine.runs.requestPause('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a pause that arrives during the last batch is too late: the run completes normally', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(200));
    let pausedAtDone = false;
    harness.intercept('runBatch', async (input, real) => {
      const result = loopState(await real(input));
      if (result.done) {
        // The user asks to pause while the final, short batch is committing.
        await harness.engine.runs.requestPause(pipeline.id);
        pausedAtDone = true;
      }
      return result;
    });
    const run = await harness.runToEnd(pipeline.id);
    expect(pausedAtDone).toBe(true);
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, executions: 1 });
    expect((await harness.engine.manage.get(pipeline.id)).status).toBe('SUCCEEDED');
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });

  it('survives 20 pause/resume cycles at random moments: one run, each row read once', async () => {
    const random = seededRandom(20_240_611);
    const pipeline = await harness.engine.manage.create(filmDimFull(5)); // 120 batches
    harness.delayBatches(4);
    const first = await harness.engine.runs.requestRun(pipeline.id);
    const executionArns = new Set([first.execution_arn]);
    for (let cycle = 0; cycle < 20; cycle += 1) {
      // Anywhere from before the execution claims the run to a few batches in.
      await sleep(Math.floor(random() * 30));
      await harness.engine.runs.requestPause(pipeline.id);
      const paused = await harness.waitForRun(pipeline.id, first.run_id, ['PAUSED', 'SUCCEEDED', 'FAILED']);
      expect(paused.status).toBe('PAUSED');
      const resumed = await harness.engine.runs.requestRun(pipeline.id);
      expect(resumed).toMatchObject({ run_id: first.run_id, resumed: true });
      executionArns.add(resumed.execution_arn);
    }
    const done = await harness.waitForRun(pipeline.id, first.run_id, ['SUCCEEDED', 'FAILED', 'PAUSED']);
    expect(executionArns.size).toBe(21);
    expect(done).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, rows_written: FILMS, batches: FILMS / 5, executions: 21, retries: 0 });
    expect((await harness.engine.runs.listRuns(pipeline.id)).runs).toHaveLength(1);
    expect(await targetDiff(db.pool)).toEqual(EVERYTHING);
  });
});
