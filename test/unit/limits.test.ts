import { describe, expect, it } from 'vitest';
import { LAMBDA_RESPONSE_BYTES, MAX_DEFINITION_BYTES, MAX_FREEFORM_BYTES, PAGE_BUDGET_BYTES, jsonBytes } from '../../lib/core/limits.ts';
import { MAX_PAGE_LIMIT, encodeCursor, fitPage, parsePageRequest } from '../../lib/core/paging.ts';
import { applyPatch, parseCreatePipeline, parsePipelinePatch } from '../../lib/core/pipeline.ts';

const plain = {
  name: 'p',
  mode: 'full',
  source: { query: 'SELECT * FROM t' },
  target: { type: 'elasticsearch', index: 'films', id_field: 'id' },
};
const reader = { type: 'sql_reader', name: 'read', query: 'SELECT * FROM t' };
const writer = { type: 'writer', name: 'write', target: plain.target };
const withMap = (map: Record<string, unknown>) => ({ name: 't', mode: 'full', tasks: [reader, { type: 'map', name: 'shape', ...map }, writer] });

/** An object whose JSON is about `bytes` long. */
const bulky = (bytes: number) => Object.fromEntries(Array.from({ length: Math.ceil(bytes / 1000) }, (_, i) => [`f${i}`, 'x'.repeat(990)]));

