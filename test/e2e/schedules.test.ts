/**
 * A schedule on the real local stack, as `npm start` runs it: a pipeline created over HTTP with
 * `rate(1 minute)` runs by itself (nobody calls POST /run) within 90 s, and GET shows the
 * schedule, its next run and the tick that started the run. Only the scheduler's poll interval is
 * shortened (1 s instead of 5 s); the rate itself is the real one minute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '../../tools/local/api-client.ts';
import type { LocalStack } from '../../tools/local/stack.ts';
import type { TestDatabase } from '../support/database.ts';
import { filmDimFull, targetDiff } from '../support/film-dim.ts';
import { startLocalStackUnderTest, type LocalStackUnderTest } from '../support/local-stack.ts';

const FILMS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('schedules on the local stack', () => {
  let db: TestDatabase;
  let stack: LocalStack;
  let api: ApiClient;
  let local: LocalStackUnderTest | undefined;

  beforeAll(async () => {
    local = await startLocalStackUnderTest({ films: FILMS, settings: { LOG_LEVEL: 'warn' }, schedulerPollMs: 1_000 });
    ({ db, stack, api } = local);
  }, 180_000);

  afterAll(() => local?.stop());

  it('refuses a bad schedule over HTTP with a 400 that names schedule and says why', async () => {
    const refused = await api.createPipeline({ ...filmDimFull(50), name: 'bad_schedule', schedule: 'cron(0 12 * * * *)' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 400, code: 'validation_error', message: '400 validation_error: schedule: "cron(0 12 * * * *)": exactly one of day-of-month and day-of-week must be "?" (EventBridge cannot combine them)' });
  });

  it('rate(1 minute) runs a pipeline by itself within 90 s, and GET shows the schedule, its next run and the tick', async () => {
    const created = await api.createPipeline({ ...filmDimFull(50), schedule: 'rate(1 minute)' });
    expect(created).toMatchObject({ schedule: 'rate(1 minute)', last_tick: null });
    const firstRun = Date.parse(created.next_run_at!);
    expect(firstRun - Date.now()).toBeGreaterThan(50_000);
    expect(firstRun - Date.now()).toBeLessThanOrEqual(60_000);
    expect(await stack.scheduled()).toEqual([{ id: created.id, name: created.name, schedule: 'rate(1 minute)', next_run_at: created.next_run_at }]);

    const deadline = Date.now() + 90_000;
    let shown = await api.getPipeline(created.id);
    while (shown.last_run?.status !== 'SUCCEEDED' && Date.now() < deadline) {
      await sleep(1_000);
      shown = await api.getPipeline(created.id);
    }
    expect(shown.last_run).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, rows_written: FILMS });
    expect(shown.last_tick).toEqual({ at: created.next_run_at, outcome: 'started', run_id: shown.last_run!.id, message: null });
    // The next tick is one minute after the first, on the same grid.
    expect(Date.parse(shown.next_run_at!)).toBe(firstRun + 60_000);
    expect(await targetDiff(db.pool)).toMatchObject({ missing: 0, extra: 0, targetRows: FILMS });
    expect(await api.listRuns(created.id)).toHaveLength(1);

    // Cleared over PATCH: no next run any more, and the last tick is forgotten with its schedule.
    const cleared = await api.updatePipeline(created.id, { schedule: null });
    expect(cleared).toMatchObject({ schedule: null, next_run_at: null, last_tick: null });
  }, 120_000);
});
