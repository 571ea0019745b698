/**
 * The records of the in-memory state store (state-store.ts): pipelines, runs and checkpoints, their
 * plain reads, and the writes that decide nothing. The decisions are the store's, made by the core's rules.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, RunStateError } from '../../../lib/core/errors.ts';
import type { Pipeline, PipelineDefinition, PipelineStatus } from '../../../lib/core/pipeline.ts';
import type { BatchProgress, CheckpointRecord, RunRecord, StateStore } from '../../../lib/core/ports.ts';
import type { FakeClock } from './clock.ts';

export type StoredPipeline = Pipeline & { resetAt: string | null };
export type StoredRun = RunRecord & { attemptedBatch: number };

export function createFakeRecords(clock: FakeClock) {
  const pipelines = new Map<string, StoredPipeline>();
  const runs = new Map<string, StoredRun>();
  const checkpoints = new Map<string, CheckpointRecord>();
  const stamp = () => clock.stamp();

  const pipelineView = ({ resetAt: _resetAt, ...pipeline }: StoredPipeline): Pipeline => structuredClone(pipeline);
  const record = ({ attemptedBatch: _attempted, ...run }: StoredRun): RunRecord => structuredClone(run);
  const runsOf = (pipelineId: string) => [...runs.values()].filter((run) => run.pipeline_id === pipelineId);
  const newestFirst = (a: RunRecord, b: RunRecord) => b.requested_at.localeCompare(a.requested_at) || b.id.localeCompare(a.id);

  function pipelineOf(id: string, Missing: typeof NotFoundError | typeof RunStateError = NotFoundError): StoredPipeline {
    const pipeline = pipelines.get(id);
    if (!pipeline) throw new Missing(`pipeline ${id} not found`);
    return pipeline;
  }

  function runOf(id: string): StoredRun {
    const run = runs.get(id);
    if (!run) throw new RunStateError(`run ${id} does not exist`);
    return run;
  }

  const reads: Pick<StateStore, 'listPipelines' | 'getPipeline' | 'pipelineStatus' | 'listRuns' | 'runIds' | 'getRun' | 'getCheckpoint'> = {
    async listPipelines(page) {
      const sorted = [...pipelines.values()].sort((a, b) => a.name.localeCompare(b.name)).filter((p) => !page?.after || p.name > page.after);
      return await Promise.resolve(sorted.slice(0, page?.limit ?? sorted.length).map(pipelineView));
    },
    async getPipeline(id) {
      const pipeline = pipelines.get(id);
      if (!pipeline) return null;
      const last = runsOf(id).sort(newestFirst)[0];
      return await Promise.resolve({ ...pipelineView(pipeline), last_run: last ? record(last) : null });
    },
    async pipelineStatus(id) {
      return await Promise.resolve(pipelines.get(id)?.status ?? null);
    },
    async listRuns(pipelineId, page) {
      pipelineOf(pipelineId);
      const sorted = runsOf(pipelineId).sort(newestFirst);
      const from = page.after ? sorted.findIndex((run) => run.id === page.after) : -1;
      if (page.after && from < 0) return [];
      return await Promise.resolve(sorted.slice(from + 1, from + 1 + page.limit).map(record));
    },
    async runIds(pipelineId) {
      return await Promise.resolve(runsOf(pipelineId).map((run) => run.id));
    },
    async getRun(pipelineId, runId) {
      const run = runs.get(runId);
      return await Promise.resolve(run?.pipeline_id === pipelineId ? record(run) : null);
    },
    async getCheckpoint(pipelineId) {
      if (!pipelines.has(pipelineId)) return null;
      return await Promise.resolve(checkpoints.get(pipelineId) ?? { pipeline_id: pipelineId, last_value: null, last_id: null, run_id: null, updated_at: null });
    },
  };

  return {
    pipelineReads: reads,
    stamp,
    pipelineView,
    record,
    runsOf,
    pipelineOf,
    runOf,
    findRun: (id: string) => runs.get(id) ?? null,
    allRuns: () => [...runs.values()],
    activeOf: (pipelineId: string) => runsOf(pipelineId).find((run) => run.status === 'RUNNING' || run.status === 'PAUSED') ?? null,
    checkpointOf: (pipelineId: string) => checkpoints.get(pipelineId) ?? null,

    insertPipeline(definition: PipelineDefinition): Pipeline {
      if ([...pipelines.values()].some((p) => p.name === definition.name)) throw new ConflictError(`a pipeline named "${definition.name}" already exists`);
      const at = stamp();
      const pipeline: StoredPipeline = { ...structuredClone(definition), id: randomUUID(), status: 'IDLE', schedule: null, next_run_at: null, last_tick: null, created_at: at, updated_at: at, resetAt: null };
      pipelines.set(pipeline.id, pipeline);
      return pipelineView(pipeline);
    },

    setStatus(pipeline: StoredPipeline, status: PipelineStatus): void {
      Object.assign(pipeline, { status, updated_at: stamp() });
    },

    /** The partial unique index of etl.pipeline_runs: at most one RUNNING or PAUSED run per pipeline. */
    insertRun(pipeline: Pipeline, start: Pick<RunRecord, 'cursor' | 'horizon' | 'resumed_from'>): StoredRun {
      if (runsOf(pipeline.id).some((run) => run.status === 'RUNNING' || run.status === 'PAUSED')) throw new ConflictError(`pipeline ${pipeline.id} already has an active run`);
      const run: StoredRun = {
        id: randomUUID(), pipeline_id: pipeline.id, status: 'RUNNING', mode: pipeline.mode, execution_name: null, execution_arn: null, executions: 0,
        rows_read: 0, rows_written: 0, rows_dropped: 0, rows_deleted: 0, batches: 0, retries: 0, next_batch_size: null, batch_sizes: {}, error: null,
        requested_at: stamp(), started_at: null, heartbeat_at: null, finished_at: null, attemptedBatch: 0, ...start,
      };
      runs.set(run.id, run);
      return run;
    },

    /** Forgets the checkpoint and stamps the reset: runs requested before it pass no cursor on. */
    resetProgress(pipeline: StoredPipeline): void {
      checkpoints.delete(pipeline.id);
      pipeline.resetAt = stamp();
    },

    deletePipeline(id: string): void {
      pipelines.delete(id);
      checkpoints.delete(id);
      for (const run of runsOf(id)) runs.delete(run.id);
    },

    applyProgress(run: StoredRun, progress: BatchProgress): void {
      const sizes = { ...run.batch_sizes };
      if (progress.batchSize !== undefined) sizes[String(progress.batchSize)] = (sizes[String(progress.batchSize)] ?? 0) + 1;
      Object.assign(run, {
        cursor: progress.to, rows_read: run.rows_read + progress.rowsRead, rows_written: run.rows_written + progress.rowsWritten, rows_dropped: run.rows_dropped + progress.rowsDropped,
        rows_deleted: run.rows_deleted + (progress.rowsDeleted ?? 0), batches: run.batches + 1, heartbeat_at: stamp(), batch_sizes: sizes, next_batch_size: progress.nextBatchSize ?? run.next_batch_size,
      });
      if (progress.checkpoint && progress.to) {
        checkpoints.set(run.pipeline_id, { pipeline_id: run.pipeline_id, last_value: progress.to[0] ?? null, last_id: progress.to[1] ?? null, run_id: run.id, updated_at: stamp() });
      }
    },
  };
}
