import { describe, expect, it } from 'vitest';
import { applyPatch, parseCreatePipeline, parsePipelinePatch } from '../../lib/core/pipeline.ts';
import { keysetColumns } from '../../lib/core/keyset.ts';
import { pageQuery } from '../../lib/adapters/pg/page-query.ts';
import { isoTimestamp } from '../../lib/adapters/pg/value-types.ts';

const plain = {
  name: 'p',
  mode: 'incremental',
  source: { query: 'SELECT * FROM t', incremental_key: 'modified', incremental_id_key: 'id' },
  target: { type: 'postgres', table: 'analytics.t', key: ['id'] },
};

describe('pipeline validation', () => {
  it('accepts a plain pipeline; without batch_size it is sized by time ("auto")', () => {
    expect(parseCreatePipeline(plain)).toMatchObject({ name: 'p', batch_size: 'auto', tasks: null, target: { table: 'analytics.t' } });
    expect(parseCreatePipeline({ ...plain, batch_size: 'auto' }).batch_size).toBe('auto');
    expect(parseCreatePipeline({ ...plain, batch_size: 500 }).batch_size).toBe(500);
  });

  it.each([
    [{ ...plain, batch_size: 50_001 }, 'batch_size: must be at most 50000'],
    [{ ...plain, batch_size: 1.5 }, 'batch_size: must be an integer from 1 to 50000, or "auto"'],
    [{ ...plain, batch_size: '10' }, 'batch_size: must be an integer from 1 to 50000, or "auto"'],
    [{ ...plain, target: { ...plain.target, pushdown: 'no' } }, 'target.pushdown: '],
    [{ ...plain, source: { ...plain.source, incremental_id_key: undefined } }, 'source.incremental_id_key: required in incremental mode'],
    [{ ...plain, source: { ...plain.source, incremental_key: 'bad name' } }, 'source.incremental_key: must be a SQL identifier'],
    [{ ...plain, source: { ...plain.source, extra: 1 } }, 'source.extra: unknown field'],
    [{ ...plain, target: { type: 'postgres', table: 'a.b.c', key: ['id'] } }, 'target.table:'],
    [{ ...plain, target: { type: 'elasticsearch', index: 'Upper', id_field: 'id' } }, 'target.index: must be lowercase'],
    [{ ...plain, source: undefined }, 'source: required (or give tasks)'],
    [[], 'body: must be a JSON object'],
    [{ ...plain, source: { ...plain.source, deleted_flag: 'is deleted' } }, 'source.deleted_flag: must be a SQL identifier'],
    [{ ...plain, source: { ...plain.source, deleted_flag: 'id' } }, 'source.deleted_flag: "id" is also a key column'],
    [{ ...plain, target: { ...plain.target, delete_missing: true } }, 'target.delete_missing: only in full mode'],
    [{ ...plain, target: { type: 'opensearch', index: 'i', id_field: 'id', delete_missing: true } }, 'target.delete_missing: only in full mode'],
    [{ ...plain, target: { ...plain.target, delete_missing: 'yes' } }, 'target.delete_missing: '],
  ])('rejects %# with a message naming the field', (body, message) => {
    expect(() => parseCreatePipeline(body)).toThrow(message);
  });

  it('rejects a task plan whose first task is not a reader, naming the task', () => {
    const tasks = [
      { type: 'writer', name: 'w', target: plain.target },
      { type: 'sql_reader', name: 'r', query: 'SELECT 1' },
    ];
    expect(() => parseCreatePipeline({ name: 'x', mode: 'full', tasks })).toThrow('tasks[0] (w): the first task must be a sql_reader');
  });

  it('takes source and target from the plan of a tasks-based pipeline', () => {
    const tasks = [
      { type: 'sql_reader', name: 'r', query: 'SELECT 1 AS id' },
      { type: 'writer', name: 'w', target: plain.target },
    ];
    expect(parseCreatePipeline({ name: 'x', mode: 'full', tasks })).toMatchObject({ source: { query: 'SELECT 1 AS id' }, target: plain.target });
  });

  it('patches only what is given and rejects an empty patch', () => {
    const current = parseCreatePipeline(plain);
    expect(applyPatch(current, parsePipelinePatch({ batch_size: 42 }))).toMatchObject({ batch_size: 42, source: plain.source });
    expect(() => parsePipelinePatch({})).toThrow('body: nothing to change');
    expect(applyPatch({ ...current, mode: 'incremental' }, parsePipelinePatch({ mode: 'full' })).mode).toBe('full');
    expect(() => parsePipelinePatch({ name: 'renamed' })).toThrow('name: unknown field');
  });
});

describe('keyset reads', () => {
  it('pages full pipelines by the target key and incremental ones by (key, id)', () => {
    const full = parseCreatePipeline({ ...plain, mode: 'full', source: { query: 'SELECT 1' } });
    expect(keysetColumns(full)).toEqual(['id']);
    expect(keysetColumns(parseCreatePipeline(plain))).toEqual(['modified', 'id']);
  });

  it('builds a page query with the cursor and horizon as parameters, never OFFSET, asking for one row past the page', () => {
    const { sql, params } = pageQuery({ query: 'SELECT * FROM t; -- the end', keyset: ['modified', 'id'], after: ['2024-01-01', 'a'], below: '2025-01-01', limit: 10 });
    expect(sql).toContain('FROM (\nSELECT * FROM t\n) AS src WHERE (src."modified", src."id") > ($1, $2) AND src."modified" < $3 ORDER BY src."modified", src."id" LIMIT $4');
    expect(sql).not.toMatch(/OFFSET/i);
    expect(params).toEqual(['2024-01-01', 'a', '2025-01-01', 11]);
  });

  it('turns PostgreSQL timestamps into ISO 8601 without losing microseconds', () => {
    expect(isoTimestamp('2024-01-01 10:00:00.123456+00')).toBe('2024-01-01T10:00:00.123456+00:00');
    expect(isoTimestamp('2024-01-01 10:00:00+05:30')).toBe('2024-01-01T10:00:00+05:30');
    expect(isoTimestamp('2024-01-01 10:00:00')).toBe('2024-01-01T10:00:00');
    expect(isoTimestamp('infinity')).toBe('infinity');
  });

  it('accepts deletes: a flag in both modes and on a task plan reader, delete_missing in full mode', () => {
    expect(parseCreatePipeline({ ...plain, source: { ...plain.source, deleted_flag: 'is_deleted' } }).source.deleted_flag).toBe('is_deleted');
    expect(parseCreatePipeline({ ...plain, mode: 'full', target: { ...plain.target, delete_missing: true } }).target).toMatchObject({ delete_missing: true });
    const tasks = [
      { type: 'sql_reader', name: 'r', query: 'SELECT 1 AS id, false AS gone', deleted_flag: 'gone' },
      { type: 'writer', name: 'w', target: { ...plain.target, delete_missing: true } },
    ];
    expect(parseCreatePipeline({ name: 'p', mode: 'full', tasks }).source.deleted_flag).toBe('gone');
    expect(() => parseCreatePipeline({ name: 'p', mode: 'incremental', tasks: [{ ...tasks[0], incremental_key: 'id', incremental_id_key: 'id' }, tasks[1]] })).toThrow('tasks[1].target.delete_missing: only in full mode');
  });

  it('refuses a patch to incremental mode while the target has delete_missing, naming the field', () => {
    const current = parseCreatePipeline({ ...plain, mode: 'full', target: { ...plain.target, delete_missing: true } });
    expect(() => applyPatch(current, parsePipelinePatch({ mode: 'incremental' }))).toThrow('target.delete_missing: only in full mode');
  });
});
