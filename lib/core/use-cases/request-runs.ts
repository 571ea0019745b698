/**
 * Run requests from the API: start (or resume) a run as a new Step Functions execution, request
 * a pause, read run history and checkpoints.
 */
import { NotFoundError, UpstreamUnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { fitPage, parsePageRequest } from '../paging.ts';
import type { CheckpointRecord, ExecutionStarter, RunRecord, StateStore } from '../ports.ts';
import { createReconcileRuns, type ReconcileRuns } from './reconcile-runs.ts';
import { DEFAULT_STALE_RUN_SECONDS, createStaleRuns } from './stale-runs.ts';

export interface RequestRunsDeps {
  store: StateStore;
  executions: ExecutionStarter;
  logger: Logger;
  /** See stale-runs.ts; default 900. */
  staleRunSeconds?: number;
  /** Shared with the pipeline reads (engine.ts); built from store and executions when absent. */
  reconcile?: ReconcileRuns;
}

export interface RunAccepted {
  run_id: string;
  execution_arn: string;
  status: string;
  resumed: boolean;
  /** The pipeline's stale active run was taken over by this request's execution. */
  taken_over: boolean;
}

/** Execution names are unique per state machine: the run id plus its execution number. */
export const executionNameFor = (runId: string, executionNumber: number) => `${runId}-e${executionNumber}`;

/**
 * The name of the execution a request starts for `run`. A taken-over run may have lost an
 * execution that never claimed it (so `executions` did not count it) under the next number:
 * a random suffix keeps the takeover's name unused.
 */
export function requestedExecutionName(run: RunRecord, takenOver: boolean): string {
  const name = executionNameFor(run.id, run.executions + 1);
  return takenOver ? `${name}-t${Math.random().toString(36).slice(2, 8)}` : name;
}

export function createRequestRuns({ store, executions, logger, staleRunSeconds = DEFAULT_STALE_RUN_SECONDS, reconcile = createReconcileRuns({ store, executions, logger }) }: RequestRunsDeps) {
  const staleRuns = createStaleRuns({ store, executions, logger, staleRunSeconds });
  /** Reads see the run as Step Functions does: a run whose execution ended is FAILED first. */
  const reconciled = async (pipelineId: string) => {
    await reconcile.pipeline(pipelineId);
  };
  return {
    /**
     * Moves the pipeline to RUN_REQUESTED atomically and starts the execution. When a run is active,
     * answers ConflictError while its execution is alive, and takes the run over when it is stale
     * (stale-runs.ts): same run, same cursor, a new owning execution. If the execution cannot be
     * started, the run is failed with that reason, so the pipeline is never left waiting for an
     * execution that does not exist. With `resume: false` (a schedule's tick) a PAUSED pipeline
     * answers ConflictError instead of resuming.
     */
    async requestRun(pipelineId: string, options: { resume?: boolean } = {}): Promise<RunAccepted> {
      await reconciled(pipelineId);
      const takeOver = await staleRuns.check(pipelineId);
      const { run, resumed, takenOver = false } = await store.requestRun(pipelineId, {
        ...(takeOver ? { takeOver } : {}),
        ...(options.resume === false ? { resume: false } : {}),
        nameExecution: requestedExecutionName,
      });
      const name = run.execution_name!;
      if (takenOver) logger.warn('stale run taken over', { pipeline_id: pipelineId, run_id: run.id, reason: takeOver?.reason, previous_execution: takeOver?.executionName, execution: name });
      try {
        const { executionArn } = await executions.start(name, { pipeline_id: pipelineId, run_id: run.id });
        await store.startedExecution(run.id, name, executionArn);
        logger.info('run requested', { pipeline_id: pipelineId, run_id: run.id, execution_arn: executionArn, resumed, taken_over: takenOver });
        return { run_id: run.id, execution_arn: executionArn, status: 'RUN_REQUESTED', resumed, taken_over: takenOver };
      } catch (error) {
        const message = `the execution could not be started: ${(error as Error).message}`;
        logger.error('run request failed', { pipeline_id: pipelineId, run_id: run.id, error });
        await store.failRun(run.id, name, { name: 'ExecutionStartError', message });
        throw new UpstreamUnavailableError(message, { cause: error });
      }
    },

    /** Asks a running pipeline to pause at the next batch boundary (ConflictError when not running). */
    async requestPause(pipelineId: string): Promise<{ status: string }> {
      await reconciled(pipelineId);
      const status = await store.requestPause(pipelineId);
      logger.info('pause requested', { pipeline_id: pipelineId });
      return { status };
    },

    /** One page of the pipeline's runs, newest first: `limit` and `after` from the query string (paging.ts). */
    async listRuns(pipelineId: string, query: Readonly<Record<string, string | undefined>> = {}): Promise<{ runs: RunRecord[]; next: string | null }> {
      const page = parsePageRequest('runs', query);
      await reconciled(pipelineId);
      const { items, next } = fitPage('runs', await store.listRuns(pipelineId, { ...page, limit: page.limit + 1 }), page.limit, (run) => run.id);
      return { runs: items, next };
    },

    async getRun(pipelineId: string, runId: string): Promise<RunRecord> {
      await reconciled(pipelineId).catch((error: unknown) => {
        if (!(error instanceof NotFoundError)) throw error;
      });
      const run = await store.getRun(pipelineId, runId);
      if (!run) throw new NotFoundError(`run ${runId} of pipeline ${pipelineId} not found`);
      return run;
    },

    async getCheckpoint(pipelineId: string): Promise<CheckpointRecord> {
      const checkpoint = await store.getCheckpoint(pipelineId);
      if (!checkpoint) throw new NotFoundError(`pipeline ${pipelineId} not found`);
      return checkpoint;
    },
  };
}

export type RequestRuns = ReturnType<typeof createRequestRuns>;
