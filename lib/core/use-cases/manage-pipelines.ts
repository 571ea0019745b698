/**
 * Pipeline management (create, list, inspect, change, reset, delete). Validation happens here,
 * once, for every entry point (HTTP, CLI, seeds): shape first, then the connections and the task
 * plan's transforms, then the definition against its databases (check-definition.ts).
 */
import { NotFoundError } from '../errors.ts';
import { applyPatch, changesWhatIsRead, checkConnections, parseCreatePipeline, parsePipelinePatch, type Pipeline, type PipelineDefinition } from '../pipeline.ts';
import { fitPage, parsePageRequest } from '../paging.ts';
import type { ConnectionDirectory, ConnectionInfo, PipelineWithLastRun, StateStore, TransformCompiler } from '../ports.ts';
import type { DefinitionChecks } from './check-definition.ts';

export interface ManagePipelinesDeps {
  store: StateStore;
  transforms: Pick<TransformCompiler, 'validate'>;
  connections: ConnectionDirectory;
  checks: DefinitionChecks;
}

/** A created or changed pipeline, with what could not be checked or looks risky. */
export type CheckedPipeline = Pipeline & { warnings: string[] };

export function createManagePipelines({ store, transforms, connections, checks }: ManagePipelinesDeps) {
  const validate = (definition: PipelineDefinition) => {
    checkConnections(definition, connections.names());
    transforms.validate(definition);
  };

  async function get(id: string): Promise<PipelineWithLastRun> {
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
    async list(query: Readonly<Record<string, string | undefined>> = {}): Promise<{ pipelines: Pipeline[]; next: string | null }> {
      const page = parsePageRequest('pipelines', query);
      const { items, next } = fitPage('pipelines', await store.listPipelines({ ...page, limit: page.limit + 1 }), page.limit, (p) => p.name);
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
