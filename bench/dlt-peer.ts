/**
 * The dlt peer (`dlt_merge`): bench/dlt_peer.py in a virtual environment of its own under
 * .cache/bench/dlt (created on first use with tools/python-venv.sh, dlt pinned), run by the
 * contender process. Without a Python >= 3.11 the contender is skipped and the bench says why.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const DLT_CONTENDER = 'dlt_merge';
/** The peer's requirement, pinned: a new dlt release must not move the figures unnoticed. */
export const DLT_REQUIREMENT = 'dlt[postgres,sql_database,parquet]==1.31.0';
/** Where the peer writes in the target database (dropped before each run). */
export const DLT_DATASET = 'bench_dlt';
const VENV = path.resolve('.cache/bench/dlt');
const MIN_PYTHON = '3.11';

/** The venv's interpreter, or why there is none (the reason the bench prints). */
export async function prepareDlt(): Promise<{ python: string } | { skipped: string }> {
  const script = `source tools/python-venv.sh && ensure_venv ${JSON.stringify(VENV)} ${MIN_PYTHON} ${JSON.stringify(DLT_REQUIREMENT)}`;
  try {
    await run('bash', ['-c', script], { maxBuffer: 16 * 1024 * 1024 });
    return { python: path.join(VENV, 'bin', 'python') };
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    return { skipped: stderr.split('\n').at(-1) || (error as Error).message };
  }
}

/**
 * How dlt reads and loads: pyarrow and csv by default (its fastest from PostgreSQL into
 * PostgreSQL); `--dlt-backend sqlalchemy --dlt-format insert_values` are dlt's own defaults.
 */
export interface DltSettings {
  backend: string;
  format: string;
}

/** One run of the peer: its own timing of pipeline.run, the rows it reports and its peak RSS. */
export async function runDlt(python: string, sourceUrl: string, targetUrl: string, settings: DltSettings): Promise<Record<string, unknown>> {
  const started = performance.now();
  const { stdout } = await run(python, [path.resolve('bench/dlt_peer.py'), sourceUrl, targetUrl, settings.backend, settings.format], { maxBuffer: 16 * 1024 * 1024 });
  const wall = (performance.now() - started) / 1000;
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const result = JSON.parse(line) as { seconds: number; rows_reported: number; backend: string; loader_file_format: string; peak_rss_mb: number };
  return { ...result, wall_seconds: Number(wall.toFixed(2)) };
}
