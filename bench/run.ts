/**
 * `npm run bench [-- --rows N] [--rounds R] [--page P]`: the platform against the databases' own
 * limits, side by side on one embedded PostgreSQL cluster of its own (data under .cache/bench/pg,
 * never the user's .data). Seeds N rows (default 1,000,000) of a 6-column table into database
 * bench_state (also the platform's state), then runs each contender in its own process, target
 * emptied before each, rounds interleaved:
 *
 *   limit_sql               in-database INSERT ... SELECT ... ON CONFLICT (the same-database limit)
 *   limit_copy              COPY out of bench_state piped into COPY + upsert in bench_target (the cross-database limit)
 *   pages_one_statement     the pushdown statement's shape, page by page, without the platform
 *   pages_read_only_first   the same pages, each key range read READ ONLY first, then INSERT ... SELECT over it
 *   platform_same           the platform into bench_state (pushdown), batch_size auto
 *   platform_cross          the platform into bench_target (COPY), batch_size auto
 *   limit_film_dim          the demo's film_dim query over --films films (default --rows) in one INSERT ... SELECT ... ORDER BY film_id ... ON CONFLICT
 *   platform_film_dim       the demo's film_dim_full pipeline at defaults (pushdown)
 *   dlt_merge               (Python >= 3.11) dlt merging bench.items into bench_target; its ratio is dlt / platform_cross
 *                           (`--dlt-backend B --dlt-format F`: pyarrow and csv unless given; dlt's defaults are sqlalchemy, insert_values)
 *
 *   search_raw              (ES_URL set) the first --search-rows rows (default 200,000) from one cursor through the client's helpers.bulk
 *   platform_search         (ES_URL set) the same rows through the platform into the same index, batch_size auto
 *
 * `--only a,b` runs only the named contenders (a ratio needs its limit in the same run).
 * Prints seconds, rows/s, the ratio to the matching limit, peak RSS of each contender's process
 * and transitions per batch; writes the figures as JSON under .cache/bench/.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { migrateUp } from '../lib/db/migrate.ts';
import { startEmbeddedPostgres } from '../tools/local/embedded-postgres.ts';
import { freePort } from '../tools/local/processes.ts';
import { DLT_CONTENDER, DLT_DATASET, prepareDlt } from './dlt-peer.ts';
import { FILM_DIM_CONTENDERS, seedFilms } from './film-dim.ts';

const option = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = option('rows', 1_000_000);
const ROUNDS = option('rounds', 1);
const PAGE = option('page', 50_000);
const SEARCH_ROWS = Math.min(option('search-rows', 200_000), ROWS);
const FILMS = option('films', ROWS);
const textOption = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const DLT = { backend: textOption('dlt-backend', 'pyarrow'), format: textOption('dlt-format', 'csv') };
const ES_URL = process.env.ES_URL;
const SEARCH_INDEX = 'bench-items';
const SEARCH = ['search_raw', 'platform_search'];
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : null;
// Each platform contender sits next to its limit, so that in both orders (below) the two run back to back.
const ALL = ['limit_sql', 'platform_same', 'pages_one_statement', 'pages_read_only_first', 'limit_copy', 'platform_cross', DLT_CONTENDER, ...FILM_DIM_CONTENDERS, ...(ES_URL ? SEARCH : [])];
const CONTENDERS = ALL.filter((name) => !only || only.includes(name));
const LIMIT_OF: Record<string, string> = {
  pages_one_statement: 'limit_sql',
  pages_read_only_first: 'limit_sql',
  platform_same: 'limit_sql',
  platform_cross: 'limit_copy',
  platform_search: 'search_raw',
  platform_film_dim: 'limit_film_dim',
};
/** A peer is slower: its ratio reads "the platform contender is N x faster" (peer seconds / platform seconds). */
const PEER_OF: Record<string, string> = { [DLT_CONTENDER]: 'platform_cross' };
const rowsOf = (name: string) => (SEARCH.includes(name) ? SEARCH_ROWS : FILM_DIM_CONTENDERS.includes(name) ? FILMS : ROWS);
const TABLE = `(id bigint PRIMARY KEY, a integer NOT NULL, b text NOT NULL, c numeric(12,2), d timestamptz NOT NULL, e boolean NOT NULL)`;

