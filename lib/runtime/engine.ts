/**
 * Assembles the use-cases from their adapters. The Lambda wiring (services.ts) calls it with the
 * container's singletons; tests call it with their own connections and endpoint.
 */
import type { Logger } from '../core/logger.ts';
import { DEFAULT_CONNECTION } from '../core/pipeline.ts';
import type { ExecutionStarter, Sink, SinkFactory, SourceReader, SourceReaders, TransformCompiler } from '../core/ports.ts';
import { createManagePipelines } from '../core/use-cases/manage-pipelines.ts';
import { createReconcileRuns } from '../core/use-cases/reconcile-runs.ts';
import { createRequestRuns } from '../core/use-cases/request-runs.ts';
import { createRunSteps } from '../core/use-cases/run-steps.ts';
import type { ConnectionRegistry } from '../adapters/pg/connections.ts';
import { createPgSourceReader } from '../adapters/pg/source-reader.ts';
import { createPgStateStore } from '../adapters/pg/state-store.ts';
import { createPostgresSink } from '../adapters/pg/postgres-sink.ts';

export interface EngineOptions {
  /** The state database (`default`) and the named connections, with their pools. */
  connections: ConnectionRegistry;
  executions: ExecutionStarter;
  transforms: TransformCompiler;
  logger: Logger;
  batchesPerExecution: number;
  /** Builds Elasticsearch/OpenSearch sinks (it names the missing URL when none is configured). */
  searchSinks: SinkFactory;
  /** Heartbeat age after which an active run that Step Functions cannot describe is stale (STALE_RUN_SECONDS; default 900). */
  staleRunSeconds?: number;
}

export function createEngine(options: EngineOptions) {
  const { connections } = options;
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
  const reconcile = createReconcileRuns({ store, executions: options.executions, logger: options.logger });
  const sinks: SinkFactory = {
    forTarget(target, context): Sink {
      if (target.type !== 'postgres') return options.searchSinks.forTarget(target, context);
      const connection = target.connection ?? DEFAULT_CONNECTION;
      return createPostgresSink(connections.writePool(connection), target, {
        sharesStateTransaction: connection === DEFAULT_CONNECTION,
        label: connections.label(connection),
      });
    },
  };
  return {
    store,
    connections,
    manage: createManagePipelines({ store, transforms: options.transforms, connections, reconcile }),
    runs: createRequestRuns({ store, executions: options.executions, logger: options.logger, staleRunSeconds: options.staleRunSeconds, reconcile }),
    reconcile,
    steps: createRunSteps({
      store,
      readers,
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
