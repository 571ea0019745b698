/** The demo's film_dim pipelines, and comparisons of a target with its source. */
import type pg from 'pg';
import { loadSeedPipeline, type PipelineBody } from '../../seeds/pipelines/index.ts';

const full = loadSeedPipeline('film_dim_full');
export const FILM_DIM_QUERY = (full.source as { query: string }).query;

type SeedBody = PipelineBody & { source: { query: string; incremental_key?: string; incremental_id_key?: string } };

/**
 * The seeds name the demo's connections (catalogue, warehouse); tests run on one database, the
 * `default` connection, unless a test sets connections itself.
 */
function onDefaultConnection(body: PipelineBody): SeedBody {
  const { connection: _source, ...source } = body.source as SeedBody['source'] & { connection?: string };
  const { connection: _target, ...target } = body.target as Record<string, unknown>;
  return { ...body, source, target };
}

export const filmDimFull = (batchSize = 100): SeedBody => ({ ...onDefaultConnection(full), batch_size: batchSize });
export const filmDimIncremental = (batchSize = 100): SeedBody => ({ ...onDefaultConnection(loadSeedPipeline('film_dim_inc')), batch_size: batchSize });

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
