/**
 * Plain-SQL migrations: every `migrations/NNNN_name.sql` file runs once, in name order, each in
 * its own transaction, recorded in `etl.schema_migrations`. Running `up` again is a no-op.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

export const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

// Serialises concurrent `up` calls (two processes starting at once) on one database.
const MIGRATION_LOCK_KEY = 7_430_001;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

export async function migrateUp(client: pg.ClientBase, dir = migrationsDir): Promise<MigrationResult> {
  const files = (await readdir(dir)).filter((name) => /^\d{4}_[\w-]+\.sql$/.test(name)).sort();
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS etl;
      CREATE TABLE IF NOT EXISTS etl.schema_migrations (
        name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM etl.schema_migrations')).rows.map((r) => r.name));
    const applied: string[] = [];
    for (const file of files.filter((name) => !done.has(name))) {
      const sql = await readFile(path.join(dir, file), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO etl.schema_migrations (name) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(file);
    }
    return { applied, alreadyApplied: done.size };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}
