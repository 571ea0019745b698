/**
 * The embedded default stack: database (embedded PostgreSQL or DATABASE_URL), migrations and
 * demo data, the local Step Functions endpoint running the real definition, whose tasks invoke
 * the same `functions/steps/*` handlers that Lambda runs, each in a worker thread with the
 * function's environment and timeout (lambda/runner.ts), and the HTTP API served by
 * serverless-offline. Both get the functions' settings (LOG_LEVEL, BATCHES_PER_EXECUTION, ...)
 * as their environment and parse them with lib/runtime/config.ts, as in the cloud. Used by
 * `npm start`, the demo and the end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_FILMS, seedCatalogue } from '../../seeds/catalogue.ts';
import { applyCatalogueSchema } from '../../seeds/demo-schemas.ts';
import type { Logger } from '../../lib/core/logger.ts';
import { parseConfig } from '../../lib/runtime/config.ts';
import { migrateDatabase, openLocalDatabase, withPool } from './database.ts';
import { apiLogLine } from './api-output.ts';
import { startLambdaGate } from './lambda-gate.ts';
import { prepareDemoConnections } from './demo-databases.ts';
import { loadStepFunctions } from './lambda/functions.ts';
import { createLocalLambda, type LocalLambda } from './lambda/runner.ts';
import { esbuildWorkFolder, inheritedEnvironment, repoRoot } from './local-config.ts';
import { startLocalScheduler, type LocalScheduler } from './scheduler.ts';
import { loadDefinitionFile, startLocalSfnEndpoint, type LocalSfnEndpoint, type TaskHandler } from './sfn-endpoint/index.ts';

const STAGE = 'local';
export const STATE_MACHINE_NAME = `etl-${STAGE}-run-pipeline`;
/** The statuses the cloud's EventBridge rule forwards to the reconcile function (serverless.yml). */
const RECONCILED_STATUSES: readonly string[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];
const RECONCILE_FUNCTION = 'reconcileExecution';

export interface LocalStackOptions {
  apiPort: number;
  lambdaPort: number;
  sfnPort: number;
  /** Use this database instead of starting the embedded one. */
  databaseUrl?: string | undefined;
  esUrl?: string | undefined;
  opensearchUrl?: string | undefined;
  apiKey?: string | undefined;
  logger: Logger;
  /** Seed the demo catalogue when content.film_work is empty. */
  seedWhenEmpty?: boolean;
  /**
   * The functions' settings (README "Settings": LOG_LEVEL, BATCHES_PER_EXECUTION,
   * SOURCE_STATEMENT_TIMEOUT_MS, STALE_RUN_SECONDS), as `npm start` reads them from
   * its environment (localConfig.functionSettings). Unset ones take the functions' defaults.
   */
  settings?: Readonly<Record<string, string>>;
  /** Seconds per function key in place of serverless.yml's timeouts (tests: `{ runBatch: 2 }`). */
  functionTimeouts?: Readonly<Record<string, number>>;
  /** Where the step functions' log lines go (default: this process's stderr). */
  onStepOutput?: (line: string) => void;
  /** Named connections (ETL_CONNECTION_<NAME>), by lower-case name; they win over the demo's. */
  connections?: Readonly<Record<string, string>>;
  /** Create the demo's `catalogue` and `warehouse` connections (roles, database) on the local server. */
  demoConnections?: boolean;
  /** Tests remove retry waits (one value per retrier of a state). */
  retryIntervalOverrides?: Record<string, number | number[]>;
  /**
   * Where the HTTP API's (serverless-offline's and its handlers') output goes, one JSON line at a
   * time (api-output.ts). Default: the lines go to `logger` at debug level.
   */
  onApiOutput?: (jsonLine: string) => void;
  /** Milliseconds between the scheduler's looks for due ticks (default 5000; tests shorten it). */
  schedulerPollMs?: number;
}

