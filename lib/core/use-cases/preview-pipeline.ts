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
/** Wide rows are cut off at this much JSON, far below what an HTTP answer may carry (6 MB in Lambda). */
export const PREVIEW_MAX_BYTES = 1024 * 1024;

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
    return { columns, rows: withinBytes(output.rows, PREVIEW_MAX_BYTES, warnings), rows_read: rows.length, rows_dropped: output.dropped, warnings };
  };
}

const encoder = new TextEncoder();

/** The first rows whose JSON fits in `limit` bytes; a warning says how many were left out. */
function withinBytes(rows: Row[], limit: number, warnings: string[]): Row[] {
  let size = 0;
  const kept: Row[] = [];
  for (const row of rows) {
    size += encoder.encode(JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).length;
    if (size > limit) break;
    kept.push(row);
  }
  if (kept.length < rows.length) warnings.push(`rows: ${rows.length - kept.length} of ${rows.length} rows are left out of the preview to keep it under ${limit} bytes`);
  return kept;
}
