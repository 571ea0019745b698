/**
 * Which batches may move inside the databases, without the rows becoming JavaScript objects: a
 * Postgres target and a plan with nothing between reader and writer (no transform or map task).
 * The adapter then picks the way: one INSERT ... SELECT when source and target share a connection
 * and the target allows pushdown, otherwise COPY out of the source into COPY into the target.
 */
import type { PipelineDefinition, PostgresTarget } from './pipeline.ts';

export function directTarget(definition: Pick<PipelineDefinition, 'target' | 'tasks'>): PostgresTarget | null {
  if (definition.target.type !== 'postgres') return null;
  const plain = definition.tasks === null || definition.tasks.every((task) => task.type === 'sql_reader' || task.type === 'writer');
  return plain ? definition.target : null;
}
