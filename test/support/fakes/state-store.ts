/**
 * An in-memory StateStore for the use-case tests. It applies the run lifecycle through the same
 * pure rules as the PostgreSQL store (lib/core/run-lifecycle.ts, run-ownership.ts,
 * pipeline-lifecycle.ts), so a use-case test exercises the real rules without a database. Each
 * method runs without awaiting in between, so it is as atomic as the store's transactions.
 */
import { ConflictError, NotFoundError, RunStateError } from '../../../lib/core/errors.ts';
import { ACTIVE_PIPELINE_STATUSES } from '../../../lib/core/pipeline.ts';
import { ABANDONED_BY_RESET, assertChangeable, assertDeletable, resetTransition } from '../../../lib/core/pipeline-lifecycle.ts';
import { claimedPipelineStatus, decideRunRequest, pauseRequested, requestOutcome, resumePoint, startCursor } from '../../../lib/core/run-lifecycle.ts';
import { advanceRefusal, assertClaimable, assertHandOver, batchAttempt, finishTransition, idleSeconds, type FinishedRunStatus, type UnchangedSince } from '../../../lib/core/run-ownership.ts';
import type { Pipeline } from '../../../lib/core/pipeline.ts';
import type { ClaimRequest, RunRecord, RunRequestOptions, RunRequestResult, StateStore } from '../../../lib/core/ports.ts';
import { createFakeClock, type FakeClock } from './clock.ts';
import { createFakeRecords, type StoredRun } from './state-records.ts';

export interface FakeStateStore extends StateStore {
  clock: FakeClock;
  /** Every run of every pipeline, as stored (for assertions). */
  runs(): RunRecord[];
}

