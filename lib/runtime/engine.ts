/**
 * The one composition root of the engine: use-cases assembled from their adapters, with every
 * setting taken from a parsed RuntimeConfig. The Lambda wiring (services.ts) calls it with the
 * container's singletons; the test harness calls it with its own pool and endpoint and a config
 * from the same parser, so pool sizes and timeouts cannot drift between the three.
 */
import pg from 'pg';
import type { Logger } from '../core/logger.ts';
import type { ExecutionStarter, Sink, SinkFactory, TransformCompiler } from '../core/ports.ts';
import { createManagePipelines } from '../core/use-cases/manage-pipelines.ts';
import { createRequestRuns } from '../core/use-cases/request-runs.ts';
import { createRunSteps } from '../core/use-cases/run-steps.ts';
import { createPgSourceReader } from '../adapters/pg/source-reader.ts';
import { createPgStateStore } from '../adapters/pg/state-store.ts';
import { createPostgresSink } from '../adapters/pg/postgres-sink.ts';
import { createTransformCompiler } from '../transforms/index.ts';
import type { RuntimeConfig } from './config.ts';

/** The settings the engine reads (a RuntimeConfig has them all). */
export type EngineConfig = Pick<RuntimeConfig, 'sourceStatementTimeoutMs' | 'batchesPerExecution' | 'staleRunSeconds'>;

export interface EngineDeps {
  pool: pg.Pool;
  executions: ExecutionStarter;
  /** Builds Elasticsearch/OpenSearch sinks (it names the missing URL when none is configured). */
  searchSinks: SinkFactory;
  logger: Logger;
  /** The task plan compiler; tests of transforms may pass their own. */
  transforms?: TransformCompiler;
}

export function createEngine(config: EngineConfig, deps: EngineDeps) {
  const { pool, executions, logger } = deps;
  const transforms = deps.transforms ?? createTransformCompiler();
  const store = createPgStateStore(pool);
  const sinks: SinkFactory = {
    forTarget(target, context): Sink {
      return target.type === 'postgres' ? createPostgresSink(pool, target) : deps.searchSinks.forTarget(target, context);
    },
  };
  return {
    store,
    manage: createManagePipelines({ store, transforms }),
    runs: createRequestRuns({ store, executions, logger, staleRunSeconds: config.staleRunSeconds }),
    steps: createRunSteps({
      store,
      reader: createPgSourceReader(pool, { statementTimeoutMs: config.sourceStatementTimeoutMs }),
      sinks,
      transforms,
      executions,
      logger,
      batchesPerExecution: config.batchesPerExecution,
      staleRunSeconds: config.staleRunSeconds,
    }),
  };
}

export type Engine = ReturnType<typeof createEngine>;

/**
 * The state database's pool, sized by DB_POOL_SIZE. UTC sessions: cursor values travel as text
 * and must not depend on the server's zone.
 */
export function createPgPool(url: string, config: Pick<RuntimeConfig, 'dbPoolSize'>, logger: Logger): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: config.dbPoolSize, idleTimeoutMillis: 30_000, options: '-c TimeZone=UTC' });
  // An idle client losing its connection (server restart, 57P01) must not crash the process.
  pool.on('error', (error) => logger.warn('idle database connection lost', { error }));
  return pool;
}
