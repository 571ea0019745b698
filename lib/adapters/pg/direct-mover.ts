/**
 * Plain Postgres-to-Postgres pages moved inside the databases (core/direct-path.ts decides which
 * pipelines qualify). Two ways:
 *
 * - Pushdown (source and target on one named connection, not `default`, target.pushdown not false:
 *   core/direct-path.ts mayPushDown): the page is one
 *   statement, `WITH page AS (<keyset page of the user's SQL>) ... INSERT ... ON CONFLICT`, on a
 *   session of the target's write pool, in the target's transaction (docs/SECURITY.md "Pushdown"
 *   says what the query can do there). It is sent with the extended protocol (one statement),
 *   under the source's statement timeout. Before any platform statement follows it in that
 *   transaction (the cursor advance, when the target is the state database) the session's role and
 *   settings are restored; after the commit it is reset with DISCARD ALL, or destroyed on failure.
 * - COPY (another connection, or pushdown off): `COPY (<page>) TO STDOUT` on a read session
 *   (read-only, statement timeout, reset after use) piped into `COPY` into a temporary staging
 *   table of the target's transaction (dropped at commit), then the same checked upsert.
 *
 * Key integrity is checked in the statement itself (page-statement.ts): the INSERT writes nothing
 * when the page has a NULL or repeated keyset value or a NULL or repeated target key, and the
 * answer says which; NULL keyset values of the whole source are counted when they show up and at
 * the last page, as the JavaScript reader does. Commit order is the sink's: a target in the state
 * database commits with the cursor advance, any other commits first.
 */
import type pg from 'pg';
import { KeyIntegrityError, RejectedRowError } from '../../core/errors.ts';
import { nullKeysError, nullTargetKeysError, repeatedKeysetError, repeatedTargetKeyError } from '../../core/key-integrity.ts';
import { DEFAULT_CONNECTION, type PostgresTarget, type SourceDefinition } from '../../core/pipeline.ts';
import type { Cursor } from '../../core/keyset.ts';
import type { DirectMover, DirectMovers, MovedPage, ReadRequest, TransactionHandle } from '../../core/ports.ts';
import { mayPushDown } from '../../core/direct-path.ts';
import { targetLabel } from '../../core/target-keys.ts';
import { withTransaction } from './transaction.ts';
import { classifyPgError } from './classify.ts';
import type { ConnectionRegistry } from './connections.ts';
import { pipeCopy } from './copy-pipe.ts';
import { quoteIdent, quoteTable } from './identifiers.ts';
import { moveStatement, pageExtras, pageSelect, pushdownStatement, type MoveOutcome } from './page-statement.ts';
import { oneStatement, queryFields, withConnectionReadSession } from './read-session.ts';
import { countNullKeys, explainMissingColumn, statementBody } from './page-query.ts';
import { createPgSourceReader } from './source-reader.ts';
import { escapeLiteral } from 'pg';

export interface DirectMoverOptions {
  lockTimeoutMs?: number;
  /** Working memory of the move statement: the page is materialised once and read by the checks and the INSERT. */
  workMem?: string;
  /** How long a query's column list is reused before it is described again. */
  columnsTtlMs?: number;
}

const STAGE = 'pg_temp.etl_page';

