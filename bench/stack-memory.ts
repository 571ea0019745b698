/**
 * `npm run bench:stack-memory [-- --rows N[,M...]] [--paths copy,pushdown,js,search] [--idle-seconds S] [--after-seconds S]`:
 * the local stack's memory, measured as a user runs it. Starts `npm start`'s code path
 * (tools/local/start.ts) on its own ports and data directory, samples the RSS of every process of
 * the stack but PostgreSQL's every 500 ms, and prints, each beside its goal:
 *
 *   idle      settled after start (the median of the last 10 s of an idle wait)
 *   each run  the peak while one pipeline (per path and row count) runs through the HTTP API,
 *             with the latency of GET /pipelines/{id} polled every 500 ms meanwhile
 *   after     just after the last run (first 10 s), and settled --after-seconds later (default 150 s,
 *             once idle containers have ended)
 *
 * and the peak RSS of the process that runs RunBatch (the stack's own process: the step handlers
 * run in its worker threads) per path and row count, so that `--rows 1000000,5000000` shows
 * whether a step's memory grows with the size of the run. Writes everything as JSON under
 * .cache/bench/. Ports and data: API_PORT, SFN_PORT, LAMBDA_PORT, PGPORT, ETL_DATA_DIR when set,
 * else free ports and .cache/bench/stack-pg. ES_URL adds the search path.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApiClient } from '../tools/local/api-client.ts';
import { freePort } from '../tools/local/processes.ts';
import { STACK_ROLE } from './process-tree.ts';
import { RssSampler, type PhaseMemory } from './rss-sampler.ts';
import { startStackProcess } from './stack-process.ts';
import { DATA_CONNECTION, PATHS, countTarget, emptyTarget, pipelineBody, runThroughApi, seedSource, type PathName, type RunFigures } from './stack-workload.ts';

const IDLE_GOAL_MB = 768;
const RUN_GOAL_MB = 1024;
/** Step memory counts as flat when the largest run's peak is within this of the smallest's. */
const FLAT_TOLERANCE = 0.15;

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ES_URL = process.env.ES_URL;
const ROWS = (option('rows') ?? '1000000').split(',').map(Number);
const PATH_NAMES = (option('paths')?.split(',') ?? PATHS.filter((p) => p !== 'search' || ES_URL)) as PathName[];
const IDLE_SECONDS = Number(option('idle-seconds') ?? 30);
/** Long enough for idle containers to end: serverless-offline's after 60 s, the step runner's after 120 s. */
const AFTER_SECONDS = Number(option('after-seconds') ?? 150);
for (const name of PATH_NAMES) if (!PATHS.includes(name)) throw new Error(`--paths: unknown path "${name}" (known: ${PATHS.join(', ')})`);
if (PATH_NAMES.includes('search') && !ES_URL) throw new Error('--paths search needs ES_URL');

const envPort = async (name: string) => (process.env[name] ? Number(process.env[name]) : await freePort());
const ports = { API_PORT: await envPort('API_PORT'), SFN_PORT: await envPort('SFN_PORT'), LAMBDA_PORT: await envPort('LAMBDA_PORT'), PGPORT: await envPort('PGPORT') };
const root = path.resolve('.cache/bench');
await mkdir(root, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const logFile = path.join(root, `stack-memory-${stamp}.log`);
const stateUrl = `postgres://postgres:postgres@127.0.0.1:${ports.PGPORT}/etl`;

interface RunLine extends RunFigures {
  path: PathName;
  rows: number;
  memory: PhaseMemory;
  /** The stack process's RSS just before the run (settled idle level of the moment). */
  stepBeforeMb: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const loadAtStart = loadAverage();

process.stderr.write(`starting the stack (log: ${path.relative(process.cwd(), logFile)})\n`);
const stack = await startStackProcess(
  { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), ETL_DATA_DIR: process.env.ETL_DATA_DIR ?? path.join(root, 'stack-pg'), [`ETL_CONNECTION_${DATA_CONNECTION.toUpperCase()}`]: stateUrl },
  logFile,
);
const sampler = new RssSampler(stack.pid);
let exitCode = 0;
try {
  sampler.enter('idle');
  await sleep(IDLE_SECONDS * 1000);
  const idle = sampler.summary('idle');
  process.stderr.write(`idle settled: ${idle.settledMb} MB\n`);

  const pool = new pg.Pool({ connectionString: stateUrl, max: 2 });
  pool.on('error', () => undefined);
  const api = createApiClient(`http://127.0.0.1:${ports.API_PORT}`);
  const runs: RunLine[] = [];
  // A failed run ends the runs, but what was measured up to it is still printed and written.
  let failure: string | null = null;
  try {
    for (const rows of ROWS) {
      sampler.enter(`seed ${rows}`);
      process.stderr.write(`seeding ${rows} rows\n`);
      await seedSource(pool, rows);
      for (const name of PATH_NAMES) {
        await emptyTarget(name, pool, ES_URL);
        sampler.enter(`before ${name} ${rows}`);
        await sleep(3_000);
        const stepBeforeMb = sampler.summary(`before ${name} ${rows}`, 4).settledByRole[STACK_ROLE] ?? 0;
        sampler.enter(`run ${name} ${rows}`);
        const figures = await runThroughApi(api, pipelineBody(name, rows, `memory_${name}_${rows}_${stamp.slice(11, 19).replace(/-/g, '')}`), 1_800_000);
        const memory = sampler.summary(`run ${name} ${rows}`);
        const written = await countTarget(name, pool, ES_URL);
        if (written !== rows) throw new Error(`${name} ${rows}: the target holds ${written} rows`);
        runs.push({ path: name, rows, ...figures, memory, stepBeforeMb });
        process.stderr.write(`${name} ${rows}: ${figures.seconds.toFixed(1)} s, peak ${memory.peakMb} MB (step process ${memory.peakByRole[STACK_ROLE]} MB)\n`);
      }
    }
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    process.stderr.write(`the runs stopped: ${failure}\n`);
  } finally {
    await pool.end();
  }
  sampler.enter('after');
  await sleep(AFTER_SECONDS * 1000);
  const after = sampler.summary('after');
  await sampler.stop();
  const loadAtEnd = loadAverage();
  print(idle, runs, after, { loadAtStart, loadAtEnd });
  const file = path.join(root, `stack-memory-${stamp}.json`);
  const summary = { node: process.version, cpus: os.cpus().length, load: { start: loadAtStart, end: loadAtEnd }, goals: { idleMb: IDLE_GOAL_MB, runMb: RUN_GOAL_MB, flat: FLAT_TOLERANCE }, idle, runs, after, failure };
  await writeFile(file, JSON.stringify({ ...summary, samples: sampler.samples }, null, 1));
  console.log(`\nwritten ${path.relative(process.cwd(), file)}`);
  if (failure) {
    console.error(`not every run completed: ${failure}`);
    exitCode = 1;
  }
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await sampler.stop();
  await stack.stop();
}
process.exit(exitCode);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
}

