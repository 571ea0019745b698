/**
 * The demo's schemas are demo data, not product migrations (`npm run db:migrate` creates only
 * `etl`): the catalogue (`content.*`, the demo source) and the warehouse table
 * (`analytics.film_dim`, the demo target). Both scripts are idempotent.
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';

const script = (name: string) => readFileSync(new URL(`./sql/${name}.sql`, import.meta.url), 'utf8');

/** Creates schema `content` and its tables when missing. */
export async function applyCatalogueSchema(client: pg.ClientBase | pg.Pool): Promise<void> {
  await client.query(script('catalogue'));
}

/** Creates `analytics.film_dim` when missing (in the warehouse database, or beside the catalogue in tests). */
export async function applyWarehouseSchema(client: pg.ClientBase | pg.Pool): Promise<void> {
  await client.query(script('warehouse'));
}
