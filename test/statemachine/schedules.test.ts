/**
 * Schedules against the real state database and the real state machine definition: what a tick
 * does when the pipeline is idle, running or paused, both ways a tick arrives (the local
 * scheduler's claim of next_run_at, and an execution started by EventBridge Scheduler with
 * `{"pipeline_id", "scheduled_at"}`), two schedulers on one database, and missed ticks.
 */
import { ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { createScheduleTicks } from '../../lib/core/use-cases/schedule-ticks.ts';
import type { TestDatabase } from '../support/database.ts';
import { filmDimFull, filmDimIncremental, targetDiff } from '../support/film-dim.ts';
import type { RunHarness } from '../support/run-harness.ts';
import { useSeededHarness } from '../support/seeded-harness.ts';

const FILMS = 200;

describe('schedules on the real state database and state machine', () => {
  const fixture = useSeededHarness({ films: FILMS });
  let db: TestDatabase;
  let harness: RunHarness;
  beforeAll(() => {
    ({ db, harness } = fixture);
  });

  /** Ticks of a scheduler whose clock the test sets. */
  const ticksAt = (now: Date) => createScheduleTicks({ schedules: harness.engine.schedules, runs: harness.engine.runs, clock: () => now, logger: silentLogger });
  const setNextRun = (id: string, at: Date) => db.pool.query('UPDATE etl.pipelines SET next_run_at = $2 WHERE id = $1', [id, at]);
  const runCount = async (id: string) => (await harness.engine.runs.listRuns(id)).runs.length;

  /** Holds every RunBatch until `release` is called: the pipeline stays RUNNING meanwhile. */
  function holdBatches() {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    harness.intercept('runBatch', async (input, real) => {
      await gate;
      return await real(input);
    });
    return release;
  }

  /** A scheduled pipeline whose first run committed one batch and was then paused. */
  async function pausedScheduledPipeline() {
    const pipeline = await harness.engine.manage.create({ ...filmDimFull(50), schedule: 'rate(1 minute)' });
    harness.delayBatches(20);
    const first = await harness.engine.runs.requestRun(pipeline.id);
    await harness.until(async () => (await harness.engine.runs.getRun(pipeline.id, first.run_id)).batches >= 1, 'a committed batch');
    await harness.engine.runs.requestPause(pipeline.id);
    await harness.waitForRun(pipeline.id, first.run_id, ['PAUSED']);
    return { pipeline, first };
  }

  it('a pipeline created with a schedule shows it, with next_run_at one period later and no tick yet', async () => {
    const before = Date.now();
    const created = await harness.engine.manage.create({ ...filmDimFull(100), schedule: 'rate(5 minutes)' });
    expect(created).toMatchObject({ schedule: 'rate(5 minutes)', last_tick: null });
    const next = new Date(created.next_run_at!).getTime();
    expect(next).toBeGreaterThanOrEqual(before + 300_000);
    expect(next).toBeLessThanOrEqual(Date.now() + 300_000);
    expect(await harness.engine.manage.get(created.id)).toMatchObject({ schedule: 'rate(5 minutes)', next_run_at: created.next_run_at, last_tick: null });
  });

  it('refuses a bad schedule with a 400 naming schedule, on create and on PATCH, and stores nothing', async () => {
    await expect(harness.engine.manage.create({ ...filmDimFull(), schedule: 'rate(1 minutes)' })).rejects.toThrow(
      new ValidationError('schedule: "rate(1 minutes)": with the value 1 the unit is singular (rate(1 minute))', 'schedule'),
    );
    await expect(harness.engine.manage.create({ ...filmDimFull(), schedule: 'cron(0 0 30 2 ? *)' })).rejects.toThrow(/^schedule: "cron\(0 0 30 2 \? \*\)" never matches after /);
    await expect(harness.engine.manage.create({ ...filmDimFull(), schedule: 5 })).rejects.toThrow('schedule: must be a string, rate(...) or cron(...), or null');
    expect(await harness.engine.manage.list()).toMatchObject({ pipelines: [] });
    const pipeline = await harness.engine.manage.create(filmDimFull());
    await expect(harness.engine.manage.update(pipeline.id, { schedule: 'cron(0 12 * * * *)' })).rejects.toMatchObject({ name: 'ValidationError', field: 'schedule' });
    expect(await harness.engine.manage.get(pipeline.id)).toMatchObject({ schedule: null, next_run_at: null });
  });

  it('PATCH sets, changes and clears a schedule, even while a run is active, without resetting anything', async () => {
    const pipeline = await harness.engine.manage.create(filmDimIncremental(50));
    const release = holdBatches();
    const accepted = await harness.engine.runs.requestRun(pipeline.id);
    const set = await harness.engine.manage.update(pipeline.id, { schedule: 'cron(30 2 * * ? *)' });
    expect(set).toMatchObject({ schedule: 'cron(30 2 * * ? *)', status: expect.stringMatching(/RUN_REQUESTED|RUNNING/) as unknown });
    expect(set.next_run_at).toMatch(/T02:30:00\.000Z$/);
    // A definition change is still refused while running.
    await expect(harness.engine.manage.update(pipeline.id, { batch_size: 10, schedule: null })).rejects.toMatchObject({ name: 'ConflictError' });
    const cleared = await harness.engine.manage.update(pipeline.id, { schedule: null });
    expect(cleared).toMatchObject({ schedule: null, next_run_at: null, last_tick: null });
    release();
    expect(await harness.waitForRun(pipeline.id, accepted.run_id, ['SUCCEEDED', 'FAILED'])).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS });
  });

  it('a due tick of an idle pipeline starts a run through the run request path and records it; the next run is one period after the tick', async () => {
    const pipeline = await harness.engine.manage.create({ ...filmDimFull(100), schedule: 'rate(10 minutes)' });
    const due = new Date(Date.now() - 1_000);
    await setNextRun(pipeline.id, due);
    const now = new Date(due.getTime() + 2_000);
    const [fired, ...others] = await ticksAt(now).runDue();
    expect(others).toEqual([]);
    expect(fired).toMatchObject({ pipelineId: pipeline.id, tick: { at: due.toISOString(), outcome: 'started', message: null } });
    const run = await harness.waitForRun(pipeline.id, fired!.tick.run_id!, ['SUCCEEDED', 'FAILED']);
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS });
    expect(await targetDiff(db.pool)).toMatchObject({ missing: 0, extra: 0 });
    const shown = await harness.engine.manage.get(pipeline.id);
    expect(shown.last_tick).toEqual({ at: due.toISOString(), outcome: 'started', run_id: run.id, message: null });
    expect(shown.next_run_at).toBe(new Date(due.getTime() + 600_000).toISOString());
    // Nothing is due any more: a second pass starts nothing.
    expect(await ticksAt(now).runDue()).toEqual([]);
    expect(await runCount(pipeline.id)).toBe(1);
  });

  it('a tick while a run is active starts nothing, is recorded as skipped_active, and the active run carries on', async () => {
    const pipeline = await harness.engine.manage.create({ ...filmDimFull(50), schedule: 'rate(1 minute)' });
    const release = holdBatches();
    const active = await harness.engine.runs.requestRun(pipeline.id);
    const due = new Date(Date.now() - 500);
    await setNextRun(pipeline.id, due);
    const [fired] = await ticksAt(new Date()).runDue();
    expect(fired!.tick).toMatchObject({ outcome: 'skipped_active', run_id: null, message: expect.stringContaining('already') as unknown });
    expect(await runCount(pipeline.id)).toBe(1);
    expect((await harness.engine.manage.get(pipeline.id)).last_tick).toMatchObject({ at: due.toISOString(), outcome: 'skipped_active' });
    release();
    expect(await harness.waitForRun(pipeline.id, active.run_id, ['SUCCEEDED', 'FAILED'])).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS });
  });

  it('a tick while paused does not resume the paused run: skipped_active, the run stays PAUSED for a person to resume', async () => {
    const { pipeline, first } = await pausedScheduledPipeline();
    await setNextRun(pipeline.id, new Date(Date.now() - 500));
    const [fired] = await ticksAt(new Date()).runDue();
    expect(fired!.tick).toMatchObject({ outcome: 'skipped_active', message: expect.stringContaining('PAUSED') as unknown });
    expect(await harness.engine.runs.getRun(pipeline.id, first.run_id)).toMatchObject({ status: 'PAUSED', executions: 1 });
    expect((await harness.engine.manage.get(pipeline.id)).status).toBe('PAUSED');
    expect(await runCount(pipeline.id)).toBe(1);
  });

  it('two schedulers on one database: a due tick starts exactly one run', async () => {
    const pipeline = await harness.engine.manage.create({ ...filmDimFull(100), schedule: 'rate(1 minute)' });
    await setNextRun(pipeline.id, new Date(Date.now() - 500));
    const now = new Date();
    const [a, b] = await Promise.all([ticksAt(now).runDue(), ticksAt(now).runDue()]);
    const fired = [...a, ...b];
    expect(fired).toHaveLength(1);
    expect(fired[0]!.tick.outcome).toBe('started');
    await harness.waitForRun(pipeline.id, fired[0]!.tick.run_id!, ['SUCCEEDED']);
    expect(await runCount(pipeline.id)).toBe(1);
  });

  it('ticks missed while no scheduler ran (an hour of rate(1 minute)) start one run, not sixty, and the next run is in the future', async () => {
    const pipeline = await harness.engine.manage.create({ ...filmDimFull(100), schedule: 'rate(1 minute)' });
    const due = new Date(Date.now() - 3_600_000 + 10_000);
    await setNextRun(pipeline.id, due);
    const now = new Date();
    const fired = await ticksAt(now).runDue();
    expect(fired).toHaveLength(1);
    await harness.waitForRun(pipeline.id, fired[0]!.tick.run_id!, ['SUCCEEDED']);
    expect(await ticksAt(now).runDue()).toEqual([]);
    const next = new Date((await harness.engine.manage.get(pipeline.id)).next_run_at!).getTime();
    expect(next).toBeGreaterThan(now.getTime());
    expect(next).toBeLessThanOrEqual(now.getTime() + 60_000);
    // Still on the schedule's own grid: a whole number of minutes after the missed tick.
    expect((next - due.getTime()) % 60_000).toBe(0);
    expect(await runCount(pipeline.id)).toBe(1);
  });

  describe('executions started by EventBridge Scheduler ({"pipeline_id", "scheduled_at"})', () => {
    const startTick = async (pipelineId: string, scheduledAt: string) =>
      (await harness.sfn.send(new StartExecutionCommand({ stateMachineArn: harness.stateMachineArn, input: JSON.stringify({ pipeline_id: pipelineId, scheduled_at: scheduledAt }) }))).executionArn!;
    const executionStatus = (arn: string) =>
      harness.until(async () => {
        const { executions = [] } = await harness.sfn.send(new ListExecutionsCommand({ stateMachineArn: harness.stateMachineArn }));
        const status = executions.find((e) => e.executionArn === arn)?.status;
        return status !== 'RUNNING' && status;
      }, `execution ${arn} to end`);

    it('on an idle pipeline: the run is created for the execution and the tick recorded as started, next_run_at moved past it', async () => {
      const pipeline = await harness.engine.manage.create({ ...filmDimFull(100), schedule: 'rate(1 hour)' });
      const scheduledAt = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
      const arn = await startTick(pipeline.id, scheduledAt);
      expect(await executionStatus(arn)).toBe('SUCCEEDED');
      const shown = await harness.engine.manage.get(pipeline.id);
      expect(shown.last_run).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, execution_arn: arn });
      expect(shown.last_tick).toEqual({ at: scheduledAt, outcome: 'started', run_id: shown.last_run!.id, message: null });
      expect(shown.next_run_at).toBe(new Date(Date.parse(scheduledAt) + 3_600_000).toISOString());
    });

    it('while a run is active: the execution fails at StartRun, the tick is recorded as skipped_active, no run is failed or added', async () => {
      const pipeline = await harness.engine.manage.create({ ...filmDimFull(50), schedule: 'rate(1 minute)' });
      const release = holdBatches();
      const active = await harness.engine.runs.requestRun(pipeline.id);
      await harness.until(async () => (await harness.engine.manage.get(pipeline.id)).status === 'RUNNING', 'the run to be claimed');
      const scheduledAt = new Date().toISOString();
      const arn = await startTick(pipeline.id, scheduledAt);
      expect(await executionStatus(arn)).toBe('FAILED');
      const shown = await harness.engine.manage.get(pipeline.id);
      expect(shown.last_tick).toMatchObject({ at: scheduledAt, outcome: 'skipped_active', run_id: null });
      expect(shown.status).toBe('RUNNING');
      expect(await harness.engine.runs.getRun(pipeline.id, active.run_id)).toMatchObject({ status: 'RUNNING', error: null });
      release();
      expect(await harness.waitForRun(pipeline.id, active.run_id, ['SUCCEEDED', 'FAILED'])).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, error: null });
      expect((await harness.engine.runs.listRuns(pipeline.id)).runs.map((r) => r.status)).toEqual(['SUCCEEDED']);
    });

    it('while paused: the execution does not resume the paused run; the tick is recorded as skipped_active', async () => {
      const { pipeline, first } = await pausedScheduledPipeline();
      const arn = await startTick(pipeline.id, new Date().toISOString());
      expect(await executionStatus(arn)).toBe('FAILED');
      expect((await harness.engine.manage.get(pipeline.id)).last_tick).toMatchObject({ outcome: 'skipped_active', message: expect.stringContaining('PAUSED') as unknown });
      expect(await harness.engine.runs.getRun(pipeline.id, first.run_id)).toMatchObject({ status: 'PAUSED', executions: 1, error: null });
    });
  });
});
