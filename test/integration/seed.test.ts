import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDemoTables, resetDemo, seedCatalogue } from '../../seeds/catalogue.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const checksum = async (db: TestDatabase, table: string) =>
  (await db.pool.query<{ md5: string }>(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS md5 FROM ${table} t`)).rows[0]!.md5;

describe('demo catalogue seed', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('generates the same rows on every run', async () => {
    const first = await seedCatalogue(db.pool, { films: 300 });
    const firstSums = [await checksum(db, 'content.film_work'), await checksum(db, 'content.person_film_work')];
    const second = await seedCatalogue(db.pool, { films: 300 });
    expect(second).toEqual(first);
    expect([await checksum(db, 'content.film_work'), await checksum(db, 'content.person_film_work')]).toEqual(firstSums);
    expect(first['content.film_work']).toBe(300);
    expect(first['content.genre_film_work']).toBe(600);
  });

  it('restores every key and foreign key it drops while loading', async () => {
    await seedCatalogue(db.pool, { films: 50 });
    const { rows } = await db.pool.query<{ contype: string; n: string }>(
      `SELECT contype, count(*) AS n FROM pg_constraint WHERE connamespace = 'content'::regnamespace GROUP BY contype ORDER BY contype`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.contype, Number(r.n)]))).toMatchObject({ f: 4, p: 5, u: 3 });
    await expect(
      db.pool.query(`INSERT INTO content.genre_film_work (id, genre_id, film_work_id) VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid())`),
    ).rejects.toMatchObject({ code: '23503' });
  });

  it('gives every film a director, a writer and at least two distinct actors', async () => {
    await seedCatalogue(db.pool, { films: 200 });
    const { rows } = await db.pool.query<{ bad: string }>(
      `SELECT count(*) AS bad FROM content.film_work f WHERE
         (SELECT count(*) FROM content.person_film_work p WHERE p.film_work_id = f.id AND p.role = 'director') <> 1
         OR (SELECT count(DISTINCT person_id) FROM content.person_film_work p WHERE p.film_work_id = f.id AND p.role = 'actor') < 2`,
    );
    expect(Number(rows[0]!.bad)).toBe(0);
  });

  it('reset-demo empties the targets and the pipelines', async () => {
    await db.pool.query(`INSERT INTO etl.pipelines (name, mode, batch_size, source, target) VALUES ('x', 'full', 1, '{}', '{}')`);
    const counts = await resetDemo(db.pool, { films: 20 });
    expect(counts['analytics.film_dim']).toBe(0);
    expect((await db.pool.query('SELECT 1 FROM etl.pipelines')).rowCount).toBe(0);
    expect(await countDemoTables(db.pool)).toEqual(counts);
  });

  it('rejects a film count it cannot generate', async () => {
    await expect(seedCatalogue(db.pool, { films: 0 })).rejects.toThrow('films must be an integer');
  });
});
