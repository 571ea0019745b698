/**
 * The embedded default's demo connections have least privilege: `catalogue` reads the demo's
 * source schema and nothing else; `warehouse` is a second database written by its own role.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDemoConnections, type DemoConnections } from '../local/demo-databases.ts';
import { seedCatalogue } from '../../seeds/catalogue.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';

describe('the demo connections', () => {
  let db: TestDatabase;
  let urls: DemoConnections;
  let reader: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    await seedCatalogue(db.pool, { films: 20 });
    urls = await prepareDemoConnections(db.url);
    reader = new pg.Client({ connectionString: urls.catalogue });
    reader.on('error', () => undefined);
    await reader.connect();
  });
  afterAll(async () => {
    await reader?.end();
    await db?.drop();
  });

  const refused = (sql: string) => expect(reader.query(sql), sql).rejects.toThrow();

  it('reads the catalogue', async () => {
    const { rows } = await reader.query<{ n: number }>('SELECT count(*)::int AS n FROM content.film_work');
    expect(rows[0]!.n).toBe(20);
  });

  it('cannot read or write the platform schema etl', async () => {
    await expect(reader.query('SELECT * FROM etl.pipelines')).rejects.toThrow('permission denied for schema etl');
    await expect(reader.query('SELECT * FROM etl.etl_state')).rejects.toThrow('permission denied for schema etl');
  });

  it('is not a superuser and is refused the functions that reach the server or other sessions', async () => {
    const { rows } = await reader.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    expect(rows[0]!.rolsuper).toBe(false);
    await expect(reader.query("SELECT pg_read_file('postgresql.conf')")).rejects.toThrow('permission denied for function pg_read_file');
    await expect(reader.query("SELECT lo_import('/etc/hostname')")).rejects.toThrow('permission denied for function lo_import');
    await expect(reader.query("SELECT lo_export(1, '/tmp/etl-demo-export')")).rejects.toThrow('permission denied for function lo_export');
    const platform = await db.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await expect(reader.query('SELECT pg_terminate_backend($1)', [platform.rows[0]!.pid])).rejects.toThrow('permission denied to terminate process');
    await expect(reader.query('SELECT pg_cancel_backend($1)', [platform.rows[0]!.pid])).rejects.toThrow('permission denied to cancel query');
  });

  it('is read-only by default: no write, not even a large object', async () => {
    await refused("SELECT lo_from_bytea(0, '\\x00')");
    await expect(reader.query("UPDATE content.film_work SET title = 'x'")).rejects.toThrow('cannot execute UPDATE in a read-only transaction');
    await expect(reader.query('CREATE TABLE content.x (id int)')).rejects.toThrow('cannot execute CREATE TABLE in a read-only transaction');
  });

  it('sees other sessions\' open transactions, which the late-commit horizon needs', async () => {
    const { rows } = await reader.query<{ sees: boolean }>("SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS sees");
    expect(rows[0]!.sees).toBe(true);
  });

  it('writes the warehouse through a role that owns only its analytics schema', async () => {
    const writer = new pg.Client({ connectionString: urls.warehouse });
    await writer.connect();
    try {
      const { rows } = await writer.query<{ db: string; superuser: boolean }>("SELECT current_database() AS db, current_setting('is_superuser') = 'on' AS superuser");
      expect(rows[0]).toEqual({ db: 'warehouse', superuser: false });
      await writer.query('SELECT count(*) FROM analytics.film_dim');
    } finally {
      await writer.end();
    }
  });
});
