/**
 * The engine on a test database with the real state machine definition on the local Step
 * Functions endpoint: what `npm start` runs, minus the HTTP API, with one difference. The steps
 * run in this process, through the same handler path as functions/steps/* (the middy step preset
 * over the engine that `createEngine` builds from a config that `parseConfig` read), instead of
 * in the stack's worker threads: the fault tests wrap the real step (hold it at a lock, keep its
 * promise to see a stopped execution's write refused, fail it after it began), which needs the
 * step's promise and the engine's store in the test's own hands. The worker path and its
 * timeouts are tested by tools/test/local-lambda.test.ts and test/e2e/local-steps.test.ts.
 * Knobs for fault tests: step interception, paced retries, a short RunBatch TimeoutSeconds (edited
 * into the loaded definition; the file is not touched), settings as environment variables, a
 * Step Functions client, and waits that survive the database connections being terminated.
 */
import path from 'node:path';
import { ListExecutionsCommand, SFNClient, StopExecutionCommand, type ExecutionListItem } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import type pg from 'pg';
import { createSearchSinkFactory } from '../../lib/adapters/search/index.ts';
import { createSfnExecutionStarter } from '../../lib/adapters/sfn/execution-starter.ts';
import { ConnectionLostError } from '../../lib/core/errors.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import type { RunRecord } from '../../lib/core/ports.ts';
import type { StepInput } from '../../lib/core/use-cases/run-steps.ts';
import { loadDefinitionFile, startLocalSfnEndpoint } from '../../tools/local/sfn-endpoint/index.ts';
import { parseConfig } from '../../lib/runtime/config.ts';
import { createConnections, createEngine, type Engine } from '../../lib/runtime/engine.ts';
import { createObservability } from '../../lib/runtime/observability.ts';
import { STEP_KEYS, stepHandlers, type StepKey } from '../../lib/runtime/step.ts';

export { STEP_KEYS, type StepKey };
export type StepWrapper = (input: StepInput, real: (input: StepInput) => Promise<unknown>) => Promise<unknown>;

export interface RunHarnessOptions {
  databaseUrl: string;
  /** Function settings as environment variables (BATCHES_PER_EXECUTION, CONNECTION_POOL_SIZE, ...). */
  settings?: Record<string, string>;
  esUrl?: string;
  opensearchUrl?: string;
  /** Milliseconds between retries of every Task (default 0: no waiting in tests). */
  retryIntervalMs?: number;
  /** RunBatch TimeoutSeconds in place of the definition's 300. */
  runBatchTimeoutSeconds?: number;
  /** Named connections besides `default` (the test database), by lower-case name (ETL_CONNECTION_<NAME>). */
  connections?: Record<string, string>;
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

/** The part of a Lambda context that middy reads; the step handlers read none of it. */
const lambdaContext = (key: string) =>
  ({ functionName: `etl-test-${key}`, awsRequestId: 'in-process', getRemainingTimeInMillis: () => 60_000 }) as unknown as Context;

export async function startRunHarness(options: RunHarnessOptions): Promise<RunHarness> {
  const connectionVariables: Record<string, string> = Object.fromEntries(Object.entries(options.connections ?? {}).map(([name, url]) => [`ETL_CONNECTION_${name.toUpperCase()}`, url]));
  // Metrics off, as under `npm start`: EMF blobs would flood the test output (a setting may turn them on).
  const config = parseConfig({ POWERTOOLS_METRICS_DISABLED: 'true', ...options.settings, ...connectionVariables, DATABASE_URL: options.databaseUrl });
  // Terminated idle connections are expected here: the silent logger swallows them.
  const connections = createConnections(config, { stateUrl: options.databaseUrl, named: config.connectionUrls }, silentLogger);
  const pool = connections.statePool;
  const searchSinks = createSearchSinkFactory({
    elasticsearchUrl: options.esUrl,
    opensearchUrl: options.opensearchUrl,
    sink: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 } },
  });
  const wrappers = new Map<StepKey, StepWrapper>();
  const bound: { engine?: Engine } = {};
  // What functions/steps/<key>.ts export, over this harness's engine and settings.
  const handlers = stepHandlers(() => bound.engine!, createObservability(config));
  const taskHandlers = Object.fromEntries(
    STEP_KEYS.map((key) => {
      const real = (input: StepInput): Promise<unknown> => handlers[key](input, lambdaContext(key));
      return [
        key,
        (input: unknown) => {
          const wrapper = wrappers.get(key);
          return wrapper ? wrapper(input as StepInput, real) : real(input as StepInput);
        },
      ];
    }),
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
  const engine = (bound.engine = createEngine(config, {
    connections,
    executions: createSfnExecutionStarter({ stateMachineArn, region: config.region, endpoint: endpoint.url }),
    searchSinks,
    logger: silentLogger,
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
    },
  };
}
