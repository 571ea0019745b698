/**
 * The PostgreSQL target: `INSERT ... ON CONFLICT (key) DO UPDATE` from the batch as JSON, skipping
 * rows whose content is unchanged, so a replayed batch changes nothing.
 *
 * Commit order: a target in the state database (connection `default`) commits the write and the
 * cursor advance in one transaction. A target in another database commits first, then the cursor
 * advances in the state database: a crash in between replays the batch, which the idempotent
 * upsert absorbs, so the target still ends equal to the source.
 *
 * Soft deletes are a DELETE by key in the same transaction as the upserts (and, in the state
 * database, the cursor advance); deleting an absent key deletes nothing, so a replay changes
 * nothing. delete_missing: see key-deletes.ts.
 */
import type pg from 'pg';
import type { PostgresTarget } from '../../core/pipeline.ts';
import type { Row, Sink, TransactionHandle, WriteOutcome } from '../../core/ports.ts';
import { RejectedRowError } from '../../core/errors.ts';
import { withTransaction } from './transaction.ts';
import { classifyPgError } from './classify.ts';
import { quoteIdent, quoteTable } from './identifiers.ts';
import { createSeenKeys, deleteByKeyStatement, keysJson } from './key-deletes.ts';
import { conflictClause } from './page-statement.ts';

export interface PostgresSinkOptions {
  /** The target lives in the state database: the write joins the cursor advance's transaction. */
  sharesStateTransaction: boolean;
  /** Names the target's connection in errors. */
  label: string;
  /** A target locked by someone else (DDL, a long write) fails fast and is retried by the state machine. */
  lockTimeoutMs?: number;
  /** The pipeline writing: names the table of keys seen by a delete_missing run. */
  pipelineId: string;
}

export function createPostgresSink(pool: pg.Pool, target: PostgresTarget, options: PostgresSinkOptions): Sink {
  const seenKeys = target.delete_missing ? createSeenKeys(target, options.pipelineId) : null;
  const where = `${target.table} on ${options.label}`;

  /** One target transaction; `side` names whose failure a connection error is (see classify.ts). */
  const inTargetTransaction = <T>(side: 'state' | 'target', work: (client: pg.PoolClient) => Promise<T>): Promise<T> =>
    withTransaction(pool, side, work, {
      setLocal: [`SET LOCAL lock_timeout = ${Math.trunc(options.lockTimeoutMs ?? 5_000)}`],
      connecting: `connecting to the target ${options.label}`,
    });

  async function writeAndCommit(rows: Row[], deletes: Row[], inTransaction: (client: pg.PoolClient, outcome: WriteOutcome) => Promise<void>): Promise<WriteOutcome> {
    return await inTargetTransaction(options.sharesStateTransaction ? 'state' : 'target', async (client) => {
      const outcome = { deleted: 0 };
      if (deletes.length > 0) {
        const result = await client.query(deleteByKeyStatement(target), [keysJson(target, deletes, jsonValue)]).catch((error: unknown) => {
          throw classifyPgError(error, 'target', `deleting ${deletes.length} keys (${target.key.join(', ')}) from ${where}`);
        });
        outcome.deleted = result.rowCount ?? 0;
      }
      if (rows.length > 0) {
        const { sql, columns } = upsertStatement(target, rows);
        await client.query(sql, [JSON.stringify(rows, jsonValue)]).catch((error: unknown) => {
          throw classifyPgError(error, 'target', `writing ${rows.length} rows (${columns.join(', ')}) to ${where}`);
        });
        await seenKeys?.record(client, keysJson(target, rows, jsonValue));
      }
      await inTransaction(client, outcome);
      return outcome;
    });
  }

  return {
    async write(rows, commitProgress, deletes = []) {
      let outcome: WriteOutcome;
      if (options.sharesStateTransaction) {
        outcome = await writeAndCommit(rows, deletes, (client, done) => commitProgress(client as unknown as TransactionHandle, done));
      } else {
        outcome = await writeAndCommit(rows, deletes, async () => undefined);
        await commitProgress(null, outcome);
      }
      return { written: rows.length, deleted: outcome.deleted };
    },
    ...(seenKeys
      ? {
          prepareRun: (run: { fromStart: boolean }) => inTargetTransaction('target', (client) => seenKeys.prepare(client, run.fromStart)),
          finishRun: async () => ({ deleted: await inTargetTransaction('target', (client) => seenKeys.sweep(client)) }),
        }
      : {}),
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