const root = path.resolve('.cache/bench');
await mkdir(root, { recursive: true });
const server = await startEmbeddedPostgres({ dataDir: path.join(root, 'pg'), port: await freePort(), durable: false });
let exitCode = 0;
try {
  await server.ensureDatabase('bench_state');
  await server.ensureDatabase('bench_target');
  const stateUrl = server.urlFor('bench_state');
  const targetUrl = server.urlFor('bench_target');
  const state = new pg.Pool({ connectionString: stateUrl, max: 2 });
  const target = new pg.Pool({ connectionString: targetUrl, max: 2 });
  for (const pool of [state, target]) pool.on('error', () => undefined);
  const migrator = await state.connect();
  await migrateUp(migrator).finally(() => migrator.release());
  await seed(state, target);
  if (CONTENDERS.some((name) => FILM_DIM_CONTENDERS.includes(name))) await seedFilms(state, FILMS);
  const python = CONTENDERS.includes(DLT_CONTENDER) ? await prepareDlt() : null;
  if (python && 'skipped' in python) {
    console.log(`${DLT_CONTENDER} skipped: ${python.skipped}`);
    CONTENDERS.splice(CONTENDERS.indexOf(DLT_CONTENDER), 1);
  }

  const results: Record<string, unknown>[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Even rounds run the list backwards: whatever a position in the round costs (a cache left
    // cold or warm by the previous contender, a neighbour's write-back) falls on both sides of a ratio.
    for (const name of round % 2 ? CONTENDERS : [...CONTENDERS].reverse()) {
      await state.query('TRUNCATE bench.items_copy; TRUNCATE etl.pipelines CASCADE');
      // dlt merges through a staging dataset of its own (<dataset>_staging): both go.
      await target.query(`TRUNCATE bench.items_copy; DROP SCHEMA IF EXISTS ${DLT_DATASET} CASCADE; DROP SCHEMA IF EXISTS ${DLT_DATASET}_staging CASCADE`);
      const filmDim = FILM_DIM_CONTENDERS.includes(name);
      if (filmDim) await state.query('TRUNCATE analytics.film_dim');
      await Promise.all([
        state.query(filmDim ? 'VACUUM ANALYZE analytics.film_dim' : 'VACUUM ANALYZE bench.items_copy'),
        target.query('VACUUM ANALYZE bench.items_copy'),
        state.query('CHECKPOINT'),
      ]);
      if (SEARCH.includes(name)) await searchIndex('DELETE', '');
      const pythonPath = python && 'python' in python ? python.python : undefined;
      const result = await contender({ name, stateUrl, targetUrl, rows: ROWS, pageSize: PAGE, esUrl: ES_URL, searchRows: SEARCH_ROWS, searchIndex: SEARCH_INDEX, python: pythonPath, dlt: DLT });
      const written = await writtenBy(name, state, target);
      if (written !== rowsOf(name)) throw new Error(`${name} wrote ${written} rows, not ${rowsOf(name)}`);
      results.push({ round, ...result });
      process.stderr.write(`round ${round} ${name}: ${Number(result.seconds).toFixed(2)} s\n`);
    }
  }
  await Promise.all([state.end(), target.end()]);
  const summary = summarise(results);
  printTable(summary);
  const file = path.join(root, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify({ rows: ROWS, search_rows: ES_URL ? SEARCH_ROWS : null, rounds: ROUNDS, page: PAGE, node: process.version, cpus: (await import('node:os')).cpus().length, results, summary }, null, 2));
  console.log(`\nwritten ${path.relative(process.cwd(), file)}`);
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await server.stop();
}
process.exit(exitCode);

async function seed(state: pg.Pool, target: pg.Pool): Promise<void> {
  await state.query(`CREATE SCHEMA IF NOT EXISTS bench; CREATE TABLE IF NOT EXISTS bench.items ${TABLE}; CREATE TABLE IF NOT EXISTS bench.items_copy ${TABLE}`);
  await target.query(`CREATE SCHEMA IF NOT EXISTS bench; CREATE TABLE IF NOT EXISTS bench.items_copy ${TABLE}`);
  const { rows } = await state.query<{ n: string }>('SELECT count(*) AS n FROM bench.items');
  if (Number(rows[0]!.n) === ROWS) return;
  process.stderr.write(`seeding ${ROWS} rows\n`);
  await state.query('TRUNCATE bench.items');
  await state.query(
    `INSERT INTO bench.items SELECT i, ((i::bigint * 7919) % 100000)::integer, md5(i::text) || ' item ' || i, (i % 100000) / 100.0,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second', i % 3 = 0
     FROM generate_series(1, $1) AS i`,
    [ROWS],
  );
  await state.query('VACUUM ANALYZE bench.items');
}

/** Rows in the table (or documents in the index) that the contender writes to. */
async function writtenBy(name: string, state: pg.Pool, target: pg.Pool): Promise<number> {
  if (SEARCH.includes(name)) return await searchCount();
  const [pool, table] = FILM_DIM_CONTENDERS.includes(name)
    ? [state, 'analytics.film_dim']
    : name === DLT_CONTENDER
      ? [target, `${DLT_DATASET}.items`]
      : [name === 'limit_copy' || name === 'platform_cross' ? target : state, 'bench.items_copy'];
  return Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
}

/** Drops the bench's index (a missing index is fine) or runs `method` on it. */
async function searchIndex(method: string, suffix: string): Promise<unknown> {
  const response = await fetch(`${ES_URL}/${SEARCH_INDEX}${suffix}`, { method });
  if (!response.ok && !(method === 'DELETE' && response.status === 404)) throw new Error(`${method} ${SEARCH_INDEX}${suffix}: HTTP ${response.status}`);
  return await response.json();
}

async function searchCount(): Promise<number> {
  await searchIndex('POST', '/_refresh');
  return ((await searchIndex('GET', '/_count')) as { count: number }).count;
}

function contender(args: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('bench/contender.ts'), JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      const line = output.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`contender ${String(args.name)} failed (exit ${code}): ${output}`));
      else resolve(JSON.parse(line) as Record<string, unknown>);
    });
  });
}

