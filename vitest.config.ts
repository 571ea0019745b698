import { defineConfig } from 'vitest/config';

// One PostgreSQL cluster per test run (test/support/global-setup.ts); each test file gets its
// own database cloned from a migrated template, so files run in parallel without sharing rows.
// The local tooling (tools/) is not product code: its tests live beside it, in the `tools` project.
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'threads',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
      { extends: true, test: { name: 'statemachine', include: ['test/statemachine/**/*.test.ts'] } },
      { extends: true, test: { name: 'tools', include: ['tools/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], fileParallelism: false } },
    ],
  },
});
