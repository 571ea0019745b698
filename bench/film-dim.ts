/**
 * The demo's film_dim pipeline in the bench: its query (seeds/pipelines/film_dim_full.json: one
 * row per film with four correlated array aggregates over the link tables) from a catalogue of
 * N films (seeds/catalogue.ts, the same generator as `npm run db:seed -- --films N`) into
 * analytics.film_dim, all in bench_state.
 *
 *   limit_film_dim      its key-ordered in-database limit: one INSERT ... SELECT (the query) ORDER BY film_id ... ON CONFLICT
 *   platform_film_dim   the platform at defaults (no batch_size), source and target on one named connection (pushdown)
 */
import type pg from 'pg';
import { seedCatalogue } from '../seeds/catalogue.ts';
import { applyCatalogueSchema, applyWarehouseSchema } from '../seeds/demo-schemas.ts';
import { loadSeedPipeline } from '../seeds/pipelines/index.ts';

export const FILM_DIM_CONTENDERS = ['limit_film_dim', 'platform_film_dim'];

const seedBody = loadSeedPipeline('film_dim_full');
const QUERY = (seedBody.source as { query: string }).query;
const COLUMNS = ['film_id', 'title', 'description', 'rating', 'type', 'creation_date', 'modified', 'genres', 'actors', 'directors', 'writers'];
const UPDATES = COLUMNS.filter((c) => c !== 'film_id');

/** The catalogue of `films` films and an empty analytics.film_dim; the catalogue is generated again only when its size changes. */
export async function seedFilms(state: pg.Pool, films: number): Promise<void> {
  await applyCatalogueSchema(state);
  await applyWarehouseSchema(state);
  const { rows } = await state.query<{ n: string }>('SELECT count(*) AS n FROM content.film_work');
  if (Number(rows[0]!.n) === films) return;
  process.stderr.write(`seeding ${films} films\n`);
  const started = performance.now();
  await seedCatalogue(state, { films });
  await state.query('VACUUM ANALYZE content.film_work, content.genre_film_work, content.person_film_work, content.person, content.genre');
  process.stderr.write(`seeded ${films} films in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

/** The in-database limit, in key order (as the platform's pages write it). */
export const limitFilmDimStatement = `INSERT INTO analytics.film_dim AS t (${COLUMNS.join(', ')})
  SELECT ${COLUMNS.join(', ')} FROM (${QUERY}) AS q ORDER BY film_id
  ON CONFLICT (film_id) DO UPDATE SET ${UPDATES.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
  WHERE (${UPDATES.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${UPDATES.map((c) => `EXCLUDED.${c}`).join(', ')})`;

/** The demo's film_dim_full at defaults (no batch_size), its two connections mapped onto `connection`. */
export function filmDimPipeline(connection: string): Record<string, unknown> {
  const { batch_size: _defaults, ...body } = seedBody;
  return {
    ...body,
    name: `bench_film_dim_${Date.now()}`,
    source: { ...(body.source as object), connection },
    target: { ...(body.target as object), connection },
  };
}