export function createFakeStateStore(clock: FakeClock = createFakeClock()): FakeStateStore {
  const records = createFakeRecords(clock);
  const { pipelineOf, runOf, activeOf, stamp } = records;
  const owned = (run: StoredRun) => ({ id: run.id, pipelineId: run.pipeline_id, status: run.status, executionName: run.execution_name });
  const idle = (run: StoredRun) => idleSeconds(clock.now(), { heartbeatAt: run.heartbeat_at ? new Date(run.heartbeat_at) : null, requestedAt: new Date(run.requested_at) });
  const micros = (iso: string) => new Date(iso).getTime() * 1000;

  function createRun(pipeline: Pipeline & { resetAt: string | null }): StoredRun {
    const runs = records.runsOf(pipeline.id);
    const succeeded = runs.filter((r) => r.status === 'SUCCEEDED').map((r) => micros(r.requested_at));
    const failed = runs.filter((r) => r.status === 'FAILED' && r.cursor !== null).sort((a, b) => micros(b.requested_at) - micros(a.requested_at))[0];
    const from = resumePoint({
      mode: pipeline.mode,
      resetAt: pipeline.resetAt ? micros(pipeline.resetAt) : null,
      lastSucceededAt: succeeded.length ? Math.max(...succeeded) : null,
      latestFailed: failed ? { id: failed.id, cursor: failed.cursor!, horizon: failed.horizon, requestedAt: micros(failed.requested_at) } : null,
    });
    return records.insertRun(pipeline, { cursor: from?.cursor ?? null, horizon: from?.horizon ?? null, resumed_from: from?.resumedFrom ?? null });
  }

  /** The one run-creation path, as run-creation.ts: requests and adoptions alike. */
  function requestLocked(pipelineId: string, options: RunRequestOptions): RunRequestResult {
    const pipeline = pipelineOf(pipelineId);
    const active = activeOf(pipelineId);
    const decision = decideRunRequest({
      pipelineId,
      pipelineStatus: pipeline.status,
      activeRun: active ? { id: active.id, status: active.status, executionName: active.execution_name, idleSeconds: idle(active) } : null,
      resume: options.resume !== false,
      takeOver: options.takeOver ?? null,
    });
    if (decision.action === 'refuse') throw new ConflictError(decision.message);
    const run = decision.action === 'create' ? createRun(pipeline) : active!;
    const { resumed, takenOver } = requestOutcome(decision);
    const name = options.nameExecution?.(records.record(run), takenOver) ?? null;
    run.heartbeat_at = stamp();
    if (name !== null) Object.assign(run, { execution_name: name, execution_arn: '' });
    records.setStatus(pipeline, 'RUN_REQUESTED');
    return { run: records.record(run), resumed, takenOver };
  }

  function finish(runId: string, executionName: string | null, to: FinishedRunStatus, error?: { name: string; message: string }, unchanged?: UnchangedSince, rowsDeleted = 0): RunRecord {
    const run = runOf(runId);
    const pipeline = pipelineOf(run.pipeline_id);
    const next = finishTransition(owned(run), pipeline.status, executionName, to, unchanged);
    Object.assign(run, { status: next.runStatus, heartbeat_at: stamp(), finished_at: next.finished ? stamp() : null, error: error ?? run.error, rows_deleted: run.rows_deleted + rowsDeleted });
    records.setStatus(pipeline, next.pipelineStatus);
    return records.record(run);
  }

  function adopt(request: ClaimRequest): string {
    const { takeOver, resume, executionName } = request;
    try {
      return requestLocked(request.pipelineId, { ...(takeOver ? { takeOver } : {}), ...(resume === false ? { resume } : {}), ...(executionName !== null ? { nameExecution: () => executionName } : {}) }).run.id;
    } catch (error) {
      throw error instanceof ConflictError ? new RunStateError(error.message, { cause: error }) : error;
    }
  }

  return {
    ...records.pipelineReads,
    clock,
    runs: () => records.allRuns().map(records.record),

    async createPipeline(definition) {
      return await Promise.resolve(records.insertPipeline(definition));
    },
    async updatePipeline(id, definition, options) {
      const pipeline = pipelineOf(id, NotFoundError);
      assertChangeable(id, pipeline.status);
      if (options.reset) records.resetProgress(pipeline);
      Object.assign(pipeline, definition, { updated_at: stamp() });
      return await Promise.resolve(records.pipelineView(pipeline));
    },
    async resetPipeline(id) {
      const pipeline = pipelineOf(id, NotFoundError);
      const reset = resetTransition(id, pipeline.status);
      const paused = activeOf(id);
      if (reset.abandonsPausedRun && paused?.status === 'PAUSED') Object.assign(paused, { status: 'FAILED', finished_at: stamp(), error: { ...ABANDONED_BY_RESET } });
      records.resetProgress(pipeline);
      records.setStatus(pipeline, reset.pipelineStatus);
      return await Promise.resolve(records.pipelineView(pipeline));
    },
    async deletePipeline(id) {
      assertDeletable(id, pipelineOf(id, NotFoundError).status);
      records.deletePipeline(id);
      await Promise.resolve();
    },

    async requestRun(pipelineId, options = {}) {
      pipelineOf(pipelineId, NotFoundError);
      return await Promise.resolve(requestLocked(pipelineId, options));
    },
    async activeRun(pipelineId) {
      const pipeline = pipelineOf(pipelineId, NotFoundError);
      if (!ACTIVE_PIPELINE_STATUSES.includes(pipeline.status)) return null;
      const run = activeOf(pipelineId);
      return await Promise.resolve({ pipelineStatus: pipeline.status, run: run ? records.record(run) : null, idleSeconds: run ? idle(run) : Number.POSITIVE_INFINITY });
    },
    async requestPause(pipelineId) {
      const pipeline = pipelineOf(pipelineId, NotFoundError);
      records.setStatus(pipeline, pauseRequested(pipelineId, pipeline.status));
      return await Promise.resolve(pipeline.status);
    },

    async claimRun(request) {
      const pipeline = pipelineOf(request.pipelineId, RunStateError);
      const pipelineStatus = pipeline.status;
      const run = runOf(request.runId ?? adopt(request));
      assertClaimable(owned(run), pipeline.id, request.executionName);
      const firstStart = run.started_at === null;
      const checkpoint = records.checkpointOf(pipeline.id);
      const cursor = startCursor({ mode: run.mode, firstStart, cursor: run.cursor }, checkpoint && { lastValue: checkpoint.last_value, lastId: checkpoint.last_id });
      Object.assign(run, { status: 'RUNNING', started_at: run.started_at ?? stamp(), heartbeat_at: stamp(), executions: run.executions + 1, execution_arn: request.executionArn ?? run.execution_arn, cursor });
      records.setStatus(pipeline, claimedPipelineStatus(pipelineStatus));
      return await Promise.resolve({ run: records.record(run), pipeline: records.pipelineView(pipeline), firstStart });
    },
    async setHorizon(runId, horizon) {
      runOf(runId).horizon = horizon;
      await Promise.resolve();
    },
    async beginBatchAttempt(runId, executionName) {
      const run = runOf(runId);
      const { retry } = batchAttempt({ ...owned(run), batches: run.batches, attemptedBatch: run.attemptedBatch }, executionName);
      Object.assign(run, { attemptedBatch: run.batches + 1, retries: run.retries + (retry ? 1 : 0), heartbeat_at: stamp() });
      return await Promise.resolve({ run: records.record(run), pipeline: records.pipelineView(pipelineOf(run.pipeline_id)), retry });
    },
    async advance(_tx, progress) {
      const run = records.findRun(progress.runId);
      const refusal = advanceRefusal(run ? { ...owned(run), cursor: run.cursor } : null, progress);
      if (refusal) throw refusal;
      records.applyProgress(run!, progress);
      await Promise.resolve();
    },
    completeRun: async (runId, executionName, outcome) => await Promise.resolve(finish(runId, executionName, 'SUCCEEDED', undefined, undefined, outcome?.rowsDeleted)),
    pauseRun: async (runId, executionName) => await Promise.resolve(finish(runId, executionName, 'PAUSED')),
    failRun: async (runId, executionName, error) => await Promise.resolve(finish(runId, executionName, 'FAILED', error)),
    failUnchangedRun: async (runId, executionName, runStatus, error) => await Promise.resolve(finish(runId, executionName, 'FAILED', error, { runStatus })),
    async startedExecution(runId, executionName, executionArn) {
      const run = records.findRun(runId);
      if (run?.execution_name === executionName) run.execution_arn = executionArn;
      await Promise.resolve();
    },
    async handOver(runId, fromExecution, toExecution) {
      const run = records.findRun(runId);
      assertHandOver(run ? owned(run) : null, runId, fromExecution, toExecution);
      Object.assign(run!, { execution_name: toExecution, heartbeat_at: stamp() });
      await Promise.resolve();
    },
  };
}
