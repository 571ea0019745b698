/**
 * A dry run: the definition's checks, then the first page read and transformed as a run would,
 * written nowhere. Shows the result columns and types and what would reach the target.
 */
import { NotFoundError } from '../errors.ts';
import { keysetColumns } from '../keyset.ts';
import { DEFAULT_CONNECTION } from '../pipeline.ts';
import type { ColumnInfo, Row, SourceReaders, StateStore, TransformCompiler } from '../ports.ts';
import type { DefinitionChecks } from './check-definition.ts';

export const PREVIEW_ROWS = 20;

export interface Preview {
  columns: ColumnInfo[] | null;
  /** The first rows as the target would receive them (after the plan's transforms). */
  rows: Row[];
  rows_read: number;
  rows_dropped: number;
  warnings: string[];
}

export function createPreviewPipeline(deps: { store: StateStore; checks: DefinitionChecks; readers: SourceReaders; transforms: TransformCompiler }) {
  return async function preview(id: string): Promise<Preview> {
    const pipeline = await deps.store.getPipeline(id);
    if (!pipeline) throw new NotFoundError(`pipeline ${id} not found`);
    const { columns, warnings } = await deps.checks.check(pipeline);
    // From the beginning, not from a checkpoint: a preview shows what the definition produces.
    const { rows } = await deps.readers.forConnection(pipeline.source.connection ?? DEFAULT_CONNECTION).readBatch({
      query: pipeline.source.query,
      keyset: keysetColumns(pipeline),
      after: null,
      below: null,
      limit: Math.min(pipeline.batch_size, PREVIEW_ROWS),
    });
    const output = await deps.transforms.compile(pipeline).run(rows);
    return { columns, rows: output.rows, rows_read: rows.length, rows_dropped: output.dropped, warnings };
  };
}
