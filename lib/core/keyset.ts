/**
 * Keyset pagination: which columns order a pipeline's reads and where a run resumes.
 * A cursor is the keyset values of the last committed row, as text (text round-trips every
 * PostgreSQL type exactly; a JS Date would drop microseconds).
 */
import type { PipelineDefinition } from './pipeline.ts';

export type Cursor = string[];

/**
 * Incremental: (incremental_key, incremental_id_key). Full: incremental_id_key when given, else
 * the target's key, so a plain full pipeline needs no extra field (docs/ARCHITECTURE.md, Correctness).
 */
export function keysetColumns(definition: Pick<PipelineDefinition, 'mode' | 'source' | 'target'>): string[] {
  const { source, target } = definition;
  if (definition.mode === 'incremental') return [source.incremental_key!, source.incremental_id_key!];
  if (source.incremental_id_key) return [source.incremental_id_key];
  return target.type === 'postgres' ? [...target.key] : [target.id_field];
}