describe('field size limits', () => {
  it.each([
    ['target.mapping', { ...plain, target: { ...plain.target, mapping: bulky(70_000) } }],
    ['tasks[1].params', { name: 't', mode: 'full', tasks: [reader, { type: 'transform', name: 'x', transform: 'split', params: bulky(70_000) }, writer] }],
    ['tasks[1].rename', withMap({ rename: bulky(70_000) })],
    ['tasks[1].compute', withMap({ compute: bulky(70_000) })],
    ['tasks[1].drop', withMap({ drop: Object.values(bulky(70_000)) })],
  ])('refuses a %s over 64 KiB of JSON, naming the field, its size and the limit', (field, body) => {
    expect(() => parseCreatePipeline(body)).toThrow(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: is \\d+ bytes as JSON; the limit is 65536 bytes \\(64 KiB\\)$`));
  });

  it('accepts a mapping just under 64 KiB', () => {
    const mapping = bulky(60_000);
    expect(jsonBytes(mapping)).toBeLessThan(MAX_FREEFORM_BYTES);
    expect(parseCreatePipeline({ ...plain, target: { ...plain.target, mapping } }).target).toMatchObject({ mapping });
  });

  it.each([
    ['source.query: is too long (max 100000 characters)', { ...plain, source: { query: `SELECT '${'x'.repeat(100_000)}'` } }],
    ['tasks[1].filter: is too long (max 10000 characters)', withMap({ filter: `a = '${'x'.repeat(10_000)}'` })],
    ['target.key: must name at most 8 columns', { ...plain, target: { type: 'postgres', table: 't', key: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] } }],
    ['tasks: must have at most 50 tasks', { name: 't', mode: 'full', tasks: [reader, ...Array.from({ length: 49 }, (_, i) => ({ type: 'map', name: `m${i}` })), writer] }],
  ])('refuses a field over its limit: %s', (message, body) => {
    expect(() => parseCreatePipeline(body)).toThrow(message);
  });

  it('refuses a body nested more than 64 levels deep, naming where, instead of overflowing the stack later', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const body = { ...plain, target: { ...plain.target, mapping: { properties: deep } } };
    expect(() => parseCreatePipeline(body)).toThrow(/^target\.mapping\.properties(\.a)+: nested more than 64 levels deep \(the limit\)$/);
  });
});

describe('whole definition limit', () => {
  // 100,000 two-byte characters: within the query's character limit, 200 KB of UTF-8.
  const wideQuery = `SELECT '${'é'.repeat(99_980)}' AS id`;
  const mapping = bulky(64_000);

  it('refuses a definition whose fields are each within their limits but together pass 256 KiB', () => {
    const body = { ...plain, source: { query: wideQuery }, target: { ...plain.target, mapping } };
    expect(() => parseCreatePipeline(body)).toThrow(/^body: the pipeline definition would be \d+ bytes as JSON; the limit is 262144 bytes \(256 KiB\)$/);
  });

  it('counts the reader and writer of a task plan twice, as the answers show them twice, and says so', () => {
    const query = `SELECT '${'x'.repeat(99_000)}' AS id`;
    expect(() => parseCreatePipeline({ ...plain, source: { query }, target: { ...plain.target, mapping } })).not.toThrow();
    const tasks = [{ ...reader, query }, { ...writer, target: { ...plain.target, mapping } }];
    expect(() => parseCreatePipeline({ name: 't', mode: 'full', tasks })).toThrow('a task plan counts its reader and writer twice');
  });

  it('refuses a patch that would make the stored definition too large', () => {
    const current = parseCreatePipeline({ ...plain, target: { ...plain.target, mapping } });
    expect(() => applyPatch(current, parsePipelinePatch({ source: { query: wideQuery } }))).toThrow('body: the pipeline definition would be');
  });
});

describe('pages', () => {
  it('reads limit and after, with 50 by default', () => {
    expect(parsePageRequest('pipelines', {})).toEqual({ limit: 50, after: null });
    expect(parsePageRequest('pipelines', { limit: '200', after: encodeCursor('pipelines', 'film_dim') })).toEqual({ limit: 200, after: 'film_dim' });
    expect(parsePageRequest('runs', { limit: '500' }).limit).toBe(MAX_PAGE_LIMIT.runs);
  });

  it.each(['0', '201', '-1', '1.5', 'ten', '', '1e2'])('refuses limit=%j with 400 naming limit', (limit) => {
    expect(() => parsePageRequest('pipelines', { limit })).toThrow('limit: must be an integer from 1 to 200 (default 50)');
  });

  it('refuses a cursor that is not one, or belongs to the other list, naming after', () => {
    expect(() => parsePageRequest('pipelines', { after: 'garbage' })).toThrow(/^after: not a cursor of this list/);
    expect(() => parsePageRequest('pipelines', { after: encodeCursor('runs', '00000000-0000-0000-0000-000000000000') })).toThrow(/^after: /);
    expect(() => parsePageRequest('runs', { after: encodeCursor('runs', "x' OR 1=1") })).toThrow(/^after: /);
  });

  it('answers next after the last item when more were read, and null on the last page', () => {
    const names = ['a', 'b', 'c'];
    expect(fitPage('pipelines', names, 2, (n) => n)).toEqual({ items: ['a', 'b'], next: encodeCursor('pipelines', 'b') });
    expect(fitPage('pipelines', names, 3, (n) => n)).toEqual({ items: names, next: null });
    expect(fitPage('pipelines', [], 3, (n: string) => n)).toEqual({ items: [], next: null });
  });

  it('ends a page early at the byte budget, but never before its first item', () => {
    const items = ['a', 'b', 'c'].map((id) => ({ id, blob: 'x'.repeat(100) }));
    expect(fitPage('pipelines', items, 3, (i) => i.id, 250)).toEqual({ items: items.slice(0, 2), next: encodeCursor('pipelines', 'b') });
    expect(fitPage('pipelines', items, 3, (i) => i.id, 10)).toEqual({ items: items.slice(0, 1), next: encodeCursor('pipelines', 'a') });
  });
});

describe('response size', () => {
  it('keeps a full page of maximal pipelines inside a Lambda response, even where every character needs escaping twice', () => {
    // Double quotes take 2 bytes in the answer and 4 inside the Lambda envelope: the worst case.
    const definition = parseCreatePipeline({
      name: 'x'.repeat(100),
      mode: 'full',
      source: { query: `SELECT '${'"'.repeat(99_000)}' AS id` },
      target: { ...plain.target, mapping: { properties: '"'.repeat(29_000) } },
    });
    expect(jsonBytes(definition)).toBeGreaterThan(0.97 * MAX_DEFINITION_BYTES);
    expect(jsonBytes(definition)).toBeLessThanOrEqual(MAX_DEFINITION_BYTES);
    const stored = { id: '00000000-0000-0000-0000-000000000000', ...definition, status: 'PAUSE_REQUESTED', created_at: new Date().toISOString(), updated_at: new Date().toISOString() };
    const read = Array.from({ length: MAX_PAGE_LIMIT.pipelines + 1 }, (_, i) => ({ ...stored, name: `p${String(i).padStart(99, '0')}` }));

    const page = fitPage('pipelines', read, MAX_PAGE_LIMIT.pipelines, (p) => p.name);
    const body = JSON.stringify({ pipelines: page.items, next: page.next });
    const envelope = JSON.stringify({ statusCode: 200, headers: { 'content-type': 'application/json' }, body });

    expect(page.items.length).toBeGreaterThan(1);
    expect(page.next).not.toBeNull();
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(PAGE_BUDGET_BYTES + 1024);
    expect(Buffer.byteLength(envelope)).toBeLessThan(LAMBDA_RESPONSE_BYTES);
  });
});
