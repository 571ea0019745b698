/**
 * The PostgreSQL target: `INSERT ... ON CONFLICT (key) DO UPDATE` from the batch as JSON, skipping
 * rows whose content is unchanged, so a replayed batch changes nothing.
 *
 * Commit order: a target in the state database (connection `default`) commits the write and the
 * cursor advance in one transaction. A target in another database commits first, then the cursor
 * advances in the state database: a crash in between replays the batch, which the idempotent
 * upsert absorbs, so the target still ends equal to the source.
 */
import type pg from 'pg';
import type { PostgresTarget } from '../../core/pipeline.ts';
import type { Row, Sink, TransactionHandle } from '../../core/ports.ts';
import { RejectedRowError } from '../../core/errors.ts';
import { withTransaction } from './transaction.ts';
import { classifyPgError } from './classify.ts';
import { quoteIdent, quoteTable } from './identifiers.ts';
import { conflictClause } from './page-statement.ts';

export interface PostgresSinkOptions {
  /** The target lives in the state database: the write joins the cursor advance's transaction. */
  sharesStateTransaction: boolean;
  /** Names the target's connection in errors. */
  label: string;
  /** A target locked by someone else (DDL, a long write) fails fast and is retried by the state machine. */
  lockTimeoutMs?: number;
}

export function createPostgresSink(pool: pg.Pool, target: PostgresTarget, options: PostgresSinkOptions): Sink {
  async function upsertAndCommit(rows: Row[], inTransaction: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    await withTransaction(
      pool,
      options.sharesStateTransaction ? 'state' : 'target',
      async (client) => {
        if (rows.length > 0) {
          const { sql, columns } = upsertStatement(target, rows);
          await client.query(sql, [JSON.stringify(rows, jsonValue)]).catch((error: unknown) => {
            throw classifyPgError(error, 'target', `writing ${rows.length} rows (${columns.join(', ')}) to ${target.table} on ${options.label}`);
          });
        }
        await inTransaction(client);
      },
      { setLocal: [`SET LOCAL lock_timeout = ${Math.trunc(options.lockTimeoutMs ?? 5_000)}`], connecting: `connecting to the target ${options.label}` },
    );
  }

  return {
    async write(rows, commitProgress) {
      if (options.sharesStateTransaction) {
        await upsertAndCommit(rows, (client) => commitProgress(client as unknown as TransactionHandle));
      } else {
        await upsertAndCommit(rows, async () => undefined);
        await commitProgress(null);
      }
      return { written: rows.length };
    },
  };
}

export function upsertStatement(target: PostgresTarget, rows: Row[]): { sql: string; columns: string[] } {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const missingKey = target.key.find((k) => !columns.includes(k));
  if (missingKey) throw new RejectedRowError(`rows have no "${missingKey}" field, a key column of ${target.table}`);
  const table = quoteTable(target.table);
  const list = columns.map(quoteIdent).join(', ');
  const sql = `INSERT INTO ${table} AS t (${list})
    SELECT ${list} FROM json_populate_recordset(NULL::${table}, $1::json)
    ${conflictClause(target, columns)}`;
  return { sql, columns };
}

/** JSON for json_populate_recordset: bigint as text, Buffers as bytea hex. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer') {
    return `\\x${Buffer.from((value as { data: number[] }).data).toString('hex')}`;
  }
  return value;
}
