/**
 * SQL of the direct paths (pushdown and COPY), built from validated identifiers; user SQL only
 * ever appears as the page's subquery. A page is the keyset page the reader would read (one row
 * more than the limit, to see whether its last key repeats), numbered in key order and annotated
 * with what the key checks need: the keyset as text (the cursor), whether a row repeats the
 * previous row's keyset, whether a keyset column is NULL.
 *
 * The move statement then checks the page and writes it in one go: the INSERT is guarded by the
 * checks, so a page that breaks key integrity writes nothing and answers what it found (the
 * caller raises KeyIntegrityError and rolls back), and otherwise answers the count and last key.
 */
import type { PostgresTarget } from '../../core/pipeline.ts';
import type { ReadRequest } from '../../core/ports.ts';
import { quoteIdent, quoteTable } from './identifiers.ts';

export const KEY = '__etl_k';
export const ROW_NUMBER = '__etl_n';
export const REPEATS = '__etl_dup';
export const NULL_KEY = '__etl_null';

/** The extra columns of a page, in order, with their types (for a staging table). */
export function pageExtras(keyset: string[]): { name: string; type: string }[] {
  return [
    ...keyset.map((_, i) => ({ name: `${KEY}${i}`, type: 'text' })),
    { name: ROW_NUMBER, type: 'bigint' },
    { name: REPEATS, type: 'boolean' },
    { name: NULL_KEY, type: 'boolean' },
  ];
}

/**
 * The annotated page. `bind` turns a value into SQL: a `$n` placeholder (pushdown, extended
 * protocol) or a quoted literal (COPY takes no parameters). `columns` lists the output columns in
 * order (COPY needs a fixed order); null keeps the query's own columns (`*`).
 */
export function pageSelect(request: ReadRequest, body: string, bind: (value: unknown) => string, columns: string[] | null): string {
  const keys = request.keyset.map((c) => `src.${quoteIdent(c)}`);
  const where: string[] = [];
  if (request.after) where.push(`(${keys.join(', ')}) > (${request.after.map(bind).join(', ')})`);
  if (request.below !== null) where.push(`${keys[0]} < ${bind(request.below)}`);
  const keyText = keys.map((c, i) => `${c}::text AS ${KEY}${i}`).join(', ');
  const limit = Math.trunc(request.limit) + 1;
  // The body sits on lines of its own, so a comment on its last line cannot swallow the wrapper.
  const inner = `SELECT src.*, ${keyText} FROM (\n${body}\n) AS src${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${keys.join(', ')} LIMIT ${limit}`;
  const k = request.keyset.map((_, i) => `p.${KEY}${i}`);
  const order = request.keyset.map((c) => `p.${quoteIdent(c)}`).join(', ');
  const repeats = `coalesce(${k.map((c) => `${c} = lag(${c}) OVER w`).join(' AND ')}, false)`;
  const nullKey = k.map((c) => `${c} IS NULL`).join(' OR ');
  const list = columns ? [...columns.map((c) => `p.${quoteIdent(c)}`), ...k].join(', ') : 'p.*';
  return `SELECT ${list}, row_number() OVER w AS ${ROW_NUMBER}, ${repeats} AS ${REPEATS}, (${nullKey}) AS ${NULL_KEY}
    FROM (${inner}) AS p WINDOW w AS (ORDER BY ${order})`;
}

export interface MoveStatementOptions {
  /** The page: the staging table (COPY), read in place (a materialised copy of it would cost a second write). */
  page: string;
  keyset: string[];
  limit: number;
  columns: string[];
  target: PostgresTarget;
  /** Check NULL and repeated target keys (not needed when the target key is the keyset). */
  checkTargetKeys: boolean;
}

/** The answer of a move statement. */
export interface MoveOutcome {
  fetched: string;
  nulls: boolean;
  repeated: (string | null)[] | null;
  target_nulls: string[] | null;
  target_repeated: (string | null)[] | null;
  last: string[] | null;
}

