/**
 * Which batches may move inside the databases, without the rows becoming JavaScript objects: a
 * Postgres target, a plan with nothing between reader and writer (no transform or map task), and
 * no deletes (deleted_flag, delete_missing).
 * The adapter then picks the way: one INSERT ... SELECT when source and target share a connection
 * and the target allows pushdown, otherwise COPY out of the source into COPY into the target.
 */
import { DEFAULT_CONNECTION, type PipelineDefinition, type PostgresTarget, type SourceDefinition } from './pipeline.ts';

export function directTarget(definition: Pick<PipelineDefinition, 'source' | 'target' | 'tasks'>): PostgresTarget | null {
  if (definition.target.type !== 'postgres') return null;
  // Deletes take the JavaScript path: one deletion rule (soft-deletes.ts) and one key check for
  // every sink, rather than a second copy in the pushdown and COPY statements (docs/PERFORMANCE.md).
  if (definition.source.deleted_flag !== undefined || definition.target.delete_missing) return null;
  return plainPlan(definition) ? definition.target : null;
}

/** Nothing between reader and writer: no transform or map task changes the rows. */
export function plainPlan(definition: Pick<PipelineDefinition, 'tasks'>): boolean {
  return definition.tasks === null || definition.tasks.every((task) => task.type === 'sql_reader' || task.type === 'writer');
}

/**
 * Whether a direct page may run the user's SQL inside the target's writing transaction (pushdown):
 * only when source and target share a connection, the target allows it, and that connection is
 * not `default`. The platform's own database never runs user SQL writable: there a query could
 * reach the platform's state with the platform's role, so `default` pages travel by COPY from a
 * read-only session instead (docs/SECURITY.md).
 */
export function mayPushDown(source: Pick<SourceDefinition, 'connection'>, target: PostgresTarget): boolean {
  const from = source.connection ?? DEFAULT_CONNECTION;
  const to = target.connection ?? DEFAULT_CONNECTION;
  return from === to && to !== DEFAULT_CONNECTION && target.pushdown !== false;
}
