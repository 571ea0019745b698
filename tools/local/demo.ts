/**
 * `npm run demo`: the seed demo scenarios, run against the HTTP API as a user would, each check
 * printed; exits non-zero when one fails. Uses the running stack (API_URL, default
 * http://127.0.0.1:3000) or, when none answers, starts the embedded default stack itself.
 */
import pg from 'pg';
import { loadFilmDimMapping, loadSeedPipeline } from '../../seeds/pipelines/index.ts';
import { createJsonLogger } from './json-logger.ts';
import { createApiClient, type ApiClient } from './api-client.ts';
import { DemoChecks } from './demo-checks.ts';
import { prepareDemoConnections } from './demo-databases.ts';
import { localConfig } from './local-config.ts';
import { startLocalStack, type LocalStack } from './stack.ts';
import { DEMO_PREFIX, DEMO_TABLE, demoPipeline } from './demo-namespace.ts';
import { DELETES_PIPELINES, scenarioDeletes } from './demo-deletes.ts';
import { scenarioSearch } from './demo-search.ts';
import { SCHEDULED_PIPELINE, scenarioSchedule } from './demo-schedule.ts';

const DEMO_PIPELINES = ['film_dim_snoop', 'film_dim_full', 'film_dim_inc', 'film_dim_tasks', 'film_dim_slow', 'film_dim_retry', 'film_dim_search', ...DELETES_PIPELINES, SCHEDULED_PIPELINE].map((name) => `${DEMO_PREFIX}${name}`);

async function main(): Promise<number> {
  const apiUrl = localConfig.apiUrl;
  let stack: LocalStack | undefined;
  let api = createApiClient(apiUrl, localConfig.apiKey);
  if (!(await api.health().then(() => true, () => false))) {
    console.log(`no API at ${apiUrl}: starting the embedded default stack for the demo...`);
    stack = await startLocalStack({ ...stackPorts(), databaseUrl: localConfig.databaseUrl, esUrl: localConfig.esUrl, opensearchUrl: localConfig.opensearchUrl, apiKey: localConfig.apiKey, settings: localConfig.functionSettings, connections: localConfig.connections, demoConnections: true, logger: createJsonLogger({ service: 'etl-local', level: 'warn' }), seedWhenEmpty: true });
    api = createApiClient(stack.apiUrl, localConfig.apiKey);
  }
  const databaseUrl = stack?.databaseUrl ?? localConfig.databaseUrl ?? `postgres://postgres:postgres@127.0.0.1:${localConfig.embeddedPort}/${localConfig.embeddedDatabase}`;
  const db = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  db.on('error', () => undefined);
  // The demo's target is the `warehouse` database, reached through its own connection.
  const warehouseUrl = localConfig.connections.warehouse ?? (await prepareDemoConnections(databaseUrl)).warehouse;
  warehouse = new pg.Pool({ connectionString: warehouseUrl, max: 2 });
  warehouse.on('error', () => undefined);
  const checks = new DemoChecks();
  try {
    await cleanUp(api, db);
    await scenarioConnections(api, checks);
    await scenarioFullLoad(api, db, checks);
    await scenarioIncremental(api, db, checks);
    await scenarioTasks(api, db, checks);
    await scenarioPauseResume(api, db, checks);
    await scenarioRetry(api, db, checks);
    await scenarioSearch(api, db, checks, { esUrl: localConfig.esUrl, opensearchUrl: localConfig.opensearchUrl, mapping: loadFilmDimMapping() });
    await scenarioDeletes(api, db, warehouse, checks, { esUrl: localConfig.esUrl, opensearchUrl: localConfig.opensearchUrl });
    // The embedded stack runs its own scheduler: this one, or the default local URL's.
    await scenarioSchedule(api, db, warehouse, checks, { localStack: stack !== undefined || apiUrl === `http://127.0.0.1:${localConfig.apiPort}` });
  } catch (error) {
    checks.fail('the demo stopped on an unexpected error', error instanceof Error ? error.message : String(error));
  } finally {
    await db.end();
    await warehouse.end();
    await stack?.stop();
  }
  return checks.summary();
}