export function moveStatement(o: MoveStatementOptions): string {
  const limit = Math.trunc(o.limit);
  const keyArray = (alias: string) => `ARRAY[${o.keyset.map((_, i) => `${alias}.${KEY}${i}`).join(', ')}]`;
  const tk = o.target.key.map(quoteIdent);
  const targetChecks = o.checkTargetKeys
    ? `ARRAY[${tk.map((c) => `count(*) FILTER (WHERE ${ROW_NUMBER} <= ${limit} AND ${c} IS NULL)`).join(', ')}]::text[] AS target_nulls,
       (SELECT ARRAY[${tk.map((c) => `g.${c}::text`).join(', ')}] FROM page g WHERE g.${ROW_NUMBER} <= ${limit} AND ${tk.map((c) => `g.${c} IS NOT NULL`).join(' AND ')}
          GROUP BY ${tk.map((c) => `g.${c}`).join(', ')} HAVING count(*) > 1 LIMIT 1) AS target_repeated`
    : 'NULL::text[] AS target_nulls, NULL::text[] AS target_repeated';
  const targetOk = o.checkTargetKeys ? ` AND c.target_repeated IS NULL AND NOT (0 < ANY (c.target_nulls::bigint[]))` : '';
  const list = o.columns.map(quoteIdent).join(', ');
  return `WITH page AS NOT MATERIALIZED (${o.page}),
  checks AS (
    SELECT count(*) AS fetched, coalesce(bool_or(${NULL_KEY}), false) AS nulls,
      (SELECT ${keyArray('d')} FROM page d WHERE d.${REPEATS} ORDER BY d.${ROW_NUMBER} LIMIT 1) AS repeated,
      ${targetChecks}
    FROM page
  ),
  written AS (
    INSERT INTO ${quoteTable(o.target.table)} AS t (${list})
    SELECT ${list} FROM page
    WHERE ${ROW_NUMBER} <= ${limit} AND (SELECT NOT c.nulls AND c.repeated IS NULL${targetOk} FROM checks c)
    ${conflictClause(o.target, o.columns)}
  )
  SELECT c.*, (SELECT ${keyArray('l')} FROM page l WHERE l.${ROW_NUMBER} = least(c.fetched, ${limit})) AS last FROM checks c`;
}

/** `ON CONFLICT (key) DO UPDATE ... WHERE changed`: a replayed batch changes nothing. */
export function conflictClause(target: PostgresTarget, columns: string[]): string {
  const updatable = columns.filter((c) => !target.key.includes(c));
  const conflict = `ON CONFLICT (${target.key.map(quoteIdent).join(', ')})`;
  if (updatable.length === 0) return `${conflict} DO NOTHING`;
  return `${conflict} DO UPDATE SET ${updatable.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}
    WHERE (${updatable.map((c) => `t.${quoteIdent(c)}`).join(', ')}) IS DISTINCT FROM (${updatable.map((c) => `EXCLUDED.${quoteIdent(c)}`).join(', ')})`;
}

export interface PushdownStatementOptions {
  request: ReadRequest;
  body: string;
  bind: (value: unknown) => string;
  columns: string[];
  target: PostgresTarget;
  /** Check NULL and repeated target keys (not needed when the target key is the keyset). */
  checkTargetKeys: boolean;
  /**
   * Check repeated keyset values within the page by grouping. Not needed when the keyset is the
   * target key and the upsert updates columns: ON CONFLICT DO UPDATE then refuses a second row
   * with the same key itself (SQLSTATE 21000, before its WHERE), at no extra cost.
   */
  checkRepeats: boolean;
}

/**
 * The pushdown statement: the keyset page (limit + 1 rows) of the user's SQL, written by one
 * INSERT ... ON CONFLICT, without numbering or annotating every row (a window over the page cost
 * ~25% of the statement): the two highest keys of the page tell the cursor, whether the page ended
 * the source and whether its last key repeats past its end; one aggregate pass finds NULL keys;
 * the INSERT takes the rows up to the cursor.
 */
