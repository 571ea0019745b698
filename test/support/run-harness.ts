/**
 * The engine on a test database with the real state machine definition on the local Step
 * Functions endpoint, step handlers in-process: what `npm start` runs, minus the HTTP API. Knobs
 * for fault tests: step interception, paced retries, a short RunBatch TimeoutSeconds (edited into
 * the loaded definition; the file is not touched), a small stale-run threshold, a Step Functions
 * client, and waits that survive the database connections being terminated under them.
 */
import path from 'node:path';
import { ListExecutionsCommand, SFNClient, StopExecutionCommand, type ExecutionListItem } from '@aws-sdk/client-sfn';
import pg from 'pg';
import { createConnectionRegistry } from '../../lib/adapters/pg/connections.ts';
import { createSearchSinkFactory } from '../../lib/adapters/search/index.ts';
import { createSfnExecutionStarter } from '../../lib/adapters/sfn/execution-starter.ts';
import { ConnectionLostError } from '../../lib/core/errors.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import type { RunRecord } from '../../lib/core/ports.ts';
import type { StepInput } from '../../lib/core/use-cases/run-steps.ts';
import { loadDefinitionFile, startLocalSfnEndpoint } from '../../lib/local/sfn-endpoint/index.ts';
import { createEngine, type Engine } from '../../lib/runtime/engine.ts';
import { createTransformCompiler } from '../../lib/transforms/index.ts';

export const STEP_KEYS = ['startRun', 'runBatch', 'completeRun', 'pauseRun', 'failRun', 'continueAsNew'] as const;
export type StepKey = (typeof STEP_KEYS)[number];
export type StepWrapper = (input: StepInput, real: (input: StepInput) => Promise<unknown>) => Promise<unknown>;

export interface RunHarnessOptions {
  databaseUrl: string;
  batchesPerExecution?: number;
  esUrl?: string;
  opensearchUrl?: string;
  /** Milliseconds between retries of every Task (default 0: no waiting in tests). */
  retryIntervalMs?: number;
  /** RunBatch TimeoutSeconds in place of the definition's 300. */
  runBatchTimeoutSeconds?: number;
  staleRunSeconds?: number;
  /** Named connections besides `default` (the test database), by lower-case name. */
  connections?: Record<string, string>;
  /** Statement timeout of source reads (default 30 s). */
  sourceStatementTimeoutMs?: number;
  /** Sessions per connection's read pool (default 2); 1 makes every read reuse one session. */
  readPoolSize?: number;
  /**
   * Reconcile a run as soon as its execution ends FAILED, TIMED_OUT or ABORTED, as the cloud's
   * EventBridge rule and `npm start` do. Off by default: tests then see reconciliation on read.
   */
  reconcileOnExecutionEnd?: boolean;
}

