/** GET /health: the state database accepts a new session (see adapters/pg/health.ts). */
import { checkDatabase } from '../adapters/pg/health.ts';
import { ConfigError } from './config.ts';
import { runtimeSecrets } from './secrets.ts';

export async function checkHealth(): Promise<{ status: 'ok' }> {
  const { databaseUrl } = await runtimeSecrets();
  if (!databaseUrl) throw new ConfigError('DATABASE_URL (or DATABASE_URL_PARAM) is not set');
  await checkDatabase(databaseUrl, 'the state database');
  return { status: 'ok' };
}
