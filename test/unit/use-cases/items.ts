/** Pipelines and source rows of the use-case tests (an `items` table copied by key). */
import { parseCreatePipeline, type PipelineDefinition } from '../../../lib/core/pipeline.ts';
import type { Row } from '../../../lib/core/ports.ts';

export const itemRows = (from: number, to: number, modified = '2026-01-01 00:00:00'): Row[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, title: `item ${from + i}`, modified }));

export const fullItems = (batchSize = 2): PipelineDefinition =>
  parseCreatePipeline({ name: 'items_full', mode: 'full', batch_size: batchSize, source: { query: 'SELECT id, title FROM items' }, target: { type: 'postgres', table: 'public.items_copy', key: ['id'] } });

export const incrementalItems = (batchSize = 2): PipelineDefinition =>
  parseCreatePipeline({
    name: 'items_incremental',
    mode: 'incremental',
    batch_size: batchSize,
    source: { query: 'SELECT id, title, modified FROM items', incremental_key: 'modified', incremental_id_key: 'id' },
    target: { type: 'postgres', table: 'public.items_copy', key: ['id'] },
  });
