/** Demo scenario 7: a scheduled incremental pipeline picks up a change by itself within a minute (in the demo's namespace). */
import type pg from 'pg';
import { loadSeedPipeline } from '../../seeds/pipelines/index.ts';
import type { ApiClient } from './api-client.ts';
import type { DemoChecks } from './demo-checks.ts';
import { DEMO_TABLE, demoPipeline } from './demo-namespace.ts';

export const SCHEDULED_PIPELINE = 'film_dim_scheduled';
const MINUTE = 60_000;
/** The first tick comes one minute after the schedule is set; the rest is the stack's poll and the run. */
const WAIT_MS = 3 * MINUTE;

export async function scenarioSchedule(api: ApiClient, db: pg.Pool, warehouse: pg.Pool, checks: DemoChecks, where: { localStack: boolean }): Promise<void> {
  checks.scenario('7. A scheduled incremental pipeline picks up a change by itself within a minute');
  if (!where.localStack) {
    // LocalStack's Scheduler never fires; in the cloud a tick is EventBridge's and may take a minute or two.
    checks.skip('schedule scenario', 'the API is not the embedded local stack: its schedules fire in EventBridge (cloud) or not at all (LocalStack, see localstack/README.md)');
    return;
  }
  const pipeline = await api.createPipeline(demoPipeline(loadSeedPipeline('film_dim_inc'), { name: SCHEDULED_PIPELINE }));
  const accepted = await api.run(pipeline.id);
  const initial = await api.waitForRun(pipeline.id, accepted.run_id);
  checks.expect('the initial load (POST /run) succeeds', initial.status === 'SUCCEEDED', `${initial.status}, read ${initial.rows_read}`);

  const scheduled = await api.updatePipeline(pipeline.id, { schedule: 'rate(1 minute)' });
  const nextRun = Date.parse(scheduled.next_run_at ?? '');
  // The change comes after the schedule is set, so the first tick (one minute after that) is within a minute of it.
  const { rows } = await db.query<{ id: string; title: string; changed_at: Date }>(
    `UPDATE content.film_work SET title = title || ' (scheduled)' WHERE id = (SELECT id FROM content.film_work ORDER BY id DESC LIMIT 1)
     RETURNING id, title, clock_timestamp() AS changed_at`,
  );
  const changed = rows[0]!;
  checks.expect('PATCH sets the schedule; GET shows next_run_at within a minute of the change', scheduled.schedule === 'rate(1 minute)' && nextRun - changed.changed_at.getTime() <= MINUTE, `schedule ${scheduled.schedule}, next_run_at ${scheduled.next_run_at}`);
  console.log(`   changed film ${changed.id} at ${changed.changed_at.toISOString()}; nobody calls POST /run from here on, waiting for the tick at ${scheduled.next_run_at}...`);

  const deadline = Date.now() + WAIT_MS;
  let shown = await api.getPipeline(pipeline.id);
  while (!(shown.last_tick?.outcome === 'started' && shown.last_run?.id === shown.last_tick.run_id && shown.last_run.status === 'SUCCEEDED') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    shown = await api.getPipeline(pipeline.id);
  }
  const tick = shown.last_tick;
  const tickAt = tick ? Date.parse(tick.at) : NaN;
  checks.expect('a tick started a run by itself', tick?.outcome === 'started' && tick.run_id !== accepted.run_id, tick ? `${tick.outcome} at ${tick.at}, run ${tick.run_id}` : 'no tick within 3 minutes');
  checks.expect('the tick came within a minute of the change', tickAt - changed.changed_at.getTime() <= MINUTE, `${Math.round((tickAt - changed.changed_at.getTime()) / 1000)} s after it`);
  checks.expect('that run read only the change: 1 row', shown.last_run?.status === 'SUCCEEDED' && shown.last_run.rows_read === 1, `${shown.last_run?.status}: read ${shown.last_run?.rows_read}`);
  const loaded = await warehouse.query<{ title: string }>(`SELECT title FROM ${DEMO_TABLE} WHERE film_id = $1`, [changed.id]);
  checks.expect('the changed title is in the target', loaded.rows[0]?.title === changed.title, loaded.rows[0]?.title ?? 'missing');
  checks.expect('the next run is one minute after the tick', Date.parse(shown.next_run_at ?? '') === tickAt + MINUTE, `next_run_at ${shown.next_run_at}`);

  // The demo leaves no pipeline running every minute behind it.
  const cleared = await api.updatePipeline(pipeline.id, { schedule: null });
  checks.expect('PATCH schedule null stops it: no next run', cleared.schedule === null && cleared.next_run_at === null, `next_run_at ${cleared.next_run_at}`);
}
