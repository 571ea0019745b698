/**
 * The health check of a database: a new connection and `SELECT 1`, with a short timeout. A new
 * connection, not a pooled one: a server in smart shutdown keeps serving its open sessions while
 * it refuses every new one (57P03), and it is new connections the next request will need.
 */
import pg from 'pg';
import { DependencyUnavailableError } from '../../core/errors.ts';

const REFUSALS: Record<string, string> = {
  '57P03': 'it is shutting down or starting up',
  '53300': 'too many connections',
  '28P01': 'the password was refused',
  '28000': 'the role may not log in',
  '3D000': 'the database does not exist',
};

/** Resolves when `url` accepts a new session; otherwise DependencyUnavailableError naming `what` and why. */
export async function checkDatabase(url: string, what: string, timeoutMs = 3_000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new DependencyUnavailableError(`${what} ${reason(error)}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  // SQLSTATEs are five characters; socket errors (ECONNREFUSED...) and timeouts mean unreachable.
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return `refuses connections: ${REFUSALS[code] ?? 'the server refused the session'} (SQLSTATE ${code})`;
  }
  return 'is unreachable';
}
