import { describe, expect, it } from 'vitest';
import { AUTO_SIZING, DIRECT_AUTO_SIZING, batchLimit, nextBatchSize } from '../../lib/core/batch-sizing.ts';
import { directTarget } from '../../lib/core/direct-path.ts';
import { parseCreatePipeline } from '../../lib/core/pipeline.ts';

describe('batch sizing', () => {
  it('uses an explicit batch_size exactly, retries included, and never plans a next size for it', () => {
    expect(batchLimit(500, 20_000, false)).toBe(500);
    expect(batchLimit(500, null, true)).toBe(500);
    expect(nextBatchSize(500, 500, 500, 60_000)).toBeNull();
  });

  it('starts an auto-sized run at the initial size and continues from the recorded next size', () => {
    expect(batchLimit('auto', null, false)).toBe(AUTO_SIZING.initial);
    expect(batchLimit('auto', 12_345, false)).toBe(12_345);
  });

  it('halves an auto-sized batch on retry, within bounds', () => {
    expect(batchLimit('auto', 20_000, true)).toBe(10_000);
    expect(batchLimit('auto', AUTO_SIZING.min, true)).toBe(AUTO_SIZING.min);
  });

  it('scales towards the target duration, growing at most 4x a batch, within [min, max]', () => {
    expect(nextBatchSize('auto', 5_000, 5_000, AUTO_SIZING.targetMs)).toBe(5_000);
    expect(nextBatchSize('auto', 5_000, 5_000, AUTO_SIZING.targetMs * 2)).toBe(2_500);
    expect(nextBatchSize('auto', 5_000, 5_000, 10)).toBe(20_000);
    expect(nextBatchSize('auto', 40_000, 40_000, 10)).toBe(AUTO_SIZING.max);
    expect(nextBatchSize('auto', 200, 200, 600_000)).toBe(AUTO_SIZING.min);
  });

  it('lets pages that never enter the step grow further (direct paths)', () => {
    expect(nextBatchSize('auto', 50_000, 50_000, 10, DIRECT_AUTO_SIZING)).toBe(DIRECT_AUTO_SIZING.max);
    expect(nextBatchSize('auto', 50_000, 50_000, 10)).toBe(AUTO_SIZING.max);
  });

  it('keeps the size after a short page (the end of the source says nothing about speed)', () => {
    expect(nextBatchSize('auto', 5_000, 12, 3)).toBe(5_000);
  });
});

describe('direct path eligibility', () => {
  const base = { name: 'p', mode: 'full', source: { query: 'SELECT 1 AS id' }, target: { type: 'postgres', table: 't', key: ['id'] } };
  it('moves plain Postgres pipelines and plans without transforms inside the databases', () => {
    expect(directTarget(parseCreatePipeline(base))).toMatchObject({ table: 't' });
    const plan = { name: 'p', mode: 'full', tasks: [{ type: 'sql_reader', name: 'r', query: 'SELECT 1 AS id' }, { type: 'writer', name: 'w', target: base.target }] };
    expect(directTarget(parseCreatePipeline(plan))).toMatchObject({ table: 't' });
  });

  it('keeps rows in JavaScript for transforms and search targets', () => {
    const plan = {
      name: 'p',
      mode: 'full',
      tasks: [{ type: 'sql_reader', name: 'r', query: 'SELECT 1 AS id' }, { type: 'map', name: 'm', drop: ['x'] }, { type: 'writer', name: 'w', target: base.target }],
    };
    expect(directTarget(parseCreatePipeline(plan))).toBeNull();
    expect(directTarget(parseCreatePipeline({ ...base, target: { type: 'elasticsearch', index: 'i', id_field: 'id' } }))).toBeNull();
  });
});
