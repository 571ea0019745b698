/**
 * The SQL of deletes on a Postgres target: soft deletes by key, and `delete_missing` through a
 * table of the keys a full read has seen.
 *
 * delete_missing keeps its seen keys in a table next to the target (same schema, named after the
 * pipeline, not the run): a full run that inherits a failed run's cursor continues the same read,
 * so it must keep the keys its predecessor saw. The table is emptied when a run starts from the
 * beginning, filled in each batch's own transaction (so a replayed batch adds nothing), and
 * consumed by CompleteRun: one anti-join DELETE, then the table is emptied and its comment records
 * `swept <count>`, all in one transaction. A retried CompleteRun (the run's record failed after
 * the sweep committed) finds the comment and answers the same count without deleting again. The
 * empty table stays until the next run from the beginning. A logged table, not UNLOGGED: a crash
 * of the target would empty an unlogged table, and the sweep would then delete every row.
 */
import type pg from 'pg';
import type { PostgresTarget } from '../../core/pipeline.ts';
import type { Row } from '../../core/ports.ts';
import { quoteIdent, quoteTable } from './identifiers.ts';

const keyList = (target: PostgresTarget, alias?: string) => target.key.map((k) => (alias ? `${alias}.${quoteIdent(k)}` : quoteIdent(k))).join(', ');
const keysMatch = (target: PostgresTarget, a: string, b: string) => target.key.map((k) => `${a}.${quoteIdent(k)} = ${b}.${quoteIdent(k)}`).join(' AND ');

/** Only the key columns travel: json_populate_recordset types them as the target's columns. */
export function keysJson(target: PostgresTarget, rows: Row[], value: (key: string, v: unknown) => unknown): string {
  return JSON.stringify(rows.map((row) => Object.fromEntries(target.key.map((k) => [k, row[k]]))), value);
}

/** Deletes the rows whose key is in $1 (a JSON array of key objects); an absent key deletes nothing. */
export function deleteByKeyStatement(target: PostgresTarget): string {
  const table = quoteTable(target.table);
  return `DELETE FROM ${table} AS t USING json_populate_recordset(NULL::${table}, $1::json) AS d WHERE ${keysMatch(target, 't', 'd')}`;
}

/** `<schema>.etl_seen_<pipeline id hex>`: in the target's schema, where the pipeline may create tables. */
export function seenTableName(target: PostgresTarget, pipelineId: string): { quoted: string; name: string; qualified: string } {
  const name = `etl_seen_${pipelineId.replaceAll('-', '').toLowerCase()}`;
  const schema = target.table.includes('.') ? target.table.split('.')[0]! : null;
  const qualified = schema ? `${schema}.${name}` : name;
  return { quoted: quoteTable(qualified), name, qualified };
}

export function createSeenKeys(target: PostgresTarget, pipelineId: string) {
  const seen = seenTableName(target, pipelineId);
  const table = quoteTable(target.table);
  return {
    /** Creates the table when missing; empties it when the run reads from the beginning. */
    async prepare(client: pg.ClientBase, fromStart: boolean): Promise<void> {
      await client.query(`CREATE TABLE IF NOT EXISTS ${seen.quoted} AS SELECT ${keyList(target)} FROM ${table} WITH NO DATA`);
      await client.query(`CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdent(`${seen.name}_key`)} ON ${seen.quoted} (${keyList(target)})`);
      if (fromStart) await client.query(`TRUNCATE ${seen.quoted}; COMMENT ON TABLE ${seen.quoted} IS NULL`);
    },
    /** In the batch's transaction: the keys it wrote ($1, as for deleteByKeyStatement). */
    async record(client: pg.ClientBase, keys: string): Promise<void> {
      await client.query(
        `INSERT INTO ${seen.quoted} (${keyList(target)}) SELECT ${keyList(target)} FROM json_populate_recordset(NULL::${table}, $1::json) ON CONFLICT DO NOTHING`,
        [keys],
      );
    },
    /** Deletes the target rows whose key was not seen, once, in the caller's transaction; answers how many. */
    async sweep(client: pg.ClientBase): Promise<number> {
      const { rows } = await client.query<{ found: string | null; note: string | null }>(
        `SELECT to_regclass($1)::text AS found, obj_description(to_regclass($1), 'pg_class') AS note`,
        [seen.quoted],
      );
      // No table: nothing was recorded (never prepared), so deleting anything could remove rows the run read.
      if (!rows[0]?.found) return 0;
      const swept = /^swept (\d+)$/.exec(rows[0].note ?? '');
      if (swept) return Number(swept[1]);
      const { rowCount } = await client.query(`DELETE FROM ${table} AS t WHERE NOT EXISTS (SELECT 1 FROM ${seen.quoted} AS s WHERE ${keysMatch(target, 's', 't')})`);
      const deleted = rowCount ?? 0;
      await client.query(`TRUNCATE ${seen.quoted}; COMMENT ON TABLE ${seen.quoted} IS 'swept ${deleted}'`);
      return deleted;
    },
  };
}
