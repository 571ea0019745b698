/**
 * Configuration of the deployed functions, read from the environment once, validated, frozen.
 * The same variables are set by serverless.yml (cloud, LocalStack) and by `npm start` (local).
 */
import type { LogLevel } from './logger.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function integer(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return value;
}

function optional(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

function logLevel(): LogLevel {
  const raw = (optional('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(logLevels as readonly string[]).includes(raw)) throw new ConfigError(`LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${raw}"`);
  return raw as LogLevel;
}

function readConfig() {
  return Object.freeze({
    /** Connection string of the state database (etl schema); also the default source and Postgres target. */
    databaseUrl: optional('DATABASE_URL'),
    /**
     * SSM parameter names (SecureString) of the secrets, used when the plain variable is unset
     * (cloud and LocalStack stages): read once per container by secrets.ts.
     */
    databaseUrlParam: optional('DATABASE_URL_PARAM'),
    esUrlParam: optional('ES_URL_PARAM'),
    opensearchUrlParam: optional('OPENSEARCH_URL_PARAM'),
    /** Step Functions endpoint override: the local endpoint or LocalStack. Unset on AWS. */
    sfnEndpoint: optional('SFN_ENDPOINT'),
    stateMachineArn: optional('STATE_MACHINE_ARN'),
    region: optional('AWS_REGION') ?? 'us-east-1',
    esUrl: optional('ES_URL'),
    opensearchUrl: optional('OPENSEARCH_URL'),
    apiKey: optional('API_KEY'),
    logLevel: logLevel(),
    /** Bounds one read of the user's SQL; a batch that needs longer is a bad query, not a slow network. */
    sourceStatementTimeoutMs: integer('SOURCE_STATEMENT_TIMEOUT_MS', 60_000, 100, 15 * 60_000),
    /** Batches per execution before the run continues as a new execution (history limit). */
    batchesPerExecution: integer('BATCHES_PER_EXECUTION', 500, 1, 2_000),
    /** A RUNNING run whose heartbeat is older than this is considered stuck. */
    staleRunSeconds: integer('STALE_RUN_SECONDS', 900, 5, 86_400),
    dbPoolSize: integer('DB_POOL_SIZE', 4, 1, 50),
  });
}

export type RuntimeConfig = ReturnType<typeof readConfig>;

export const config: RuntimeConfig = readConfig();

export function requireSetting<K extends keyof RuntimeConfig>(key: K, variable: string): NonNullable<RuntimeConfig[K]> {
  const value = config[key];
  if (value === undefined || value === null) throw new ConfigError(`${variable} is not set`);
  return value;
}
