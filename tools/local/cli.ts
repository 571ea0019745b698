/**
 * `etl <command>`: the HTTP API from a terminal. API_URL (default http://127.0.0.1:3000) and
 * API_KEY select the API, so the same commands work against the local stack, LocalStack or AWS.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { RunRecord } from '../../lib/core/ports.ts';
import { ApiError, createApiClient, type ApiClient } from './api-client.ts';
import { localConfig } from './local-config.ts';

const usage = `usage: etl <command> [options]
  create <file.json>            create a pipeline from a JSON body (see seeds/pipelines/)
  list                          list pipelines with their status (every page)
  run <pipeline> [--wait]       request a run (or resume a paused one); --wait follows it to the end
  pause <pipeline>              pause the running pipeline at the next batch boundary
  status <pipeline> [--watch]   the pipeline, its last run and metrics; --watch refreshes every second
  runs <pipeline> [--limit N] [--after CURSOR] [--all]
                                run history, newest first: one page (default 50; a hint names the next), or all with --all
  state <pipeline>              the incremental checkpoint
  reset <pipeline>              forget the checkpoint and resume point (abandons a paused run): the next run reads from the start
  preview <pipeline>            check the definition and show its first rows as a table, writing nothing
  connections                   the named connections (default = the platform's database) and whether each answers
<pipeline> is a pipeline id or name. API_URL and API_KEY select the API.`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { wait: { type: 'boolean' }, watch: { type: 'boolean' }, help: { type: 'boolean' }, limit: { type: 'string' }, after: { type: 'string' }, all: { type: 'boolean' } } });
  const [command, argument] = positionals;
  if (!command || values.help) {
    console.log(usage);
    return command ? 0 : 2;
  }
  const api = createApiClient(localConfig.apiUrl, localConfig.apiKey);
  const needArgument = () => {
    if (!argument) throw new UsageError(`${command} needs an argument\n\n${usage}`);
    return argument;
  };
  switch (command) {
    case 'create': {
      const body = JSON.parse(await readFile(needArgument(), 'utf8')) as unknown;
      const pipeline = await api.createPipeline(body);
      console.log(`created ${pipeline.name} (${pipeline.id}), status ${pipeline.status}`);
      return 0;
    }
    case 'reset': {
      const pipeline = await api.reset(await resolveId(api, needArgument()));
      console.log(`${pipeline.name}: reset, status ${pipeline.status}; the next run reads from the beginning`);
      return 0;
    }
    case 'preview': {
      const preview = await api.preview(await resolveId(api, needArgument()));
      for (const warning of preview.warnings) console.log(`warning: ${warning}`);
      if (preview.columns) console.log(`columns: ${preview.columns.map((c) => `${c.name} ${c.type}`).join(', ')}`);
      printTable(preview.rows);
      console.log(`(${preview.rows_read} rows read, ${preview.rows_dropped} dropped by the plan; nothing written)`);
      return 0;
    }
    case 'connections':
      for (const c of await api.connections()) console.log(`${c.name.padEnd(16)} ${c.ok ? 'ok  ' : 'DOWN'}  ${c.user}@${c.host}/${c.database}`);
      return 0;
    case 'list':
      for (const p of await api.listPipelines()) console.log(`${p.id}  ${p.name.padEnd(24)} ${p.mode.padEnd(12)} ${p.status}`);
      return 0;
    case 'run': {
      const id = await resolveId(api, needArgument());
      const accepted = await api.run(id);
      console.log(`${accepted.resumed ? 'resumed' : 'started'} run ${accepted.run_id}\n  execution ${accepted.execution_arn}`);
      if (!values.wait) return 0;
      const run = await api.waitForRun(id, accepted.run_id, { timeoutMs: 24 * 3600_000, onProgress: (r) => progressLine(r) });
      process.stdout.write('\n');
      printRun(run);
      return run.status === 'FAILED' ? 1 : 0;
    }
    case 'pause': {
      const id = await resolveId(api, needArgument());
      console.log(`pause requested (${(await api.pause(id)).status}); the run stops at the next batch boundary`);
      return 0;
    }
    case 'status': {
      const id = await resolveId(api, needArgument());
      do {
        const pipeline = await api.getPipeline(id);
        if (values.watch) process.stdout.write('\x1b[2J\x1b[H');
        console.log(`${pipeline.name} (${pipeline.id})  ${pipeline.mode}  status ${pipeline.status}  batch_size ${pipeline.batch_size}`);
        if (pipeline.last_run) printRun(pipeline.last_run);
        if (values.watch) await new Promise((resolve) => setTimeout(resolve, 1000));
      } while (values.watch);
      return 0;
    }
    case 'runs': {
      const id = await resolveId(api, needArgument());
      const page = values.all ? { runs: await api.listRuns(id), next: null } : await api.runsPage(id, { ...(values.limit ? { limit: Number(values.limit) } : {}), after: values.after ?? null });
      for (const run of page.runs) {
        console.log(`${run.id}  ${run.status.padEnd(9)} read ${run.rows_read}  written ${run.rows_written}  batches ${run.batches}  retries ${run.retries}  ${run.requested_at}`);
      }
      if (page.next) console.log(`(older runs: etl runs ${argument} --after ${page.next}, or --all)`);
      return 0;
    }
    case 'state':
      console.log(JSON.stringify(await api.getState(await resolveId(api, needArgument())), null, 2));
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${usage}`);
  }
}

class UsageError extends Error {}

async function resolveId(api: ApiClient, idOrName: string): Promise<string> {
  if (/^[0-9a-f-]{36}$/i.test(idOrName)) return idOrName;
  const match = (await api.listPipelines()).find((p) => p.name === idOrName);
  if (!match) throw new UsageError(`no pipeline named "${idOrName}"`);
  return match.id;
}

const startedAt = Date.now();
/** One live line: the total is unknown until the source is exhausted, so it shows rate, not a guess. */
function progressLine(run: RunRecord): void {
  const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
  const spinner = '|/-\\'[Math.floor(seconds * 4) % 4];
  process.stdout.write(`\r${spinner} ${run.status.padEnd(9)} rows read ${run.rows_read}  written ${run.rows_written}  batches ${run.batches}  retries ${run.retries}  ${Math.round(run.rows_read / seconds)} rows/s   `);
}

function printRun(run: RunRecord): void {
  console.log(`  run ${run.id}  ${run.status}
  rows read ${run.rows_read}, written ${run.rows_written}, dropped ${run.rows_dropped}, deleted ${run.rows_deleted}; batches ${run.batches}; retries ${run.retries}; executions ${run.executions}
  started ${run.started_at ?? '-'}  finished ${run.finished_at ?? '-'}${run.error ? `\n  error ${run.error.name}: ${run.error.message}` : ''}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ApiError || error instanceof UsageError) console.error(error.message);
    else if (error instanceof TypeError && /fetch failed/.test(error.message)) console.error(`cannot reach the API at ${localConfig.apiUrl} (is npm start running? set API_URL otherwise)`);
    else console.error(error);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);

/** Rows as an aligned text table; long values are cut so that a row stays on one line. */
function printTable(rows: Record<string, unknown>[]): void {
  if (rows.length === 0) return void console.log('(no rows)');
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
    return text.length > 30 ? `${text.slice(0, 29)}…` : text;
  };
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  console.log(line(columns));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) console.log(line(row));
}