export interface LocalStack {
  apiUrl: string;
  sfnUrl: string;
  /** Lambda Invoke of every function (serverless-offline); needs the x-api-key header when an API key is set. */
  lambdaUrl: string;
  databaseUrl: string;
  stateMachineArn: string;
  /** The scheduled pipelines and their next runs (npm start lists them). */
  scheduled: LocalScheduler['scheduled'];
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { logger } = options;
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => logger.warn('stop step failed', { error }));
  };
  try {
    // The functions' own parser, before anything starts: a bad value stops here, naming the variable.
    parseConfig(options.settings ?? {});
    const database = options.databaseUrl
      ? { url: options.databaseUrl, stop: async () => undefined }
      : await openLocalDatabase((line) => logger.debug(line));
    cleanups.push(() => database.stop());
    const applied = await migrateDatabase(database.url);
    if (applied.length) logger.info('migrations applied', { applied });
    if (options.seedWhenEmpty) await seedIfEmpty(database.url, logger);

    const named = { ...(options.demoConnections ? await demoConnections(database.url, logger) : {}), ...options.connections };

    // The endpoint needs its task handlers before it listens; the functions need its URL: bind late.
    // Besides the tasks, the EventBridge-triggered reconcile function runs the same way.
    const functions = await loadStepFunctions({ repoRoot, stage: STAGE, timeoutOverrides: options.functionTimeouts, esbuildWorkFolder });
    const bound: { lambda?: LocalLambda; bundlesBuilt?: boolean } = {};
    // Stopped after the endpoint (cleanups run in reverse): executions are aborted before their workers end.
    cleanups.push(async () => await bound.lambda?.stop());
    const taskHandlers: Record<string, TaskHandler> = Object.fromEntries(functions.map((fn) => [fn.key, (input: unknown) => bound.lambda!.invoke(fn.key, input)]));
    const endpoint: LocalSfnEndpoint = await startLocalSfnEndpoint({
      port: options.sfnPort,
      stateMachines: [{ name: STATE_MACHINE_NAME, definition: await loadDefinitionFile(path.join(repoRoot, 'statemachines/run-pipeline.asl.json')), taskHandlers }],
      retryIntervalOverrides: options.retryIntervalOverrides,
      log: (event) => logger.debug('step functions', event),
      // The cloud's EventBridge rule (functions/events/reconcile-execution.ts), emulated: an
      // execution that ended without finishing its run fails the run at once.
      onExecutionEnded: (change) => {
        if (!RECONCILED_STATUSES.includes(change.status) || !bound.lambda) return;
        const event = { source: 'aws.states', 'detail-type': 'Step Functions Execution Status Change', detail: change };
        bound.lambda.invoke(RECONCILE_FUNCTION, event).catch((error: unknown) => logger.warn('reconciling an ended execution failed', { execution_arn: change.executionArn, error }));
      },
    });
    cleanups.push(() => endpoint.stop());
    const stateMachineArn = endpoint.stateMachineArn(STATE_MACHINE_NAME);
    // With an API key, serverless-offline's Lambda server (every function, steps included) is
    // reachable only through the gate on LAMBDA_PORT, which requires the key (lambda-gate.ts).
    let lambdaListen = String(options.lambdaPort);
    let lambdaUrl = `http://127.0.0.1:${options.lambdaPort}`;
    if (options.apiKey) {
      const socketDir = await mkdtemp(path.join(os.tmpdir(), 'etl-lambda-'));
      cleanups.push(() => rm(socketDir, { recursive: true, force: true }));
      lambdaListen = path.join(socketDir, 'lambda.sock');
      const gate = await startLambdaGate({ port: options.lambdaPort, socketPath: lambdaListen, apiKey: options.apiKey });
      cleanups.push(() => gate.stop());
      lambdaUrl = gate.url;
    }

    const connectionVariables = Object.fromEntries(Object.entries(named).map(([name, url]) => [`ETL_CONNECTION_${name.toUpperCase()}`, url]));
    const env = functionEnvironment(options, { ...connectionVariables, DATABASE_URL: database.url, SFN_ENDPOINT: endpoint.url, STATE_MACHINE_ARN: stateMachineArn });
    bound.lambda = createLocalLambda({ functions, env, onOutput: options.onStepOutput, useBundles: () => bound.bundlesBuilt === true });

    const api = await startHttpApi(options, lambdaListen, env);
    cleanups.push(() => stopChild(api));
    // serverless-offline has just built every function's bundle (steps too): containers started
    // from now on load the bundle, as Lambda does, in a fifth of the memory (lambda/runner.ts).
    bound.bundlesBuilt = functions.every((fn) => fn.bundle !== undefined && existsSync(fn.bundle));
    if (!bound.bundlesBuilt) logger.warn('the step functions run from their TypeScript modules: serverless-offline built no bundle for them', { folder: esbuildWorkFolder });
    // Stopped before the endpoint and the API (cleanups run in reverse): no tick starts a run on a stack going down.
    const scheduler = startLocalScheduler({
      databaseUrl: database.url,
      sfnEndpoint: endpoint.url,
      stateMachineArn,
      settings: options.settings ?? {},
      pollMs: options.schedulerPollMs ?? 5_000,
      logger,
    });
    cleanups.push(() => scheduler.stop());
    return { apiUrl: `http://127.0.0.1:${options.apiPort}`, sfnUrl: endpoint.url, lambdaUrl, databaseUrl: database.url, stateMachineArn, scheduled: () => scheduler.scheduled(), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** What the deployed functions find in their environment (serverless.yml's, for the local stage). */
function functionEnvironment(options: LocalStackOptions, wiring: Record<string, string>): Record<string, string> {
  return {
    ...options.settings,
    ...wiring,
    ES_URL: options.esUrl ?? '',
    OPENSEARCH_URL: options.opensearchUrl ?? '',
    API_KEY: options.apiKey ?? '',
    AWS_REGION: 'us-east-1',
    STAGE: 'local',
    // EMF metrics off locally: a blob per batch would bury the logs (serverless.yml's local stage says the same).
    POWERTOOLS_METRICS_DISABLED: 'true',
    // As Lambda sets it: each worker is a fresh container, so its first invocation logs cold_start: true.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    // The SDK needs credentials to sign calls to the local Step Functions endpoint (it checks none).
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
}

/** The demo's connections; a server that refuses (no CREATEROLE/CREATEDB) leaves the demo without them. */
async function demoConnections(stateUrl: string, logger: Logger): Promise<Record<string, string>> {
  try {
    return { ...(await prepareDemoConnections(stateUrl)) };
  } catch (error) {
    logger.warn('the demo connections (catalogue, warehouse) could not be prepared; set ETL_CONNECTION_CATALOGUE and ETL_CONNECTION_WAREHOUSE', { error });
    return {};
  }
}

async function seedIfEmpty(url: string, logger: Logger): Promise<void> {
  await withPool(url, async (pool) => {
    await applyCatalogueSchema(pool);
    const { rows } = await pool.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM content.film_work) AS any');
    if (rows[0]?.any) return;
    const counts = await seedCatalogue(pool, { films: DEFAULT_FILMS });
    logger.info('demo catalogue seeded', counts);
  });
}

/**
 * serverless-offline, started directly (not through npx: a signal to npx orphans its child), on
 * this process's Node (the project's Node 22 under npm scripts). `lambdaListen` is its Lambda
 * server's TCP port or unix socket path.
 */
async function startHttpApi(options: LocalStackOptions, lambdaListen: string, env: Record<string, string>): Promise<ChildProcess> {
  const sls = path.join(repoRoot, 'node_modules/serverless/bin/serverless.js');
  const child = spawn(process.execPath, [sls, 'offline', 'start', '--stage', 'local', '--region', 'us-east-1', '--localEnvironment'], {
    cwd: repoRoot,
    env: {
      ...inheritedEnvironment(),
      // serverless.yml's local stage hands these to the HTTP functions (${env:...}).
      ...env,
      API_PORT: String(options.apiPort),
      LAMBDA_PORT: lambdaListen,
      SLS_TELEMETRY_DISABLED: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const forward = options.onApiOutput ?? ((line: string) => options.logger.debug('api', { line }));
  const collect = (stream: 'stdout' | 'stderr') => {
    let partial = ''; // a chunk may end mid-line
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const raw of lines) {
        const line = apiLogLine(raw, stream);
        if (line === null) continue;
        output.push(line);
        if (output.length > 200) output.shift();
        forward(line);
      }
    };
  };
  child.stdout?.on('data', collect('stdout'));
  child.stderr?.on('data', collect('stderr'));
  const healthUrl = `http://127.0.0.1:${options.apiPort}/health`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const healthy = await fetch(healthUrl).then((r) => r.ok, () => false);
    if (healthy) return child;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await stopChild(child);
  throw new Error(`the HTTP API did not become healthy at ${healthUrl}:\n${output.slice(-30).join('\n')}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
