/**
 * The fixture of the scenario test files: a fresh database holding the demo catalogue, a run
 * harness on it, and before each test no intercepts, no pipelines and an empty target.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { seedCatalogue } from '../../seeds/catalogue.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startRunHarness, type RunHarness, type RunHarnessOptions } from './run-harness.ts';

export interface SeededHarness {
  db: TestDatabase;
  harness: RunHarness;
}

/** Registers the hooks; the returned object is filled in `beforeAll`. */
export function useSeededHarness(options: { films: number } & Omit<RunHarnessOptions, 'databaseUrl'>): SeededHarness {
  const fixture = {} as SeededHarness;
  beforeAll(async () => {
    const { films, ...harnessOptions } = options;
    fixture.db = await createTestDatabase();
    await seedCatalogue(fixture.db.pool, { films });
    fixture.harness = await startRunHarness({ ...harnessOptions, databaseUrl: fixture.db.url });
  });
  afterAll(async () => {
    await fixture.harness?.stop();
    await fixture.db?.drop();
  });
  beforeEach(async () => {
    fixture.harness.clearIntercepts();
    await fixture.db.pool.query('TRUNCATE analytics.film_dim, etl.pipelines CASCADE');
  });
  return fixture;
}