interface Line {
  name: string;
  seconds: number;
  rows_per_s: number;
  ratio: number | null;
  /** Every round's ratio, in round order. */
  round_ratios: number[] | null;
  peak_rss_mb: number;
  transitions_per_batch: number | null;
  batches: number | null;
  batch_sizes: unknown;
}

/**
 * The median round of each contender. A ratio is taken within each round (contender / its limit,
 * measured minutes apart under the same load) and the median of those is shown: on a shared
 * machine the load moves between rounds more than between neighbours.
 */
function summarise(results: Record<string, unknown>[]): Line[] {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  const of = (name: string) => results.filter((r) => r.name === name);
  const seconds = (name: string) => median(of(name).map((r) => Number(r.seconds)));
  const sameRound = (name: string, round: unknown) => Number(results.find((l) => l.name === name && l.round === round)!.seconds);
  const roundRatios = (name: string) =>
    of(name).map((r) => Number((Number(r.seconds) / sameRound(LIMIT_OF[name] ?? PEER_OF[name]!, r.round)).toFixed(2)));
  const compared = (name: string) => {
    const other = LIMIT_OF[name] ?? PEER_OF[name];
    return other !== undefined && CONTENDERS.includes(other);
  };
  return CONTENDERS.map((name) => {
    const rounds = of(name);
    const s = seconds(name);
    const last = rounds.at(-1)!;
    return {
      name,
      seconds: Number(s.toFixed(2)),
      rows_per_s: Math.round(rowsOf(name) / s),
      ratio: compared(name) ? Number(median(roundRatios(name)).toFixed(2)) : null,
      round_ratios: compared(name) ? roundRatios(name) : null,
      peak_rss_mb: Math.max(...rounds.map((r) => Number(r.peak_rss_mb))),
      transitions_per_batch: (last.transitions_per_batch as number | undefined) ?? null,
      batches: (last.batches as number | undefined) ?? null,
      batch_sizes: last.batch_sizes ?? null,
    };
  });
}

function printTable(lines: Line[]): void {
  console.log(`\n${ROWS} rows${ES_URL ? ` (search: ${SEARCH_ROWS} documents)` : ''}, ${ROUNDS} round(s): median seconds; ratio = median over rounds of (seconds / the same round's limit)`);
  console.log('contender               seconds   rows/s     ratio  peak RSS MB  transitions/batch  batches');
  for (const l of lines) {
    console.log(
      `${l.name.padEnd(22)} ${l.seconds.toFixed(2).padStart(8)} ${String(l.rows_per_s).padStart(9)} ${(l.ratio === null ? '-' : `${l.ratio.toFixed(2)}x`).padStart(8)} ${String(l.peak_rss_mb).padStart(12)} ${String(l.transitions_per_batch ?? '-').padStart(18)} ${String(l.batches ?? '-').padStart(8)}  ${l.round_ratios && ROUNDS > 1 ? `rounds: ${l.round_ratios.map((r) => `${r}x`).join(', ')}` : ''}`,
    );
  }
  for (const l of lines.filter((line) => PEER_OF[line.name] && line.ratio !== null)) {
    console.log(`${PEER_OF[l.name]} is ${l.ratio!.toFixed(1)}x faster than ${l.name} (median of the rounds' ${l.name} / ${PEER_OF[l.name]})`);
  }
}
