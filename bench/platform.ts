/**
 * The platform as the bench runs it: the real engine (createEngine over a config from
 * parseConfig), the real state machine definition on the project's local Step Functions endpoint,
 * the step handlers in-process through the same middy step preset as functions/steps/*. The
 * same assembly as test/support/run-harness.ts, without the fault-injection knobs.
 */
import path from 'node:path';
import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { createSearchSinkFactory } from '../lib/adapters/search/index.ts';
import { createSfnExecutionStarter } from '../lib/adapters/sfn/execution-starter.ts';
import { silentLogger, type Logger } from '../lib/core/logger.ts';
import type { RunRecord } from '../lib/core/ports.ts';
import type { StepInput } from '../lib/core/use-cases/run-steps.ts';
import { loadDefinitionFile, startLocalSfnEndpoint } from '../tools/local/sfn-endpoint/index.ts';
import { parseConfig } from '../lib/runtime/config.ts';
import { createConnections, createEngine } from '../lib/runtime/engine.ts';
import { createObservability } from '../lib/runtime/observability.ts';
import { STEP_KEYS, stepHandlers } from '../lib/runtime/step.ts';

export interface PlatformRun {
  run: RunRecord;
  /** From the run request to the run's finish as recorded by CompleteRun. */
  seconds: number;
  /** From the run request to the poll (every 50 ms) that saw the run SUCCEEDED. */
  seenSeconds: number;
  /** Time inside RunBatch's work (read, write, commit), summed: the rest is orchestration. */
  batchSeconds: number;
  /** States entered per committed batch (RunBatch + CheckProgress): the state machine's cost per batch. */
  transitionsPerBatch: number;
  /** Every state entered by the run's executions. */
  transitions: number;
  /** Each committed batch: its rows, its time inside RunBatch, and when it committed (ms after the run request). */
  batchLog: { rows: number; ms: number; at: number }[];
}

export async function runPlatform(settings: Record<string, string>, body: Record<string, unknown>): Promise<PlatformRun> {
  // Metrics off, as under `npm start` and in the tests: the bench prints its own figures.
  const config = parseConfig({ POWERTOOLS_METRICS_DISABLED: 'true', ...settings });
  const connections = createConnections(config, { stateUrl: settings.DATABASE_URL!, named: config.connectionUrls }, silentLogger);
  const searchSinks = createSearchSinkFactory({ elasticsearchUrl: settings.ES_URL });
  const bound: { engine?: ReturnType<typeof createEngine> } = {};
  // Collects the engine's per-batch timings ('batch committed' carries ms); everything else is dropped.
  let batchMs = 0;
  let requested = 0;
  const batchLog: PlatformRun['batchLog'] = [];
  const timings: Logger = {
    ...silentLogger,
    info: (message, fields) => {
      if (message !== 'batch committed') return;
      batchMs += Number(fields?.ms ?? 0);
      batchLog.push({ rows: Number(fields?.rows_read ?? 0), ms: Number(fields?.ms ?? 0), at: Math.round(performance.now() - requested) });
    },
    child: () => timings,
  };
  const context = (key: string) => ({ functionName: `etl-bench-${key}`, awsRequestId: 'bench', getRemainingTimeInMillis: () => 300_000 }) as unknown as Context;
  const handlers = stepHandlers(() => bound.engine!, createObservability(config));
  const taskHandlers = Object.fromEntries(
    STEP_KEYS.map((key) => {
      return [key, (input: unknown) => handlers[key](input as StepInput, context(key))];
    }),
  );
  const definition = await loadDefinitionFile(path.resolve('statemachines/run-pipeline.asl.json'));
  const endpoint = await startLocalSfnEndpoint({ port: 0, stateMachines: [{ name: 'etl-bench-run-pipeline', definition, taskHandlers }] });
  const stateMachineArn = endpoint.stateMachineArn('etl-bench-run-pipeline');
  const engine = (bound.engine = createEngine(config, {
    connections,
    executions: createSfnExecutionStarter({ stateMachineArn, region: config.region, endpoint: endpoint.url }),
    searchSinks,
    logger: timings,
  }));
  const sfn = new SFNClient({ region: 'us-east-1', endpoint: endpoint.url, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const pipeline = await engine.manage.create(body);
    const started = (requested = performance.now());
    const requestedAt = Date.now();
    const { run_id } = await engine.runs.requestRun(pipeline.id);
    let run: RunRecord;
    for (;;) {
      run = await engine.runs.getRun(pipeline.id, run_id);
      const status = (await engine.manage.get(pipeline.id)).status;
      if (['SUCCEEDED', 'FAILED', 'PAUSED'].includes(run.status) && !['RUN_REQUESTED', 'RUNNING', 'PAUSE_REQUESTED'].includes(status)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seenSeconds = (performance.now() - started) / 1000;
    if (run.status !== 'SUCCEEDED') throw new Error(`the run ended ${run.status}: ${JSON.stringify(run.error)}`);
    // Up to the run's own finish (CompleteRun's transaction, same machine clock), not to the poll
    // that saw it: the poll adds up to its interval, which the limits do not pay.
    const seconds = run.finished_at ? Math.min(seenSeconds, (Date.parse(run.finished_at) - requestedAt) / 1000) : seenSeconds;
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }));
    let transitions = 0;
    let perBatch = 0;
    for (const execution of executions.filter((e) => e.name?.startsWith(run_id))) {
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn: execution.executionArn, maxResults: 1000, nextToken }));
        for (const event of page.events ?? []) {
          if (!event.type?.endsWith('StateEntered')) continue;
          transitions += 1;
          const name = event.stateEnteredEventDetails?.name;
          if (name === 'RunBatch' || name === 'CheckProgress') perBatch += 1;
        }
        nextToken = page.nextToken;
      } while (nextToken);
    }
    return { run, seconds, seenSeconds, batchSeconds: batchMs / 1000, transitions, transitionsPerBatch: run.batches ? perBatch / run.batches : 0, batchLog };
  } finally {
    sfn.destroy();
    await endpoint.stop();
    await searchSinks.close();
    await connections.close();
  }
}
