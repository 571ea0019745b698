/**
 * Pipeline management (create, list, inspect, change, delete). Validation happens here, once,
 * for every entry point (HTTP, CLI, seeds): shape first, then the task plan's transforms.
 */
import { NotFoundError } from '../errors.ts';
import { applyPatch, checkConnections, parseCreatePipeline, parsePipelinePatch, type Pipeline, type PipelineDefinition } from '../pipeline.ts';
import type { ConnectionDirectory, ConnectionInfo, PipelineWithLastRun, StateStore, TransformCompiler } from '../ports.ts';
import type { ReconcileRuns } from './reconcile-runs.ts';

export interface ManagePipelinesDeps {
  store: StateStore;
  transforms: Pick<TransformCompiler, 'validate'>;
  connections: ConnectionDirectory;
  /** Reads reconcile active runs with Step Functions first (reconcile-runs.ts); absent: reads as stored. */
  reconcile?: Pick<ReconcileRuns, 'pipeline' | 'pipelines'>;
}

export function createManagePipelines({ store, transforms, connections, reconcile }: ManagePipelinesDeps) {
  const validate = (definition: PipelineDefinition) => {
    checkConnections(definition, connections.names());
    transforms.validate(definition);
  };

  async function get(id: string): Promise<PipelineWithLastRun> {
    await reconcile?.pipeline(id).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
    const pipeline = await store.getPipeline(id);
    if (!pipeline) throw new NotFoundError(`pipeline ${id} not found`);
    return pipeline;
  }

  return {
    /** Validates the body (ValidationError naming the field) and stores the pipeline as IDLE. */
    async create(body: unknown): Promise<Pipeline> {
      const definition = parseCreatePipeline(body);
      validate(definition);
      return await store.createPipeline(definition);
    },
    /** Every pipeline; active ones are reconciled with their executions first. */
    async list(): Promise<Pipeline[]> {
      const pipelines = await store.listPipelines();
      return reconcile && (await reconcile.pipelines(pipelines)) ? await store.listPipelines() : pipelines;
    },
    get,
    /** Changes batch_size, source, target or tasks while the pipeline is not running (ConflictError). */
    async update(id: string, body: unknown): Promise<Pipeline> {
      const patch = parsePipelinePatch(body);
      const definition = applyPatch(await get(id), patch);
      validate(definition);
      return await store.updatePipeline(id, definition);
    },
    remove: (id: string) => store.deletePipeline(id),
    /** The configured connections with a quick reachability check; never a password or URL. */
    connections: async (): Promise<{ connections: ConnectionInfo[] }> => ({ connections: await connections.check() }),
  };
}

export type ManagePipelines = ReturnType<typeof createManagePipelines>;
