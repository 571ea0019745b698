/**
 * Run requests from the API: start (or resume) a run as a new Step Functions execution, request
 * a pause, read run history and checkpoints.
 */
import { NotFoundError, UpstreamUnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { CheckpointRecord, ExecutionStarter, RunRecord, StateStore } from '../ports.ts';

export interface RequestRunsDeps {
  store: StateStore;
  executions: ExecutionStarter;
  logger: Logger;
}

export interface RunAccepted {
  run_id: string;
  execution_arn: string;
  status: string;
  resumed: boolean;
}

/** Execution names are unique per state machine: the run id plus its execution number. */
export const executionNameFor = (runId: string, executionNumber: number) => `${runId}-e${executionNumber}`;

export function createRequestRuns({ store, executions, logger }: RequestRunsDeps) {
  return {
    /**
     * Moves the pipeline to RUN_REQUESTED atomically (ConflictError when a run is active) and starts
     * the execution. If the execution cannot be started, the run is failed with that reason, so the
     * pipeline is never left waiting for an execution that does not exist.
     */
    async requestRun(pipelineId: string): Promise<RunAccepted> {
      const { run, resumed } = await store.requestRun(pipelineId);
      const name = executionNameFor(run.id, run.executions + 1);
      await store.recordExecution(run.id, name, '');
      try {
        const { executionArn } = await executions.start(name, { pipeline_id: pipelineId, run_id: run.id });
        await store.startedExecution(run.id, name, executionArn);
        logger.info('run requested', { pipeline_id: pipelineId, run_id: run.id, execution_arn: executionArn, resumed });
        return { run_id: run.id, execution_arn: executionArn, status: 'RUN_REQUESTED', resumed };
      } catch (error) {
        const message = `the execution could not be started: ${(error as Error).message}`;
        logger.error('run request failed', { pipeline_id: pipelineId, run_id: run.id, error });
        await store.failRun(run.id, name, { name: 'ExecutionStartError', message });
        throw new UpstreamUnavailableError(message, { cause: error });
      }
    },

    /** Asks a running pipeline to pause at the next batch boundary (ConflictError when not running). */
    async requestPause(pipelineId: string): Promise<{ status: string }> {
      const status = await store.requestPause(pipelineId);
      logger.info('pause requested', { pipeline_id: pipelineId });
      return { status };
    },

    listRuns: (pipelineId: string, limit = 50): Promise<RunRecord[]> => store.listRuns(pipelineId, limit),

    async getRun(pipelineId: string, runId: string): Promise<RunRecord> {
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