function stackPorts() {
  return { apiPort: localConfig.apiPort, lambdaPort: localConfig.lambdaPort, sfnPort: localConfig.sfnPort };
}

/** Deletes the demo's own pipelines (and their runs and checkpoints) and empties its own table; nothing else. */
async function cleanUp(api: ApiClient, db: pg.Pool): Promise<void> {
  for (const pipeline of await api.listPipelines()) {
    if (!DEMO_PIPELINES.includes(pipeline.name)) continue;
    if (['RUNNING', 'RUN_REQUESTED', 'PAUSE_REQUESTED'].includes(pipeline.status)) {
      throw new Error(`demo pipeline ${pipeline.name} is ${pipeline.status}; wait for it to finish`);
    }
    if (pipeline.status === 'PAUSED') await db.query(`UPDATE etl.pipeline_runs SET status = 'FAILED' WHERE pipeline_id = $1 AND status = 'PAUSED'`, [pipeline.id]);
    await db.query(`UPDATE etl.pipelines SET status = 'IDLE' WHERE id = $1`, [pipeline.id]);
    await api.deletePipeline(pipeline.id);
  }
  await warehouse.query('DROP TABLE IF EXISTS analytics.demo_film_dim_away');
  await warehouse.query(`CREATE TABLE IF NOT EXISTS ${DEMO_TABLE} (LIKE analytics.film_dim INCLUDING ALL)`);
  await warehouse.query(`TRUNCATE ${DEMO_TABLE}`);
}

/** The demo's target database (connection `warehouse`); set by main(). */
let warehouse: pg.Pool;

