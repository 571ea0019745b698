/**
 * Assembles the use-cases from their adapters. The Lambda wiring (services.ts) calls it with the
 * container's singletons; tests call it with their own pool and endpoint.
 */
import type pg from 'pg';
import type { Logger } from '../core/logger.ts';
import type { ExecutionStarter, Sink, SinkFactory, TransformCompiler } from '../core/ports.ts';
import { createManagePipelines } from '../core/use-cases/manage-pipelines.ts';
import { createReconcileRuns } from '../core/use-cases/reconcile-runs.ts';
import { createRequestRuns } from '../core/use-cases/request-runs.ts';
import { createRunSteps } from '../core/use-cases/run-steps.ts';
import { createPgSourceReader } from '../adapters/pg/source-reader.ts';
import { createPgStateStore } from '../adapters/pg/state-store.ts';
import { createPostgresSink } from '../adapters/pg/postgres-sink.ts';

export interface EngineOptions {
  pool: pg.Pool;
  executions: ExecutionStarter;
  transforms: TransformCompiler;
  logger: Logger;
  statementTimeoutMs: number;
  batchesPerExecution: number;
  /** Builds Elasticsearch/OpenSearch sinks (it names the missing URL when none is configured). */
  searchSinks: SinkFactory;
  /** Heartbeat age after which an active run that Step Functions cannot describe is stale (STALE_RUN_SECONDS; default 900). */
  staleRunSeconds?: number;
}

export function createEngine(options: EngineOptions) {
  const store = createPgStateStore(options.pool);
  const reconcile = createReconcileRuns({ store, executions: options.executions, logger: options.logger });
  const sinks: SinkFactory = {
    forTarget(target, context): Sink {
      return target.type === 'postgres' ? createPostgresSink(options.pool, target) : options.searchSinks.forTarget(target, context);
    },
  };
  return {
    store,
    manage: createManagePipelines({ store, transforms: options.transforms, reconcile }),
    runs: createRequestRuns({ store, executions: options.executions, logger: options.logger, staleRunSeconds: options.staleRunSeconds, reconcile }),
    reconcile,
    steps: createRunSteps({
      store,
      reader: createPgSourceReader(options.pool, { statementTimeoutMs: options.statementTimeoutMs }),
      sinks,
      transforms: options.transforms,
      executions: options.executions,
      logger: options.logger,
      batchesPerExecution: options.batchesPerExecution,
      staleRunSeconds: options.staleRunSeconds,
      reconcile,
    }),
  };
}

export type Engine = ReturnType<typeof createEngine>;