export interface RunHarness {
  engine: Engine;
  pool: pg.Pool;
  sfn: SFNClient;
  stateMachineArn: string;
  /** Replace a step for fault injection; call the real one through `real`. */
  intercept(step: StepKey, wrapper: StepWrapper): void;
  clearIntercepts(): void;
  /** Slows every RunBatch by `ms`, so that a pause or a stop can land mid-run. */
  delayBatches(ms: number): void;
  /** Requests a run through the use-case (as the HTTP handler does) and waits until it ends or pauses. */
  runToEnd(pipelineId: string, timeoutMs?: number): Promise<RunRecord>;
  /** Waits until the run has one of `statuses` and the pipeline is no longer active. */
  waitForRun(pipelineId: string, runId: string, statuses: string[], timeoutMs?: number): Promise<RunRecord>;
  /** Waits until `probe` answers a truthy value (probes that lose their connection are retried). */
  until<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs?: number): Promise<T>;
  /** Executions of the run's (execution names start with the run id), newest first. */
  executionsOf(runId: string): Promise<ExecutionListItem[]>;
  stopExecution(executionArn: string): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startRunHarness(options: RunHarnessOptions): Promise<RunHarness> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10, options: '-c TimeZone=UTC' });
  pool.on('error', () => undefined); // terminated idle connections are expected here
  const searchSinks = createSearchSinkFactory({
    elasticsearchUrl: options.esUrl,
    opensearchUrl: options.opensearchUrl,
    sink: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 } },
  });
  const wrappers = new Map<StepKey, StepWrapper>();
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
  const definition = (await loadDefinitionFile(path.resolve('statemachines/run-pipeline.asl.json'))) as { States: Record<string, Record<string, unknown>> };
  if (options.runBatchTimeoutSeconds !== undefined) definition.States.RunBatch!.TimeoutSeconds = options.runBatchTimeoutSeconds;
  const interval = options.retryIntervalMs ?? 0;
  const endpoint = await startLocalSfnEndpoint({
    port: 0,
    stateMachines: [{ name: 'etl-test-run-pipeline', definition, taskHandlers }],
    retryIntervalOverrides: Object.fromEntries(['StartRun', 'RunBatch', 'CompleteRun', 'PauseRun', 'FailRun', 'ContinueAsNew'].map((state) => [state, interval])),
    onExecutionEnded: (change) => {
      if (options.reconcileOnExecutionEnd && change.status !== 'SUCCEEDED') void bound.engine?.reconcile.executionChanged(change).catch(() => undefined);
    },
  });
  const stateMachineArn = endpoint.stateMachineArn('etl-test-run-pipeline');
  const connections = createConnectionRegistry({
    stateUrl: options.databaseUrl,
    named: options.connections ?? {},
    readStatementTimeoutMs: options.sourceStatementTimeoutMs ?? 30_000,
    sizes: { state: 10, ...(options.readPoolSize ? { read: options.readPoolSize } : {}) },
    onIdleError: () => undefined, // terminated idle connections are expected here
  });
  const engine = (bound.engine = createEngine({
    connections,
    executions: createSfnExecutionStarter({ stateMachineArn, region: 'us-east-1', endpoint: endpoint.url }),
    transforms: createTransformCompiler(),
    logger: silentLogger,
    batchesPerExecution: options.batchesPerExecution ?? 500,
    searchSinks,
    staleRunSeconds: options.staleRunSeconds,
  }));
  const sfn = new SFNClient({ region: 'us-east-1', endpoint: endpoint.url, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

  async function until<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const value = await probe();
        if (value) return value;
      } catch (error) {
        if (!(error instanceof ConnectionLostError)) throw error;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(10);
    }
  }

  const waitForRun = (pipelineId: string, runId: string, statuses: string[], timeoutMs = 30_000) =>
    until(
      async () => {
        const run = await engine.runs.getRun(pipelineId, runId);
        const pipeline = await engine.manage.get(pipelineId);
        return statuses.includes(run.status) && !['RUN_REQUESTED', 'RUNNING', 'PAUSE_REQUESTED'].includes(pipeline.status) && run;
      },
      `run ${runId} to reach ${statuses.join('/')}`,
      timeoutMs,
    );

  return {
    engine,
    pool,
    sfn,
    stateMachineArn,
    intercept: (step, wrapper) => wrappers.set(step, wrapper),
    clearIntercepts: () => wrappers.clear(),
    delayBatches: (ms) =>
      wrappers.set('runBatch', async (input, real) => {
        await sleep(ms);
        return await real(input);
      }),
    waitForRun,
    until,
    async runToEnd(pipelineId, timeoutMs) {
      const accepted = await engine.runs.requestRun(pipelineId);
      return await waitForRun(pipelineId, accepted.run_id, ['SUCCEEDED', 'FAILED', 'PAUSED'], timeoutMs);
    },
    async executionsOf(runId) {
      const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }));
      return executions.filter((e) => e.name?.startsWith(runId));
    },
    async stopExecution(executionArn) {
      await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator.Stopped', cause: 'stopped from outside by a test' }));
    },
    async stop() {
      sfn.destroy();
      await endpoint.stop();
      await searchSinks.close();
      await connections.close();
      await pool.end();
    },
  };
}