const count = async (db: pg.Pool, sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
const sourceCount = (db: pg.Pool) => count(db, 'SELECT count(*) AS n FROM content.film_work');
const targetCount = (_db: pg.Pool) => count(warehouse, `SELECT count(*) AS n FROM ${DEMO_TABLE}`);

async function runAndWait(api: ApiClient, id: string) {
  const accepted = await api.run(id);
  return await api.waitForRun(id, accepted.run_id);
}

async function scenarioConnections(api: ApiClient, checks: DemoChecks): Promise<void> {
  checks.scenario('0. Connections: the catalogue through a read-only role, the target in its own database');
  const connections = await api.connections();
  const named = (name: string) => connections.find((c) => c.name === name);
  checks.expect('catalogue and warehouse are listed and answer', named('catalogue')?.ok === true && named('warehouse')?.ok === true, connections.map((c) => `${c.name}=${c.ok ? 'ok' : 'down'} ${c.user}@${c.host}/${c.database}`).join(', '));
  checks.expect('the target database is another one than the catalogue', named('warehouse')?.database === 'warehouse' && named('catalogue')?.database !== 'warehouse', `warehouse: ${named('warehouse')?.database}, catalogue: ${named('catalogue')?.database}`);
  // The check at creation runs the query (LIMIT 0) as the catalogue role, which may not read etl.
  const snoop = { name: 'film_dim_snoop', mode: 'full', batch_size: 10, source: { connection: 'catalogue', query: 'SELECT id AS film_id, name AS title FROM etl.pipelines' }, target: { connection: 'warehouse', type: 'postgres', table: 'analytics.film_dim', key: ['film_id'] } };
  const refusal = await api.createPipeline(demoPipeline(snoop)).then(
    () => 'created',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  checks.expect("a pipeline reading the platform's own etl schema through catalogue is refused (400 at creation)", /^400 .*source\.query: permission denied for schema etl/.test(refusal), refusal);
}

async function scenarioFullLoad(api: ApiClient, db: pg.Pool, checks: DemoChecks): Promise<void> {
  checks.scenario(`1. Full load from the catalogue (connection catalogue, a read-only role) into ${DEMO_TABLE} of the warehouse database (connection warehouse)`);
  const pipeline = await api.createPipeline(demoPipeline(loadSeedPipeline('film_dim_full')));
  const run = await runAndWait(api, pipeline.id);
  const source = await sourceCount(db);
  checks.expect('run SUCCEEDED', run.status === 'SUCCEEDED', `${run.status} ${run.error?.message ?? ''}`);
  checks.expect(`target rows equal source rows (${source})`, (await targetCount(db)) === source, `target ${await targetCount(db)}`);
  checks.expect(`rows_read = rows_written = ${source}`, run.rows_read === source && run.rows_written === source, `read ${run.rows_read}, written ${run.rows_written}, batches ${run.batches}`);
}

async function scenarioIncremental(api: ApiClient, db: pg.Pool, checks: DemoChecks): Promise<void> {
  checks.scenario('2. Incremental load with a checkpoint in etl.etl_state');
  const pipeline = await api.createPipeline(demoPipeline(loadSeedPipeline('film_dim_inc')));
  const source = await sourceCount(db);
  const first = await runAndWait(api, pipeline.id);
  const state = await api.getState(pipeline.id);
  checks.expect(`first run reads and writes all ${source} films`, first.status === 'SUCCEEDED' && first.rows_read === source && first.rows_written === source, `${first.status}: read ${first.rows_read}, written ${first.rows_written}`);
  checks.expect('a checkpoint is saved', state.last_value !== null && state.last_id !== null, `last_value ${state.last_value}, last_id ${state.last_id}`);
  const second = await runAndWait(api, pipeline.id);
  checks.expect('second run with no change reads 0 and writes 0', second.status === 'SUCCEEDED' && second.rows_read === 0 && second.rows_written === 0, `read ${second.rows_read}, written ${second.rows_written}`);
  const { rows } = await db.query<{ id: string }>(`UPDATE content.film_work SET title = title || ' (restored)' WHERE id = (SELECT id FROM content.film_work ORDER BY id LIMIT 1) RETURNING id`);
  const third = await runAndWait(api, pipeline.id);
  checks.expect('after touching one film the next run reads 1 and writes 1', third.status === 'SUCCEEDED' && third.rows_read === 1 && third.rows_written === 1, `read ${third.rows_read}, written ${third.rows_written}`);
  const loaded = await warehouse.query<{ title: string }>(`SELECT title FROM ${DEMO_TABLE} WHERE film_id = $1`, [rows[0]!.id]);
  checks.expect('the changed title is in the target', loaded.rows[0]?.title.endsWith('(restored)') === true, loaded.rows[0]?.title ?? 'missing');
}

async function scenarioTasks(api: ApiClient, db: pg.Pool, checks: DemoChecks): Promise<void> {
  checks.scenario('3. Tasks v1: SQL reader + transforms + writer');
  await warehouse.query(`TRUNCATE ${DEMO_TABLE}`);
  const body = demoPipeline(loadSeedPipeline('film_dim_tasks'));
  const pipeline = await api.createPipeline(body);
  const listed = await api.getPipeline(pipeline.id);
  checks.expect('the task plan is listed by the API', (listed.tasks?.length ?? 0) === (body.tasks as unknown[]).length, `${listed.tasks?.length ?? 0} tasks`);
  // Replace the plan (clear, then insert): the same plan through PATCH, as a seed would.
  const replaced = await api.updatePipeline(pipeline.id, { tasks: body.tasks });
  checks.expect('the task plan can be replaced through PATCH', replaced.tasks?.length === listed.tasks?.length, `${replaced.tasks?.length ?? 0} tasks`);
  const run = await runAndWait(api, pipeline.id);
  const source = await sourceCount(db);
  checks.expect('run SUCCEEDED', run.status === 'SUCCEEDED', `${run.status} ${run.error?.message ?? ''}`);
  checks.expect(`rows read ${source}, written + dropped = read`, run.rows_read === source && run.rows_written + run.rows_dropped === run.rows_read, `read ${run.rows_read}, written ${run.rows_written}, dropped ${run.rows_dropped}`);
  const shaped = await count(warehouse, `SELECT count(*) AS n FROM ${DEMO_TABLE} WHERE cardinality(directors) >= 1 AND cardinality(actors) >= 2`);
  checks.expect('every film has its persons split by role', shaped > 0 && shaped === (await targetCount(db)) && shaped === run.rows_written, `${shaped} shaped rows`);
}

async function scenarioPauseResume(api: ApiClient, db: pg.Pool, checks: DemoChecks): Promise<void> {
  checks.scenario('4. Pause and resume a slow pipeline (pg_sleep per row)');
  await warehouse.query(`TRUNCATE ${DEMO_TABLE}`);
  const full = loadSeedPipeline('film_dim_full');
  const query = (full.source as { query: string }).query;
  const slow = demoPipeline(full, { name: 'film_dim_slow', batch_size: 100, source: { ...(full.source as object), query: `SELECT q.* FROM (${query}) q CROSS JOIN LATERAL (SELECT pg_sleep(0.005 + 0 * length(q.title))) s` } });
  const pipeline = await api.createPipeline(slow);
  const accepted = await api.run(pipeline.id);
  // Pause once the first batch is in (half a second a batch, five seconds in all): the pause lands
  // mid-run however fast or slow the machine starts the execution.
  for (let polls = 0; polls < 200 && (await api.getRun(pipeline.id, accepted.run_id)).rows_read === 0; polls++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await api.pause(pipeline.id);
  const paused = await api.waitForRun(pipeline.id, accepted.run_id);
  const status = (await api.getPipeline(pipeline.id)).status;
  checks.expect('status becomes PAUSED with a saved cursor', paused.status === 'PAUSED' && status === 'PAUSED' && paused.cursor !== null, `run ${paused.status}, pipeline ${status}, ${paused.rows_read} rows so far`);
  const resumed = await api.run(pipeline.id);
  checks.expect('run request resumes the same run', resumed.run_id === accepted.run_id && resumed.resumed, `run ${resumed.run_id}`);
  const done = await api.waitForRun(pipeline.id, resumed.run_id);
  const source = await sourceCount(db);
  checks.expect(`finishes with counts equal to the source (${source})`, done.status === 'SUCCEEDED' && done.rows_read === source && (await targetCount(db)) === source, `${done.status}: read ${done.rows_read}, executions ${done.executions}`);
}

async function scenarioRetry(api: ApiClient, db: pg.Pool, checks: DemoChecks): Promise<void> {
  checks.scenario('5. Retry with backoff: the target table renamed away during a run');
  await warehouse.query(`TRUNCATE ${DEMO_TABLE}`);
  const full = loadSeedPipeline('film_dim_full');
  const query = (full.source as { query: string }).query;
  const pipeline = await api.createPipeline(demoPipeline(full, { name: 'film_dim_retry', batch_size: 100, source: { ...(full.source as object), query: `SELECT q.* FROM (${query}) q CROSS JOIN LATERAL (SELECT pg_sleep(0.001 + 0 * length(q.title))) s` } }));
  const accepted = await api.run(pipeline.id);
  await new Promise((resolve) => setTimeout(resolve, 700));
  await warehouse.query(`ALTER TABLE ${DEMO_TABLE} RENAME TO demo_film_dim_away`);
  console.log(`   renamed ${DEMO_TABLE} away; batches now fail with TargetUnavailableError and are retried with growing, jittered delays`);
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const during = await api.getRun(pipeline.id, accepted.run_id);
  await warehouse.query('ALTER TABLE analytics.demo_film_dim_away RENAME TO demo_film_dim');
  console.log(`   renamed it back after 4 s (${during.retries} failed attempts so far)`);
  const done = await api.waitForRun(pipeline.id, accepted.run_id);
  const source = await sourceCount(db);
  checks.expect('failed attempts were retried', done.retries > 0, `${done.retries} retries`);
  checks.expect(`the run recovers and finishes with ${source} rows`, done.status === 'SUCCEEDED' && (await targetCount(db)) === source, `${done.status} ${done.error?.message ?? ''}: target ${await targetCount(db)}`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
