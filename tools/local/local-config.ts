/**
 * Settings of the local stack (npm start, npm run db:*, demo), read from the environment once.
 * Defaults are the ones the README documents (API 3000, Step Functions 8083, PostgreSQL 54329).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { config } from '../../lib/runtime/config.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${name} must be a TCP port (1-65535), got "${raw}"`);
  return value;
}

function positiveMs(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 100 || value > 60_000) throw new Error(`${name} must be milliseconds in [100, 60000], got "${raw}"`);
  return value;
}

/**
 * Where serverless-esbuild writes the functions' bundles (serverless.yml's outputWorkFolder, from
 * ETL_ESBUILD_WORK_FOLDER relative to the repository, default .esbuild).
 */
export const esbuildWorkFolder = path.resolve(repoRoot, process.env.ETL_ESBUILD_WORK_FOLDER ?? '.esbuild');

/** The environment a child process of the local stack starts from (PATH, HOME...). */
export const inheritedEnvironment = (): NodeJS.ProcessEnv => ({ ...process.env });

const optional = (name: string) => (process.env[name] ? process.env[name] : undefined);

/**
 * The README's function settings. `npm start` hands them, as set, to the step functions and the
 * HTTP functions, which parse and validate them with lib/runtime/config.ts like a deployed Lambda.
 */
export const FUNCTION_SETTINGS = ['LOG_LEVEL', 'BATCHES_PER_EXECUTION', 'SOURCE_STATEMENT_TIMEOUT_MS', 'STALE_RUN_SECONDS'] as const;

function functionSettings(): Readonly<Record<string, string>> {
  return Object.freeze(Object.fromEntries(FUNCTION_SETTINGS.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : []))));
}

export const localConfig = Object.freeze({
  /** An external PostgreSQL (14+) instead of the embedded one. */
  databaseUrl: optional('DATABASE_URL'),
  embeddedPort: port('PGPORT', 54329),
  embeddedDatabase: 'etl',
  dataDir: path.resolve(process.env.ETL_DATA_DIR ?? path.join(repoRoot, '.data')),
  apiPort: port('API_PORT', 3000),
  lambdaPort: port('LAMBDA_PORT', 3002),
  sfnPort: port('SFN_PORT', 8083),
  esUrl: optional('ES_URL'),
  opensearchUrl: optional('OPENSEARCH_URL'),
  apiKey: optional('API_KEY'),
  functionSettings: functionSettings(),
  /** ETL_CONNECTION_<NAME> (parsed and checked by the runtime's config, the one parser of them). */
  connections: config.connectionUrls,
  /** How often the local stack looks for due schedule ticks (SCHEDULER_POLL_MS, ms); ticks themselves have minute precision. */
  schedulerPollMs: positiveMs('SCHEDULER_POLL_MS', 5_000),
  /** Where the demo and the CLI find the API (a LocalStack or cloud URL works too). */
  apiUrl: (optional('API_URL') ?? `http://127.0.0.1:${port('API_PORT', 3000)}`).replace(/\/$/, ''),
});

/** A connection URL fit to print: the password, if any, replaced by `***`. */
export function maskPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
