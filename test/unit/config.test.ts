/** The one settings parser of the functions (Lambda, the local stack's workers, the test harness). */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lib/runtime/config.ts';

describe('parseConfig', () => {
  it('applies the README defaults when a setting is unset or empty', () => {
    expect(parseConfig({ BATCHES_PER_EXECUTION: '' })).toMatchObject({
      logLevel: 'info',
      batchesPerExecution: 500,
      sourceStatementTimeoutMs: 60_000,
      staleRunSeconds: 900,
      dbPoolSize: 4,
    });
  });

  it('reads each setting from the given environment', () => {
    const config = parseConfig({ LOG_LEVEL: 'WARN', BATCHES_PER_EXECUTION: '2', SOURCE_STATEMENT_TIMEOUT_MS: '1000', STALE_RUN_SECONDS: '5', DB_POOL_SIZE: '10' });
    expect(config).toMatchObject({ logLevel: 'warn', batchesPerExecution: 2, sourceStatementTimeoutMs: 1000, staleRunSeconds: 5, dbPoolSize: 10 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['BATCHES_PER_EXECUTION', '0'],
    ['SOURCE_STATEMENT_TIMEOUT_MS', '1.5'],
    ['STALE_RUN_SECONDS', 'soon'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s with a ConfigError that names the variable', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(name);
  });
});
