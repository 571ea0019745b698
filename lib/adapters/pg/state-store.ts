/**
 * The state store over the `etl` schema, one module per concern over one transaction helper:
 * pipelines (pipeline-store.ts), run requests (run-request-store.ts), a run's progress
 * (run-progress-store.ts). Every status transition is one conditional UPDATE or a short
 * transaction holding the pipeline row lock, so concurrent requests and executions cannot both
 * win; the partial unique index on pipeline_runs is the database's own backstop.
 */
import type pg from 'pg';
import type { StateStore } from '../../core/ports.ts';
import { createPipelineStore } from './pipeline-store.ts';
import { createRunProgressStore } from './run-progress-store.ts';
import { createRunRequestStore } from './run-request-store.ts';
import { createStateDb } from './state-db.ts';

export function createPgStateStore(pool: pg.Pool): StateStore {
  const db = createStateDb(pool);
  return { ...createPipelineStore(db), ...createRunRequestStore(db), ...createRunProgressStore(db) };
}