function print(idle: PhaseMemory, runs: RunLine[], after: PhaseMemory, load: { loadAtStart: string; loadAtEnd: string }): void {
  const verdict = (mb: number, goal: number) => `${mb <= goal ? 'met' : 'MISSED'} (< ${goal} MB)`;
  console.log(`\nThe local stack's RSS, PostgreSQL aside (${os.cpus().length} CPUs, load average ${load.loadAtStart} at start, ${load.loadAtEnd} at end)`);
  console.log(`${'phase'.padEnd(26)} ${'total MB'.padStart(9)}  goal`);
  console.log(`${'idle, settled'.padEnd(26)} ${String(idle.settledMb).padStart(9)}  ${verdict(idle.settledMb, IDLE_GOAL_MB)}`);
  for (const r of runs) console.log(`${`peak, run ${r.path} ${r.rows}`.padEnd(26)} ${String(r.memory.peakMb).padStart(9)}  ${verdict(r.memory.peakMb, RUN_GOAL_MB)}`);
  console.log(`${'just after the runs'.padEnd(26)} ${String(after.earlyMb).padStart(9)}  ${verdict(after.earlyMb, RUN_GOAL_MB)}`);
  console.log(`${`${AFTER_SECONDS} s after, settled`.padEnd(26)} ${String(after.settledMb).padStart(9)}  ${verdict(after.settledMb, IDLE_GOAL_MB)}`);

  console.log('\nper process (MB): idle settled / peak over the runs / after settled');
  const roles = [...new Set([...Object.keys(idle.settledByRole), ...runs.flatMap((r) => Object.keys(r.memory.peakByRole))])];
  for (const role of roles) {
    const peak = Math.max(0, ...runs.map((r) => r.memory.peakByRole[role] ?? 0));
    console.log(`  ${role.padEnd(44)} ${String(idle.settledByRole[role] ?? 0).padStart(6)} ${String(peak).padStart(6)} ${String(after.settledByRole[role] ?? 0).padStart(6)}`);
  }

  console.log('\nruns through the HTTP API; step process = the stack process whose worker threads run RunBatch');
  console.log('path      rows       seconds batches  step MB before  step MB peak  GET /pipelines/{id} ms p50 / p95 / max (n)');
  for (const r of runs) {
    const get = `${percentile(r.getMs, 50).toFixed(0)} / ${percentile(r.getMs, 95).toFixed(0)} / ${Math.max(...r.getMs).toFixed(0)} (${r.getMs.length})`;
    console.log(`${r.path.padEnd(9)} ${String(r.rows).padStart(9)} ${r.seconds.toFixed(1).padStart(9)} ${String(r.batches).padStart(7)} ${String(r.stepBeforeMb).padStart(15)} ${String(r.memory.peakByRole[STACK_ROLE] ?? 0).padStart(13)}  ${get}`);
  }
  if (ROWS.length < 2) return;
  const [fewest, most] = [Math.min(...ROWS), Math.max(...ROWS)];
  console.log(`\nstep process peak, ${most} rows against ${fewest} (flat: within ${FLAT_TOLERANCE * 100}%)`);
  for (const name of PATH_NAMES) {
    const peakOf = (rows: number) => runs.find((r) => r.path === name && r.rows === rows)?.memory.peakByRole[STACK_ROLE] ?? 0;
    const ratio = peakOf(most) / peakOf(fewest);
    console.log(`  ${name.padEnd(9)} ${String(peakOf(fewest)).padStart(6)} MB -> ${String(peakOf(most)).padStart(6)} MB  ${ratio.toFixed(2)}x  ${Math.abs(ratio - 1) <= FLAT_TOLERANCE ? 'flat' : 'NOT FLAT'}`);
  }
}
