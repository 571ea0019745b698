/**
 * The secrets of the deployed functions: the database URL and the search engine URLs (which may
 * carry credentials). Locally they come as plain variables (DATABASE_URL, ES_URL, OPENSEARCH_URL).
 * In the cloud and on LocalStack the template holds only SSM parameter names (DATABASE_URL_PARAM,
 * ES_URL_PARAM, OPENSEARCH_URL_PARAM); the SecureStrings are read once per container, at cold
 * start (pg-pool.ts and search-sinks.ts await them at module load).
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ConnectionLostError } from '../core/errors.ts';
import { config, ConfigError } from './config.ts';

export interface RuntimeSecrets {
  databaseUrl: string | undefined;
  esUrl: string | undefined;
  opensearchUrl: string | undefined;
  /** Named connection URLs (plain ETL_CONNECTION_<NAME>, then the SSM ones). */
  connectionUrls: Readonly<Record<string, string>>;
}

/** Where each secret comes from: a plain value wins; otherwise the named SSM parameter. */
export interface SecretSettings {
  databaseUrl?: string | undefined;
  databaseUrlParam?: string | undefined;
  esUrl?: string | undefined;
  esUrlParam?: string | undefined;
  opensearchUrl?: string | undefined;
  opensearchUrlParam?: string | undefined;
  connectionUrls?: Readonly<Record<string, string>>;
  /** Connection name -> SSM parameter name. */
  connectionParams?: Readonly<Record<string, string>>;
}

/** Reads one SecureString, decrypted; resolves undefined when the parameter does not exist. */
export type ParameterReader = (name: string) => Promise<string | undefined>;

/**
 * Resolves the secrets. The database URL is required once its parameter is named (a missing
 * parameter is a deployment mistake: ConfigError); a missing search parameter means that engine
 * is not configured for this deployment.
 */
export async function resolveSecrets(settings: SecretSettings, read: ParameterReader): Promise<RuntimeSecrets> {
  const pick = async (value: string | undefined, param: string | undefined, variable: string, required: boolean) => {
    if (value !== undefined || param === undefined) return value;
    const fetched = await read(param);
    if (fetched === undefined && required) throw new ConfigError(`${variable}: the SSM parameter ${param} does not exist`);
    return fetched === '' ? undefined : fetched;
  };
  const [databaseUrl, esUrl, opensearchUrl] = await Promise.all([
    pick(settings.databaseUrl, settings.databaseUrlParam, 'DATABASE_URL_PARAM', true),
    pick(settings.esUrl, settings.esUrlParam, 'ES_URL_PARAM', false),
    pick(settings.opensearchUrl, settings.opensearchUrlParam, 'OPENSEARCH_URL_PARAM', false),
  ]);
  const fromSsm = await Promise.all(
    Object.entries(settings.connectionParams ?? {})
      .filter(([name]) => settings.connectionUrls?.[name] === undefined)
      .map(async ([name, param]) => [name, await pick(undefined, param, `connection ${name}`, true)] as const),
  );
  const connectionUrls = Object.freeze({ ...Object.fromEntries(fromSsm.filter((entry): entry is readonly [string, string] => entry[1] !== undefined)), ...settings.connectionUrls });
  return Object.freeze({ databaseUrl, esUrl, opensearchUrl, connectionUrls });
}

/**
 * Throttling, 5xx and network failures may pass: retryable (the state machine retries the step).
 * Access denied, a bad name or a KMS refusal will not: permanent.
 */
export function classifyParameterError(error: unknown, name: string): Error {
  const details = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = details.$metadata?.httpStatusCode;
  const message = `the SSM parameter ${name} could not be read: ${details.name ?? 'Error'}: ${details.message ?? String(error)}`;
  const retryable = status === undefined || status >= 500 || status === 429 || /throttl/i.test(details.name ?? '');
  return retryable ? new ConnectionLostError(message, { cause: error }) : new ConfigError(message, { cause: error });
}

/** Reads SecureStrings with the Lambda runtime's AWS SDK (AWS_ENDPOINT_URL points it at LocalStack). */
export function createSsmParameterReader(region: string): ParameterReader {
  let client: SSMClient | undefined;
  return async (name) => {
    // Loaded only when a parameter is named: the local stage never needs the SDK.
    const { SSMClient, GetParameterCommand, ParameterNotFound } = await import('@aws-sdk/client-ssm');
    client ??= new SSMClient({ region });
    try {
      const result = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      return result.Parameter?.Value;
    } catch (error) {
      if (error instanceof ParameterNotFound) return undefined;
      throw classifyParameterError(error, name);
    }
  };
}

let loading: Promise<RuntimeSecrets> | undefined;

/** The container's secrets, resolved once (a failed read is tried again by the next call). */
export function runtimeSecrets(): Promise<RuntimeSecrets> {
  loading ??= resolveSecrets(config, createSsmParameterReader(config.region)).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}