export function pushdownStatement(o: PushdownStatementOptions): string {
  const { request } = o;
  const limit = Math.trunc(request.limit);
  const keys = request.keyset.map(quoteIdent);
  const src = keys.map((c) => `src.${c}`);
  const where: string[] = [];
  if (request.after) where.push(`(${src.join(', ')}) > (${request.after.map(o.bind).join(', ')})`);
  if (request.below !== null) where.push(`${src[0]} < ${o.bind(request.below)}`);
  const desc = keys.map((c) => `p.${c} DESC`).join(', ');
  const text = (alias: string) => `ARRAY[${keys.map((c) => `${alias}.${c}::text`).join(', ')}]`;
  const tk = o.target.key.map(quoteIdent);
  const targetChecks = o.checkTargetKeys
    ? `(SELECT ARRAY[${tk.map((c) => `count(*) FILTER (WHERE p.${c} IS NULL AND (${keys.map((k) => `p.${k}`).join(', ')}) <= (SELECT ${keys.map((k) => `l.${k}`).join(', ')} FROM last l))`).join(', ')}]::text[] FROM page p) AS target_nulls,
       (SELECT ARRAY[${tk.map((c) => `g.${c}::text`).join(', ')}] FROM page g
          WHERE (${keys.map((k) => `g.${k}`).join(', ')}) <= (SELECT ${keys.map((k) => `l.${k}`).join(', ')} FROM last l) AND ${tk.map((c) => `g.${c} IS NOT NULL`).join(' AND ')}
          GROUP BY ${tk.map((c) => `g.${c}`).join(', ')} HAVING count(*) > 1 LIMIT 1) AS target_repeated`
    : 'NULL::text[] AS target_nulls, NULL::text[] AS target_repeated';
  const repeats = o.checkRepeats
    ? `coalesce((SELECT ${text('g')} FROM page g GROUP BY ${keys.map((c) => `g.${c}`).join(', ')} HAVING count(*) > 1 LIMIT 1),
         (SELECT t.key FROM tail t WHERE t.rank = 1 AND t.key = (SELECT t2.key FROM tail t2 WHERE t2.rank = 2)))`
    : `(SELECT t.key FROM tail t WHERE t.rank = 1 AND t.key = (SELECT t2.key FROM tail t2 WHERE t2.rank = 2))`;
  const targetOk = o.checkTargetKeys ? ` AND c.target_repeated IS NULL AND NOT (0 < ANY (c.target_nulls::bigint[]))` : '';
  const list = o.columns.map(quoteIdent).join(', ');
  // The body sits on lines of its own, so a comment on its last line cannot swallow the wrapper.
  return `WITH page AS MATERIALIZED (
    SELECT src.* FROM (
${o.body}
) AS src${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${src.join(', ')} LIMIT ${limit + 1}
  ),
  counted AS (SELECT count(*) AS fetched, coalesce(bool_or(${keys.map((c) => `p.${c} IS NULL`).join(' OR ')}), false) AS nulls FROM page p),
  tail AS (SELECT p.*, ${text('p')} AS key, row_number() OVER (ORDER BY ${desc}) AS rank FROM (SELECT ${keys.map((c) => `p.${c}`).join(', ')} FROM page p ORDER BY ${desc} LIMIT 2) p),
  last AS (SELECT ${keys.map((c) => `t.${c}`).join(', ')}, t.key FROM tail t WHERE t.rank = CASE WHEN (SELECT fetched FROM counted) > ${limit} THEN 2 ELSE 1 END),
  checks AS (
    SELECT c.fetched, c.nulls, ${repeats} AS repeated,
      ${targetChecks}
    FROM counted c
  ),
  written AS (
    INSERT INTO ${quoteTable(o.target.table)} AS t (${list})
    SELECT ${o.columns.map((c) => `p.${quoteIdent(c)}`).join(', ')} FROM page p
    WHERE (${keys.map((c) => `p.${c}`).join(', ')}) <= (SELECT ${keys.map((c) => `l.${c}`).join(', ')} FROM last l)
      AND (SELECT NOT c.nulls AND c.repeated IS NULL${targetOk} FROM checks c)
    ${conflictClause(o.target, o.columns)}
  )
  SELECT c.fetched, c.nulls, c.repeated, c.target_nulls, c.target_repeated, (SELECT l.key FROM last l) AS last FROM checks c`;
}
