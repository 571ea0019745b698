/**
 * The state store over the `etl` schema, one module per concern over one transaction helper:
 * pipelines (pipeline-store.ts), run requests (run-request-store.ts), a run's progress
 * (run-progress-store.ts), with run creation in one place (run-creation.ts). Every status
 * transition is a short transaction holding the row locks (pipeline first, then run), in which the
 * facts are read and the core's rules (lib/core/run-lifecycle.ts, run-ownership.ts,
 * pipeline-lifecycle.ts) decide what is written, so concurrent requests and executions cannot both
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
