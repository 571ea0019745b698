/**
 * The one place that maps PostgreSQL failures (SQLSTATE, socket errors) to the error taxonomy.
 * Retryable: connection (08xxx), resources (53xxx), shutdown/restart (57P01-57P03), serialization
 * and deadlock (40001, 40P01), lock not available (55P03). A missing table (42P01) is retryable
 * for the target (it may be being swapped) but permanent for the source query.
 */
import {
  ConnectionLostError,
  EtlError,
  RejectedRowError,
  SourceQueryError,
  TargetUnavailableError,
  TransientConflictError,
} from '../../core/errors.ts';

export type PgErrorSide = 'source' | 'target' | 'state';

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

interface PgLikeError {
  code?: string;
  message?: string;
  table?: string;
  column?: string;
  detail?: string;
}

export function classifyPgError(error: unknown, side: PgErrorSide, context = ''): Error {
  if (error instanceof EtlError) return error;
  const e = (error ?? {}) as PgLikeError;
  const code = typeof e.code === 'string' ? e.code : '';
  const where = context ? `${context}: ` : '';
  const message = `${where}${e.message ?? String(error)}${e.detail ? ` (${e.detail})` : ''}`;
  const options = { cause: error };

  if (SOCKET_CODES.has(code) || isConnectionMessage(e.message)) return new ConnectionLostError(message, options);
  if (code.startsWith('08') || code.startsWith('53') || ['57P01', '57P02', '57P03'].includes(code)) {
    return new ConnectionLostError(message, options);
  }
  if (['40001', '40P01', '55P03'].includes(code)) return new TransientConflictError(message, options);
  // 57014 is a cancelled statement: our statement_timeout on the source, or a lock timeout on the target.
  if (code === '57014') return side === 'source' ? new SourceQueryError(`${message} (the source query exceeded its statement timeout)`, options) : new TransientConflictError(message, options);
  if (code === '42P01' && side === 'target') return new TargetUnavailableError(message, options);
  if (side === 'source') return new SourceQueryError(message, options);
  // Data errors (22xxx), constraint violations (23xxx), a batch hitting one key twice (21000),
  // undefined columns or types in the target (42xxx): the same rows will fail the same way.
  if (code.startsWith('22') || code.startsWith('23') || code.startsWith('42') || code === '21000') return new RejectedRowError(message, options);
  return error instanceof Error ? error : new Error(message, options);
}

function isConnectionMessage(message: string | undefined): boolean {
  if (!message) return false;
  return /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|server closed the connection/i.test(message);
}
