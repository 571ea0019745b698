/**
 * Pipeline management (create, list, inspect, change, reset, delete). Validation happens here,
 * once, for every entry point (HTTP, CLI, seeds): shape first, then the connections and the task
 * plan's transforms, then the definition against its databases (check-definition.ts).
 * A schedule is stored with its next run; in the cloud it is also an EventBridge schedule, created,
 * replaced and deleted with the pipeline (a failure there undoes the change and answers 503).
 */
import { NotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { BUSY_PIPELINE_STATUSES, applyPatch, changesWhatIsRead, checkConnections, parseCreateRequest, parsePipelinePatch, patchesDefinition, type Pipeline, type PipelineDefinition } from '../pipeline.ts';
import { fitPage, parsePageRequest } from '../paging.ts';
import type { ConnectionDirectory, ConnectionInfo, PipelineWithLastRun, StateStore, TransformCompiler } from '../ports.ts';
import { firstRun, parseSchedule } from '../schedule.ts';
import type { Clock, PipelineScheduler, ScheduleStore } from '../schedule-ports.ts';
import type { ReconcileRuns } from './reconcile-runs.ts';
import type { DefinitionChecks } from './check-definition.ts';

export interface ManagePipelinesDeps {
  store: StateStore;
  transforms: Pick<TransformCompiler, 'validate'>;
  connections: ConnectionDirectory;
  checks: DefinitionChecks;
  /** Reads reconcile active runs with Step Functions first (reconcile-runs.ts); absent: reads as stored. */
  reconcile?: Pick<ReconcileRuns, 'pipeline' | 'pipelines'>;
  schedules: ScheduleStore;
  /** EventBridge Scheduler in the cloud; null where the local stack's scheduler reads next_run_at. */
  scheduler: PipelineScheduler | null;
  clock: Clock;
  logger: Logger;
}

/** Statuses in which a pipeline cannot be deleted (state-store.ts refuses them too). */
const UNDELETABLE: readonly string[] = BUSY_PIPELINE_STATUSES;

/** A created or changed pipeline, with what could not be checked or looks risky. */
export type CheckedPipeline = Pipeline & { warnings: string[] };

export function createManagePipelines({ store, transforms, connections, checks, reconcile, schedules, scheduler, clock, logger }: ManagePipelinesDeps) {
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

  /** The pipeline as create and PATCH answer it: with its schedule, without last_run. */
  async function current(id: string, warnings: string[]): Promise<CheckedPipeline> {
    const stored = await store.getPipeline(id);
    if (!stored) throw new NotFoundError(`pipeline ${id} not found`);
    const { last_run: _lastRun, ...pipeline } = stored;
    return { ...pipeline, warnings };
  }

  /** The cloud schedule first: if EventBridge refuses, the database still says what is true. */
  async function setSchedule(id: string, schedule: string | null, nextRunAt: Date | null): Promise<void> {
    if (scheduler) {
      if (schedule) await scheduler.put(id, schedule, parseSchedule(schedule).kind === 'rate' ? nextRunAt : null);
      else await scheduler.remove(id);
    }
    await schedules.setSchedule(id, schedule, nextRunAt);
  }

  return {
    /** Validates the body (ValidationError naming the field) and stores the pipeline as IDLE. */
    async create(body: unknown): Promise<CheckedPipeline> {
      const { definition, schedule } = parseCreateRequest(body);
      const nextRunAt = schedule ? firstRun(schedule, clock()) : null;
      validate(definition);
      const { warnings } = await checks.check(definition);
      const created = await store.createPipeline(definition);
      if (!schedule) return { ...created, warnings };
      try {
        await setSchedule(created.id, schedule, nextRunAt);
      } catch (error) {
        // No pipeline without the schedule it was created with: the client may simply retry.
        await store.deletePipeline(created.id).catch((cleanup: unknown) => logger.error('could not undo a pipeline whose schedule failed', { pipeline_id: created.id, error: cleanup }));
        throw error;
      }
      return await current(created.id, warnings);
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
      const before = await get(id);
      const newSchedule = patch.schedule !== undefined && patch.schedule !== before.schedule;
      const nextRunAt = newSchedule && patch.schedule ? firstRun(patch.schedule, clock()) : null;
      let warnings: string[] = [];
      // A schedule alone may change while a run is active: it is not part of what the run reads.
      if (patchesDefinition(patch)) {
        const definition = applyPatch(before, patch);
        validate(definition);
        const reset = changesWhatIsRead(before, definition);
        ({ warnings } = reset ? await checks.check(definition) : { warnings: [] });
        await store.updatePipeline(id, definition, { reset });
      }
      if (newSchedule) await setSchedule(id, patch.schedule ?? null, nextRunAt);
      return await current(id, warnings);
    },
    /**
     * Deletes the cloud schedule first, so none is left firing for a pipeline that is gone; if the
     * database then refuses (a run started meanwhile), the schedule is put back.
     */
    async remove(id: string): Promise<void> {
      const pipeline = await get(id);
      const cloudSchedule = scheduler && pipeline.schedule && !UNDELETABLE.includes(pipeline.status) ? pipeline.schedule : null;
      if (cloudSchedule) await scheduler!.remove(id);
      try {
        await store.deletePipeline(id);
      } catch (error) {
        if (cloudSchedule) {
          const next = pipeline.next_run_at ? new Date(pipeline.next_run_at) : null;
          const startAt = next && next > clock() && parseSchedule(cloudSchedule).kind === 'rate' ? next : null;
          await scheduler!.put(id, cloudSchedule, startAt).catch((undo: unknown) => logger.error('could not restore the schedule of a pipeline that was not deleted', { pipeline_id: id, error: undo }));
        }
        throw error;
      }
    },
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
