/** The demo's film_dim pipelines, and comparisons of a target with its source. */
import type pg from 'pg';

export const FILM_DIM_QUERY = `
  SELECT fw.id AS film_id, fw.title, fw.description, fw.rating, fw.type, fw.creation_date, fw.modified,
    coalesce((SELECT array_agg(g.name ORDER BY g.name) FROM content.genre_film_work gfw JOIN content.genre g ON g.id = gfw.genre_id WHERE gfw.film_work_id = fw.id), '{}') AS genres,
    coalesce((SELECT array_agg(DISTINCT p.full_name ORDER BY p.full_name) FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id WHERE pfw.film_work_id = fw.id AND pfw.role = 'actor'), '{}') AS actors,
    coalesce((SELECT array_agg(DISTINCT p.full_name ORDER BY p.full_name) FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id WHERE pfw.film_work_id = fw.id AND pfw.role = 'director'), '{}') AS directors,
    coalesce((SELECT array_agg(DISTINCT p.full_name ORDER BY p.full_name) FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id WHERE pfw.film_work_id = fw.id AND pfw.role = 'writer'), '{}') AS writers
  FROM content.film_work fw`;

export const filmDimFull = (batchSize = 100) => ({
  name: 'film_dim_full',
  mode: 'full',
  batch_size: batchSize,
  source: { query: FILM_DIM_QUERY },
  target: { type: 'postgres', table: 'analytics.film_dim', key: ['film_id'] },
});

export const filmDimIncremental = (batchSize = 100) => ({
  name: 'film_dim_inc',
  mode: 'incremental',
  batch_size: batchSize,
  source: { query: FILM_DIM_QUERY, incremental_key: 'modified', incremental_id_key: 'film_id' },
  target: { type: 'postgres', table: 'analytics.film_dim', key: ['film_id'] },
});

/** Rows of the source query missing from (or different in) the target, and the reverse. */
export async function targetDiff(pool: pg.Pool): Promise<{ missing: number; extra: number; targetRows: number; sourceRows: number }> {
  const columns = 'film_id, title, description, rating, type, creation_date, modified, genres, actors, directors, writers';
  const { rows } = await pool.query<{ missing: string; extra: string; t: string; s: string }>(`
    WITH src AS (SELECT ${columns} FROM (${FILM_DIM_QUERY}) q), tgt AS (SELECT ${columns} FROM analytics.film_dim)
    SELECT (SELECT count(*) FROM (SELECT * FROM src EXCEPT ALL SELECT * FROM tgt) a) AS missing,
           (SELECT count(*) FROM (SELECT * FROM tgt EXCEPT ALL SELECT * FROM src) b) AS extra,
           (SELECT count(*) FROM tgt) AS t, (SELECT count(*) FROM src) AS s`);
  const r = rows[0]!;
  return { missing: Number(r.missing), extra: Number(r.extra), targetRows: Number(r.t), sourceRows: Number(r.s) };
}
