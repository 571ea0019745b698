/**
 * Reads a keyset page (page-query.ts) in blocks through a portal: the statement is parsed, bound
 * and executed once, on the read session, and its rows are fetched `blockRows` at a time
 * (pg-cursor: Execute with a row count), as arrays. The caller writes a block while the next one
 * is fetched. The checks are those of a page read at once (source-reader.ts), with the same
 * outcome: a NULL keyset value (counted over the whole source), else a repeated keyset value,
 * within the page, across its blocks or across its end (the row read past it).
 */
import type pg from 'pg';
import Cursor from 'pg-cursor';
import { nullKeysError } from '../../core/key-integrity.ts';
import { keysetSequence } from '../../core/keyset-sequence.ts';
import type { BlockReadResult, ReadRequest, RowBlock } from '../../core/ports.ts';
import { countNullKeys, explainMissingColumn, pageQuery, statementBody } from './page-query.ts';
import { sourceTypes } from './value-types.ts';

interface Fetched {
  rows: unknown[][];
  fields: pg.FieldDef[];
}

function fetchRows(cursor: Cursor<unknown[]>, count: number): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    cursor.read(count, (error, rows, result) => (error ? reject(error) : resolve({ rows, fields: result.fields })));
  });
}

/** Runs on a read session (withReadSession): user SQL as one statement, the session reset after. */
export async function readPageInBlocks(client: pg.PoolClient, request: ReadRequest, blockRows: number, onBlock: (block: RowBlock) => Promise<void>): Promise<BlockReadResult> {
  const body = statementBody(request.query);
  const { sql, params } = pageQuery(request, body);
  const keyCount = request.keyset.length;
  // pg-cursor sends Parse/Bind/Execute: the extended protocol, which accepts exactly one statement.
  const cursor = client.query(new Cursor<unknown[]>(sql, params, { rowMode: 'array', types: sourceTypes }));
  const sequence = keysetSequence(request.keyset);
  const wanted = request.limit + 1;
  let fetched = 0;
  let last: string[] | null = null;
  let repeated: Error | null = null;
  let columns: string[] | null = null;
  for (;;) {
    const ask = Math.min(blockRows, wanted - fetched);
    const { rows, fields } = await fetchRows(cursor, ask).catch((error: unknown) => {
      throw explainMissingColumn(error, request.keyset);
    });
    columns ??= fields.slice(0, fields.length - keyCount).map((field) => field.name);
    const offset = fetched;
    const inPage = Math.max(0, Math.min(rows.length, request.limit - offset));
    for (let i = 0; i < rows.length; i++) {
      const values = rows[i]!.slice(columns.length) as (string | null)[];
      try {
        sequence.accept(values);
      } catch (error) {
        repeated ??= error as Error;
      }
      if (i < inPage) last = values as string[];
    }
    fetched += rows.length;
    // A failed page writes nothing more; it is still read to its end, so the NULL count below
    // sees what a page read at once would see.
    if (inPage > 0 && repeated === null) await onBlock({ columns, rows: inPage === rows.length ? rows : rows.slice(0, inPage), offset });
    if (rows.length < ask || fetched >= wanted) break;
  }
  await cursor.close();
  const done = fetched <= request.limit;
  // Rows with a NULL key never satisfy the keyset filter: counted when they show up and at the
  // end of the read, where nothing else would notice them (as source-reader.ts does).
  const nulls = sequence.sawNull || done ? nullKeysError(await countNullKeys(client, body, request.keyset), request.keyset) : null;
  if (nulls) throw nulls;
  if (repeated !== null) throw repeated;
  return { rowsRead: Math.min(fetched, request.limit), last, done };
}
