/**
 * Configuration of the deployed functions, read from the environment once, validated, frozen.
 * The same variables are set by serverless.yml (cloud, LocalStack) and by `npm start` (local:
 * the step workers and serverless-offline get them as their environment). `parseConfig` is the
 * one parser: the local stack validates its settings with it before starting anything, and the
 * test harness builds its engine from it, so no caller has defaults of its own.
 */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Environment variables as Lambda sees them: strings, possibly unset. */
export type Environment = Readonly<Record<string, string | undefined>>;

function integer(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return value;
}

function optional(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

const CONNECTION_VARIABLE = /^ETL_CONNECTION_(.+)$/;
const CONNECTION_NAME = /^[A-Z][A-Z0-9_]{0,62}$/;

/**
 * ETL_CONNECTION_<NAME>=<postgres URL> -> { <name>: url } (NAME upper case: letters, digits,
 * underscore; pipelines use the lower-case name). `default` is DATABASE_URL and cannot be redefined.
 */
function connectionUrls(env: Environment): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const [variable, value] of Object.entries(env)) {
    const match = CONNECTION_VARIABLE.exec(variable);
    if (!match || value === undefined || value === '') continue;
    const name = match[1]!;
    if (!CONNECTION_NAME.test(name)) throw new ConfigError(`${variable}: the connection name must be upper-case letters, digits and underscores, starting with a letter`);
    if (name === 'DEFAULT') throw new ConfigError(`${variable}: "default" is the state database; set DATABASE_URL instead`);
    urls[name.toLowerCase()] = value;
  }
  return urls;
}

/** ETL_CONNECTIONS_SSM_NAMES=warehouse,app: connections whose URL is the SSM parameter <ETL_CONNECTIONS_SSM_PATH><name>. */
function connectionParams(env: Environment): Record<string, string> {
  const names = (optional(env, 'ETL_CONNECTIONS_SSM_NAMES') ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  if (names.length === 0) return {};
  const prefix = optional(env, 'ETL_CONNECTIONS_SSM_PATH');
  if (!prefix) throw new ConfigError('ETL_CONNECTIONS_SSM_PATH is not set (the SSM path of the connection parameters)');
  const params: Record<string, string> = {};
  for (const name of names) {
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(name) || name === 'default') throw new ConfigError(`ETL_CONNECTIONS_SSM_NAMES: "${name}" is not a connection name (lower-case letters, digits, underscore; not "default")`);
    params[name] = `${prefix}${name}`;
  }
  return params;
}

/** LOG_LEVEL's values; `silent` writes nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

function logLevel(env: Environment): LogLevel {
  const raw = (optional(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(logLevels as readonly string[]).includes(raw)) throw new ConfigError(`LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${raw}"`);
  return raw as LogLevel;
}

function flag(env: Environment, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

const METRICS_NAMESPACE = /^[A-Za-z0-9.\-_/#:]{1,255}$/;

function metricsNamespace(env: Environment): string {
  const value = optional(env, 'POWERTOOLS_METRICS_NAMESPACE') ?? 'Etl';
  if (!METRICS_NAMESPACE.test(value)) throw new ConfigError(`POWERTOOLS_METRICS_NAMESPACE must be 1-255 characters of letters, digits and . - _ / # :, got "${value}"`);
  return value;
}

/** Validates and freezes the settings in `env`; throws ConfigError naming the variable. */
export function parseConfig(env: Environment) {
  return Object.freeze({
    /** Connection string of the state database (etl schema); also the default source and Postgres target. */
    databaseUrl: optional(env, 'DATABASE_URL'),
    /**
     * SSM parameter names (SecureString) of the secrets, used when the plain variable is unset
     * (cloud and LocalStack stages): read once per container by secrets.ts.
     */
    databaseUrlParam: optional(env, 'DATABASE_URL_PARAM'),
    esUrlParam: optional(env, 'ES_URL_PARAM'),
    opensearchUrlParam: optional(env, 'OPENSEARCH_URL_PARAM'),
    /** Named connections (sources and Postgres targets in other databases), by lower-case name. */
    connectionUrls: Object.freeze(connectionUrls(env)),
    /** Named connections whose URL is read from SSM (cloud stages), name -> parameter name. */
    connectionParams: Object.freeze(connectionParams(env)),
    /** Step Functions endpoint override: the local endpoint or LocalStack. Unset on AWS. */
    sfnEndpoint: optional(env, 'SFN_ENDPOINT'),
    stateMachineArn: optional(env, 'STATE_MACHINE_ARN'),
    /**
     * EventBridge Scheduler (cloud): the schedule group of this deployment and the role its
     * schedules assume to start executions. Unset locally, where the local stack runs due ticks.
     */
    schedulerGroup: optional(env, 'SCHEDULER_GROUP'),
    schedulerRoleArn: optional(env, 'SCHEDULER_ROLE_ARN'),
    schedulerEndpoint: optional(env, 'SCHEDULER_ENDPOINT'),
    region: optional(env, 'AWS_REGION') ?? 'us-east-1',
    esUrl: optional(env, 'ES_URL'),
    opensearchUrl: optional(env, 'OPENSEARCH_URL'),
    apiKey: optional(env, 'API_KEY'),
    logLevel: logLevel(env),
    /**
     * Observability (lib/runtime/observability.ts). The Powertools variable names, so that the
     * library and this parser agree; the values are handed to it explicitly. The service is the
     * one of serverless.yml and the stage its deployment stage: the metrics' two dimensions.
     */
    serviceName: optional(env, 'POWERTOOLS_SERVICE_NAME') ?? 'etl',
    stage: optional(env, 'STAGE') ?? 'local',
    metricsNamespace: metricsNamespace(env),
    /** EMF metrics are on in the cloud; the local stack and the test harness turn them off (readable output). */
    metricsEnabled: !flag(env, 'POWERTOOLS_METRICS_DISABLED', false),
    /** Bounds one read of the user's SQL; a batch that needs longer is a bad query, not a slow network. */
    sourceStatementTimeoutMs: integer(env, 'SOURCE_STATEMENT_TIMEOUT_MS', 60_000, 100, 15 * 60_000),
    /** Batches per execution before the run continues as a new execution (history limit). */
    batchesPerExecution: integer(env, 'BATCHES_PER_EXECUTION', 500, 1, 2_000),
    /** A RUNNING run whose heartbeat is older than this is considered stuck. */
    staleRunSeconds: integer(env, 'STALE_RUN_SECONDS', 900, 5, 86_400),
    /** Sessions of the state pool; each connection also gets a read pool and (not `default`) a write pool. */
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 4, 1, 50),
    connectionPoolSize: integer(env, 'CONNECTION_POOL_SIZE', 2, 1, 50),
  });
}

export type RuntimeConfig = ReturnType<typeof parseConfig>;

export const config: RuntimeConfig = parseConfig(process.env);

export function requireSetting<K extends keyof RuntimeConfig>(key: K, variable: string): NonNullable<RuntimeConfig[K]> {
  const value = config[key];
  if (value === undefined || value === null) throw new ConfigError(`${variable} is not set`);
  return value;
}
