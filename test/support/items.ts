/** A small generic source table, and a multiset comparison of two tables in any two databases. */
import type pg from 'pg';

/** `table (id, name, updated)` with `count` rows, distinct `updated` values one second apart. */
export async function createItems(pool: pg.Pool, table: string, count: number): Promise<void> {
  await pool.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL, updated timestamptz NOT NULL)`);
  await pool.query(
    `INSERT INTO ${table} SELECT i, 'item ' || i, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second' FROM generate_series(1, $1) AS i`,
    [count],
  );
}

/**
 * Rows of `a` missing from `b` and the reverse, counted as multisets (EXCEPT ALL both ways), when
 * the two tables live in different databases: both are read as text rows and compared here.
 */
export async function sameRows(aPool: pg.Pool, a: string, bPool: pg.Pool, b: string, columns = 'id, name, updated'): Promise<{ missing: number; extra: number; rows: number }> {
  const read = async (pool: pg.Pool, table: string) =>
    (await pool.query<{ row: string }>(`SELECT (${columns})::text AS row FROM ${table}`)).rows.map((r) => r.row);
  const [left, right] = await Promise.all([read(aPool, a), read(bPool, b)]);
  return { missing: exceptAll(left, right), extra: exceptAll(right, left), rows: right.length };
}

function exceptAll(from: string[], remove: string[]): number {
  const counts = new Map<string, number>();
  for (const row of remove) counts.set(row, (counts.get(row) ?? 0) + 1);
  let left = 0;
  for (const row of from) {
    const n = counts.get(row) ?? 0;
    if (n > 0) counts.set(row, n - 1);
    else left += 1;
  }
  return left;
}