export function createPgDirectMovers(connections: ConnectionRegistry, options: DirectMoverOptions = {}): DirectMovers {
  const lockTimeoutMs = Math.trunc(options.lockTimeoutMs ?? 5_000);
  const workMem = options.workMem ?? '64MB';
  const columnsTtlMs = options.columnsTtlMs ?? 60_000;
  const columnCache = new Map<string, { columns: string[]; at: number }>();

  /** The query's output columns, from `LIMIT 0` on a read session (user SQL never runs elsewhere for this). */
  async function queryColumns(connection: string, body: string, keyset: string[]): Promise<string[]> {
    const key = `${connection}\n${body}`;
    const cached = columnCache.get(key);
    if (cached && Date.now() - cached.at < columnsTtlMs) return cached.columns;
    const fields = await withConnectionReadSession(connections, connection, (client) =>
      queryFields(client, body).catch((error: unknown) => {
        throw explainMissingColumn(error, keyset);
      }),
    );
    const columns = fields.map((field) => field.name);
    columnCache.set(key, { columns, at: Date.now() });
    return columns;
  }

  const nullCounts = (connection: string, body: string, keyset: string[]) =>
    withConnectionReadSession(connections, connection, (client) => countNullKeys(client, body, keyset));

  return {
    forPipeline(source: SourceDefinition, target: PostgresTarget): DirectMover {
      const from = source.connection ?? DEFAULT_CONNECTION;
      const to = target.connection ?? DEFAULT_CONNECTION;
      const pushdown = mayPushDown(source, target);
      const sharesState = to === DEFAULT_CONNECTION;
      const where = targetLabel(target);
      const context = `writing a page to ${target.table} on ${connections.label(to)} (${pushdown ? 'pushdown' : 'COPY'})`;

      async function movePage(request: ReadRequest, commitProgress: (tx: TransactionHandle | null, page: { rowsRead: number; last: Cursor }) => Promise<void>): Promise<MovedPage> {
        const body = statementBody(request.query);
        const columns = await queryColumns(from, body, request.keyset);
        const missingKey = target.key.find((k) => !columns.includes(k));
        if (missingKey) throw new RejectedRowError(`the source query returns no "${missingKey}" column, a key column of ${target.table}`);
        const checkTargetKeys = !sameSet(target.key, request.keyset);
        const statement = { keyset: request.keyset, limit: request.limit, columns, target, checkTargetKeys };

        const page = await withTransaction(
          connections.writePool(to),
          sharesState ? 'state' : 'target',
          async (client) => {
            const outcome = pushdown ? await pushdownPage(client, request, body, statement) : await copyPage(client, request, body, statement);
            // NULL keys first: a NULL also compares equal to the next NULL and would read as a repeat.
            if (outcome.nulls || Number(outcome.fetched) <= request.limit) {
              const nulls = nullKeysError(await nullCounts(from, body, request.keyset), request.keyset);
              if (nulls) throw nulls;
            }
            const moved = interpret(outcome, request);
            if (moved.rowsRead > 0 && sharesState) await commitProgress(client as unknown as TransactionHandle, { rowsRead: moved.rowsRead, last: moved.last! });
            return moved;
          },
          {
            setLocal: [`SET LOCAL lock_timeout = ${lockTimeoutMs}`, `SET LOCAL work_mem = ${escapeLiteral(workMem)}`],
            connecting: `connecting to the target ${connections.label(to)}`,
            context,
            // The user's SQL ran in this session (pushdown): nothing it set may reach the next user.
            afterCommit: pushdown ? (client) => client.query('DISCARD ALL') : undefined,
          },
        );
        if (page.rowsRead > 0 && !sharesState) await commitProgress(null, { rowsRead: page.rowsRead, last: page.last! });
        return { ...page, path: pushdown ? 'pushdown' : 'copy' };
      }

      async function pushdownPage(client: pg.PoolClient, request: ReadRequest, body: string, statement: Omit<Parameters<typeof moveStatement>[0], 'page'>): Promise<MoveOutcome> {
        const params: unknown[] = [];
        const bind = (value: unknown) => {
          params.push(value);
          return `$${params.length}`;
        };
        const checkRepeats = statement.checkTargetKeys || statement.columns.every((c) => target.key.includes(c));
        const sql = pushdownStatement({ request, body, bind, columns: statement.columns, target, checkTargetKeys: statement.checkTargetKeys, checkRepeats });
        await client.query(`SET LOCAL statement_timeout = ${Math.trunc(connections.readStatementTimeoutMs)}`);
        const result = await client.query(oneStatement(sql, params)).catch(async (error: unknown) => {
          // ON CONFLICT met one key twice in the page: the keyset repeats. The reader, on a read
          // session, finds and names the value (it compares the keys as the paging does).
          if ((error as { code?: string }).code === '21000') throw await repeatedKeyset(request, error);
          throw pushdownError(explainMissingColumn(error, request.keyset), target, context);
        });
        // What the query did to the session's role and settings must not reach the platform's
        // own statements that may follow in this transaction (the cursor advance).
        await client.query(`SET SESSION AUTHORIZATION DEFAULT; RESET ALL; SET LOCAL lock_timeout = ${lockTimeoutMs}`);
        return result.rows[0] as MoveOutcome;
      }

      async function copyPage(client: pg.PoolClient, request: ReadRequest, body: string, statement: Omit<Parameters<typeof moveStatement>[0], 'page'>): Promise<MoveOutcome> {
        const extras = pageExtras(request.keyset);
        const list = [...statement.columns.map(quoteIdent), ...extras.map((e) => e.name)].join(', ');
        // Staged with the target's own column types: text-format input then converts values as
        // the JavaScript path's JSON did, not by assignment casts.
        const onTarget = (error: unknown) => Promise.reject(classifyPgError(error, 'target', context));
        await client.query(
          `CREATE TEMPORARY TABLE ${STAGE} ON COMMIT DROP AS
             SELECT ${[...statement.columns.map(quoteIdent), ...extras.map((e) => `NULL::${e.type} AS ${e.name}`)].join(', ')}
             FROM ${quoteTable(target.table)} WITH NO DATA`,
        ).catch(onTarget);
        const copyOutSql = `COPY (${pageSelect(request, body, (value) => escapeLiteral(String(value)), statement.columns)}) TO STDOUT`;
        await withConnectionReadSession(connections, from, (source) => pipeCopy(source, copyOutSql, client, `COPY ${STAGE} (${list}) FROM STDIN`, onTarget));
        const result = await client.query(moveStatement({ ...statement, page: `SELECT * FROM ${STAGE}` })).catch(onTarget);
        return result.rows[0] as MoveOutcome;
      }

      async function repeatedKeyset(request: ReadRequest, cause: unknown): Promise<Error> {
        const reader = createPgSourceReader(connections.readPool(from), { label: connections.label(from) });
        const found = await reader.readBatch(request).then(
          () => null,
          (error: unknown) => error,
        );
        if (found instanceof KeyIntegrityError) return found;
        return new KeyIntegrityError(`${context}: the page has the key (${request.keyset.join(', ')}) more than once (${(cause as Error).message}); the pipeline pages by this key, which must be unique`, { cause });
      }

      /** The statement's answer as a page, or the KeyIntegrityError it found. */
      function interpret(outcome: MoveOutcome, request: ReadRequest): { rowsRead: number; last: Cursor | null; done: boolean } {
        if (outcome.repeated) throw repeatedKeysetError(outcome.repeated, request.keyset);
        const targetNulls = outcome.target_nulls ? nullTargetKeysError(outcome.target_nulls.map(Number), target.key, where) : null;
        if (targetNulls) throw targetNulls;
        if (outcome.target_repeated) {
          const shown = target.key.length === 1 ? JSON.stringify(outcome.target_repeated[0]) : JSON.stringify(outcome.target_repeated);
          throw repeatedTargetKeyError(shown, target.key, where);
        }
        const fetched = Number(outcome.fetched);
        return { rowsRead: Math.min(fetched, request.limit), last: outcome.last, done: fetched <= request.limit };
      }

      return { movePage };
    },
  };
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * One statement both reads and writes, so its failure is placed by what it names: a statement
 * timeout is the query's (the source's timeout, as for a read); an undefined
 * object that is the target (a table being swapped: retryable) or one of the target's columns is
 * the target's; any other undefined object, a syntax or a permission error comes from the query,
 * permanent like a failed read. A type the target cannot take by assignment says how to fix it.
 */
function pushdownError(error: unknown, target: PostgresTarget, context: string): unknown {
  const e = error as { code?: string; message?: string };
  const code = e.code ?? '';
  const message = e.message ?? '';
  if (code === '42804') {
    return new RejectedRowError(`${context}: ${message}; under pushdown the query's columns are assigned to the target's as PostgreSQL's INSERT does: cast the column in the query, or set target.pushdown to false`, { cause: error });
  }
  // 57014 here is the source's statement timeout (a lock wait ends in 55P03): the query's, permanent.
  if (code === '57014') return classifyPgError(error, 'source', context);
  if (!code.startsWith('42')) return classifyPgError(error, 'target', context);
  const bare = target.table.split('.').at(-1)!;
  const namesTarget = [`"${target.table}"`, `"${bare}"`].some((name) => message.includes(`relation ${name}`));
  return classifyPgError(error, namesTarget ? 'target' : 'source', context);
}
