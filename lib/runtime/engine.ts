/**
 * The one composition root of the engine: use-cases assembled from their adapters, with every
 * setting taken from a parsed RuntimeConfig. The Lambda wiring (services.ts) calls it with the
 * container's singletons; the test harness calls it with its own connections and endpoint and a
 * config from the same parser, so pool sizes and timeouts cannot drift between the two, and the
 * local stack runs the Lambda wiring itself (its steps are the functions/steps handlers).
 */
import type { Logger } from '../core/logger.ts';
import { DEFAULT_CONNECTION } from '../core/pipeline.ts';
import type { ExecutionStarter, Sink, SinkFactory, SourceReader, SourceReaders, TransformCompiler } from '../core/ports.ts';
import { createDefinitionChecks } from '../core/use-cases/check-definition.ts';
import { createManagePipelines } from '../core/use-cases/manage-pipelines.ts';
import { createReconcileRuns } from '../core/use-cases/reconcile-runs.ts';
import { createPreviewPipeline } from '../core/use-cases/preview-pipeline.ts';
import { createRequestRuns } from '../core/use-cases/request-runs.ts';
import { createRunSteps } from '../core/use-cases/run-steps.ts';
import { createScheduleTicks } from '../core/use-cases/schedule-ticks.ts';
import type { Clock, PipelineScheduler } from '../core/schedule-ports.ts';
import { createConnectionRegistry, type ConnectionRegistry } from '../adapters/pg/connections.ts';
import { createPgInspector } from '../adapters/pg/inspector.ts';
import { createPgDirectMovers } from '../adapters/pg/direct-mover.ts';
import { createPgScheduleStore } from '../adapters/pg/schedule-store.ts';
import { createPgSourceReader } from '../adapters/pg/source-reader.ts';
import { createPgStateStore } from '../adapters/pg/state-store.ts';
import { createPostgresSink } from '../adapters/pg/postgres-sink.ts';
import { createTransformCompiler } from '../transforms/index.ts';
import type { RuntimeConfig } from './config.ts';

/** The settings the engine reads (a RuntimeConfig has them all). */
export type EngineConfig = Pick<RuntimeConfig, 'batchesPerExecution' | 'staleRunSeconds'>;

export interface EngineDeps {
  /** The state database (`default`) and the named connections, with their pools. */
  connections: ConnectionRegistry;
  executions: ExecutionStarter;
  /** Builds Elasticsearch/OpenSearch sinks (it names the missing URL when none is configured). */
  searchSinks: SinkFactory;
  logger: Logger;
  /** The task plan compiler; tests of transforms may pass their own. */
  transforms?: TransformCompiler;
  /** EventBridge Scheduler (cloud); absent or null where the local stack's scheduler runs due ticks. */
  scheduler?: PipelineScheduler | null;
  /** "Now" for schedules; tests pass a fake clock. */
  clock?: Clock;
}

export function createEngine(config: EngineConfig, deps: EngineDeps) {
  const { connections, executions, logger } = deps;
  const transforms = deps.transforms ?? createTransformCompiler();
  const store = createPgStateStore(connections.statePool);
  const readerCache = new Map<string, SourceReader>();
  const readers: SourceReaders = {
    forConnection(name) {
      let reader = readerCache.get(name);
      if (!reader) {
        reader = createPgSourceReader(connections.readPool(name), { label: connections.label(name) });
        readerCache.set(name, reader);
      }
      return reader;
    },
  };
  const reconcile = createReconcileRuns({ store, executions, logger });
  const sinks: SinkFactory = {
    forTarget(target, context): Sink {
      if (target.type !== 'postgres') return deps.searchSinks.forTarget(target, context);
      const connection = target.connection ?? DEFAULT_CONNECTION;
      return createPostgresSink(connections.writePool(connection), target, {
        sharesStateTransaction: connection === DEFAULT_CONNECTION,
        label: connections.label(connection),
        pipelineId: context.pipelineId,
      });
    },
  };
  const checks = createDefinitionChecks({ inspector: createPgInspector(connections) });
  const schedules = createPgScheduleStore(connections.statePool);
  const clock = deps.clock ?? (() => new Date());
  const runs = createRequestRuns({ store, executions, logger, staleRunSeconds: config.staleRunSeconds, reconcile });
  const ticks = createScheduleTicks({ schedules, runs, clock, logger });
  return {
    store,
    schedules,
    connections,
    manage: createManagePipelines({ store, transforms, connections, checks, reconcile, schedules, scheduler: deps.scheduler ?? null, clock, logger }),
    preview: createPreviewPipeline({ store, checks, readers, transforms }),
    runs,
    ticks,
    reconcile,
    steps: createRunSteps({
      ticks,
      store,
      readers,
      sinks,
      transforms,
      executions,
      logger,
      batchesPerExecution: config.batchesPerExecution,
      staleRunSeconds: config.staleRunSeconds,
      directMovers: createPgDirectMovers(connections),
      reconcile,
    }),
  };
}

export type Engine = ReturnType<typeof createEngine>;

/**
 * The connections of one process (a Lambda container, the test harness), sized and timed by the
 * config: DB_POOL_SIZE state sessions, CONNECTION_POOL_SIZE read and write sessions per
 * connection, SOURCE_STATEMENT_TIMEOUT_MS on every read of user SQL.
 */
export function createConnections(
  config: Pick<RuntimeConfig, 'sourceStatementTimeoutMs' | 'dbPoolSize' | 'connectionPoolSize'>,
  urls: { stateUrl: string; named: Readonly<Record<string, string>> },
  logger: Logger,
): ConnectionRegistry {
  return createConnectionRegistry({
    stateUrl: urls.stateUrl,
    named: { ...urls.named },
    readStatementTimeoutMs: config.sourceStatementTimeoutMs,
    sizes: { state: config.dbPoolSize, read: config.connectionPoolSize, write: config.connectionPoolSize },
    // An idle client losing its connection (server restart, 57P01) must not crash the process.
    onIdleError: (error, connection) => logger.warn('idle database connection lost', { error, connection }),
  });
}
