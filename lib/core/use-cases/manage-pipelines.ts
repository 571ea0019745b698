/**
 * Pipeline management (create, list, inspect, change, reset, delete). Validation happens here,
 * once, for every entry point (HTTP, CLI, seeds): shape first, then the connections and the task
 * plan's transforms, then the definition against its databases (check-definition.ts).
 */
import { NotFoundError } from '../errors.ts';
import { applyPatch, changesWhatIsRead, checkConnections, parseCreatePipeline, parsePipelinePatch, type Pipeline, type PipelineDefinition } from '../pipeline.ts';
import { fitPage, parsePageRequest } from '../paging.ts';
import type { ConnectionDirectory, ConnectionInfo, PipelineWithLastRun, StateStore, TransformCompiler } from '../ports.ts';
import type { ReconcileRuns } from './reconcile-runs.ts';
import type { DefinitionChecks } from './check-definition.ts';

export interface ManagePipelinesDeps {
  store: StateStore;
  transforms: Pick<TransformCompiler, 'validate'>;
  connections: ConnectionDirectory;
  checks: DefinitionChecks;
  /** Reads reconcile active runs with Step Functions first (reconcile-runs.ts); absent: reads as stored. */
  reconcile?: Pick<ReconcileRuns, 'pipeline' | 'pipelines'>;
}

/** A created or changed pipeline, with what could not be checked or looks risky. */
export type CheckedPipeline = Pipeline & { warnings: string[] };

export function createManagePipelines({ store, transforms, connections, checks, reconcile }: ManagePipelinesDeps) {
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
    async create(body: unknown): Promise<CheckedPipeline> {
      const definition = parseCreatePipeline(body);
      validate(definition);
      const { warnings } = await checks.check(definition);
      return { ...(await store.createPipeline(definition)), warnings };
    },
    /** One page of pipelines in name order: `limit` and `after` from the query string (paging.ts). */
    /** Active pipelines on the page are reconciled with their executions first (reconcile-runs.ts). */
    async list(query: Readonly<Record<string, string | undefined>> = {}): Promise<{ pipelines: Pipeline[]; next: string | null }> {
      const page = parsePageRequest('pipelines', query);
      const load = () => store.listPipelines({ ...page, limit: page.limit + 1 });
      let rows = await load();
      if (reconcile && (await reconcile.pipelines(rows))) rows = await load();
      const { items, next } = fitPage('pipelines', rows, page.limit, (p) => p.name);
      return { pipelines: items, next };
    },
    get,
    /**
     * Changes mode, batch_size, source, target or tasks while the pipeline is neither running nor
     * paused (ConflictError). A change of what is read or written resets the saved progress.
     */
    async update(id: string, body: unknown): Promise<CheckedPipeline> {
      const patch = parsePipelinePatch(body);
      const current = await get(id);
      const definition = applyPatch(current, patch);
      validate(definition);
      const reset = changesWhatIsRead(current, definition);
      const { warnings } = reset ? await checks.check(definition) : { warnings: [] };
      return { ...(await store.updatePipeline(id, definition, { reset })), warnings };
    },
    remove: (id: string) => store.deletePipeline(id),
    /** Clears the checkpoint and resume point; abandons a paused run. 404, 409 while running. */
    async reset(id: string): Promise<Pipeline> {
      await get(id);
      return await store.resetPipeline(id);
    },
    /** The configured connections with a quick reachability check; never a password or URL. */
    connections: async (): Promise<{ connections: ConnectionInfo[] }> => ({ connections: await connections.check() }),
  };
}

export type ManagePipelines = ReturnType<typeof createManagePipelines>;
