/**
 * The engine on a test database with the real state machine definition on the local Step
 * Functions endpoint, step handlers in-process: what `npm start` runs, minus the HTTP API.
 */
import path from 'node:path';
import pg from 'pg';
import { createSearchSinkFactory } from '../../lib/adapters/search/index.ts';
import { createSfnExecutionStarter } from '../../lib/adapters/sfn/execution-starter.ts';
import type { RunRecord } from '../../lib/core/ports.ts';
import type { StepInput } from '../../lib/core/use-cases/run-steps.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { createEngine, type Engine } from '../../lib/runtime/engine.ts';
import { loadDefinitionFile, startLocalSfnEndpoint } from '../../lib/local/sfn-endpoint/index.ts';
import { createTransformCompiler } from '../../lib/transforms/index.ts';

export const STEP_KEYS = ['startRun', 'runBatch', 'completeRun', 'pauseRun', 'failRun', 'continueAsNew'] as const;
export type StepKey = (typeof STEP_KEYS)[number];

export interface RunHarness {
  engine: Engine;
  pool: pg.Pool;
  sfnUrl: string;
  stateMachineArn: string;
  /** Replace a step for fault injection; call the real one through `real`. */
  intercept(step: StepKey, wrapper: (input: StepInput, real: (input: StepInput) => Promise<unknown>) => Promise<unknown>): void;
  /** Requests a run through the use-case (as the HTTP handler does) and waits until it ends or pauses. */
  runToEnd(pipelineId: string, timeoutMs?: number): Promise<RunRecord>;
  waitForRun(pipelineId: string, runId: string, statuses: string[], timeoutMs?: number): Promise<RunRecord>;
  stop(): Promise<void>;
}

export async function startRunHarness(options: {
  databaseUrl: string;
  batchesPerExecution?: number;
  esUrl?: string;
  opensearchUrl?: string;
}): Promise<RunHarness> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10, options: '-c TimeZone=UTC' });
  pool.on('error', () => undefined);
  const searchSinks = createSearchSinkFactory({ elasticsearchUrl: options.esUrl, opensearchUrl: options.opensearchUrl, sink: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 } } });
  const wrappers = new Map<StepKey, (input: StepInput, real: (input: StepInput) => Promise<unknown>) => Promise<unknown>>();
  const bound: { engine?: Engine } = {};
  const taskHandlers = Object.fromEntries(
    STEP_KEYS.map((key) => [
      key,
      (input: unknown) => {
        const real = (i: StepInput): Promise<unknown> => bound.engine!.steps[key](i);
        const wrapper = wrappers.get(key);
        return wrapper ? wrapper(input as StepInput, real) : real(input as StepInput);
      },
    ]),
  );
  const endpoint = await startLocalSfnEndpoint({
    port: 0,
    stateMachines: [{ name: 'etl-test-run-pipeline', definition: await loadDefinitionFile(path.resolve('statemachines/run-pipeline.asl.json')), taskHandlers }],
    retryIntervalOverrides: { RunBatch: 0, StartRun: 0, CompleteRun: 0, PauseRun: 0, FailRun: 0, ContinueAsNew: 0 },
  });
  const stateMachineArn = endpoint.stateMachineArn('etl-test-run-pipeline');
  const engine = (bound.engine = createEngine({
    pool,
    executions: createSfnExecutionStarter({ stateMachineArn, region: 'us-east-1', endpoint: endpoint.url }),
    transforms: createTransformCompiler(),
    logger: silentLogger,
    statementTimeoutMs: 30_000,
    batchesPerExecution: options.batchesPerExecution ?? 500,
    searchSinks,
  }));

  const waitForRun = async (pipelineId: string, runId: string, statuses: string[], timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await engine.runs.getRun(pipelineId, runId);
      const pipeline = await engine.manage.get(pipelineId);
      // The run's status and the pipeline's settle in one transaction; wait for both.
      if (statuses.includes(run.status) && !['RUN_REQUESTED', 'RUNNING', 'PAUSE_REQUESTED'].includes(pipeline.status)) return run;
      if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} (pipeline ${pipeline.status}) after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  return {
    engine,
    pool,
    sfnUrl: endpoint.url,
    stateMachineArn,
    intercept: (step, wrapper) => wrappers.set(step, wrapper),
    waitForRun,
    async runToEnd(pipelineId, timeoutMs) {
      const accepted = await engine.runs.requestRun(pipelineId);
      return await waitForRun(pipelineId, accepted.run_id, ['SUCCEEDED', 'FAILED', 'PAUSED'], timeoutMs);
    },
    async stop() {
      await endpoint.stop();
      await searchSinks.close();
      await pool.end();
    },
  };
}
