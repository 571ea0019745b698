/**
 * What the local stack prints (the API's output in its JSON stream, masked database URLs) and the
 * demo's own namespace of pipelines and tables.
 */
import { describe, expect, it } from 'vitest';
import { apiLogLine } from '../local/api-output.ts';
import { maskPassword } from '../local/local-config.ts';
import { DEMO_TABLE, demoPipeline } from '../local/demo-namespace.ts';
import { loadSeedPipeline } from '../../seeds/pipelines/index.ts';

describe("the HTTP API's output in the local stack's JSON stream", () => {
  const now = () => new Date('2026-01-02T03:04:05.000Z');

  it("passes a handler's JSON log line through unchanged", () => {
    const line = '{"level":"ERROR","message":"request failed","timestamp":"2026-01-02T03:04:05.000Z","service":"etl","function_request_id":"r1","cold_start":true}';
    expect(apiLogLine(line, 'stderr', now)).toBe(line);
  });

  it("wraps serverless-offline's own lines (colours removed) as JSON lines of the etl-api service", () => {
    expect(JSON.parse(apiLogLine('\u001b[32mGET /pipelines (λ: listPipelines)\u001b[39m', 'stdout', now)!)).toEqual({
      level: 'INFO',
      timestamp: '2026-01-02T03:04:05.000Z',
      service: 'etl-api',
      stream: 'stdout',
      message: 'GET /pipelines (λ: listPipelines)',
    });
    expect(JSON.parse(apiLogLine('{ not json', 'stderr', now)!)).toMatchObject({ service: 'etl-api', message: '{ not json' });
    expect(apiLogLine('  \u001b[0m ', 'stdout', now)).toBeNull();
  });
});

describe('printing a database URL', () => {
  it('masks the password and keeps the rest', () => {
    expect(maskPassword('postgres://postgres:postgres@127.0.0.1:54329/etl')).toBe('postgres://postgres:***@127.0.0.1:54329/etl');
    expect(maskPassword('postgres://etl@db.example/etl')).toBe('postgres://etl@db.example/etl');
  });
});

describe("the demo's namespace", () => {
  it("renames every seed pipeline demo_* and points its Postgres targets at the demo's own table, never analytics.film_dim", () => {
    for (const seed of ['film_dim_full', 'film_dim_inc', 'film_dim_tasks'] as const) {
      const body = demoPipeline(loadSeedPipeline(seed));
      expect(body.name).toBe(`demo_${seed}`);
      expect(JSON.stringify(body)).not.toContain('"analytics.film_dim"');
      expect(JSON.stringify(body)).toContain(`"${DEMO_TABLE}"`);
    }
    expect(demoPipeline(loadSeedPipeline('film_dim_full'), { name: 'film_dim_slow', batch_size: 100 })).toMatchObject({ name: 'demo_film_dim_slow', batch_size: 100 });
  });
});
