import { describe, expect, it } from 'vitest';
import { directTarget, mayPushDown } from '../../lib/core/direct-path.ts';
import type { PostgresTarget } from '../../lib/core/pipeline.ts';

const source = { query: 'SELECT 1 AS id' };
const target = (extra: Partial<PostgresTarget> = {}): PostgresTarget => ({ type: 'postgres', table: 'a.t', key: ['id'], ...extra });

describe('direct paths', () => {
  it('push down only on one named connection that allows it, never on the platform database', () => {
    expect(mayPushDown({ connection: 'app' }, target({ connection: 'app' }))).toBe(true);
    expect(mayPushDown({ connection: 'app' }, target({ connection: 'app', pushdown: false }))).toBe(false);
    expect(mayPushDown({ connection: 'app' }, target({ connection: 'reports' }))).toBe(false);
    expect(mayPushDown({}, target())).toBe(false);
    expect(mayPushDown({ connection: 'default' }, target({ connection: 'default' }))).toBe(false);
  });

  it('move only plain Postgres pipelines inside the databases', () => {
    expect(directTarget({ source, target: target(), tasks: null })).toEqual(target());
    expect(directTarget({ source, target: { type: 'elasticsearch', index: 'i', id_field: 'id' }, tasks: null })).toBeNull();
    const plan = [
      { type: 'sql_reader' as const, name: 'r', query: 'SELECT 1 AS id' },
      { type: 'map' as const, name: 'm', compute: { x: '1' } },
      { type: 'writer' as const, name: 'w', target: target() },
    ];
    expect(directTarget({ source, target: target(), tasks: plan })).toBeNull();
  });

  it('send pipelines with deletes through the JavaScript path, which applies them', () => {
    expect(directTarget({ source: { ...source, deleted_flag: 'gone' }, target: target(), tasks: null })).toBeNull();
    expect(directTarget({ source, target: target({ delete_missing: true }), tasks: null })).toBeNull();
  });
});
