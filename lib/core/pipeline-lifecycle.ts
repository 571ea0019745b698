/**
 * When a pipeline's definition may change, be reset or be deleted: never while a run is under way,
 * and (change, delete) not while a paused run may still resume. Pure: the stores check these under
 * the pipeline row lock and then write.
 */
import { ConflictError } from './errors.ts';
import { ACTIVE_PIPELINE_STATUSES, BUSY_PIPELINE_STATUSES, type PipelineStatus } from './pipeline.ts';

export function assertChangeable(pipelineId: string, status: PipelineStatus): void {
  if (BUSY_PIPELINE_STATUSES.includes(status)) {
    throw new ConflictError(`pipeline ${pipelineId} is ${status}; change it when it is not running or paused (a paused run can be abandoned with POST /pipelines/${pipelineId}/reset)`);
  }
}

/** A reset of a PAUSED pipeline abandons its run (`abandonsPausedRun`); the pipeline becomes IDLE. */
export function resetTransition(pipelineId: string, status: PipelineStatus): { abandonsPausedRun: boolean; pipelineStatus: PipelineStatus } {
  if (ACTIVE_PIPELINE_STATUSES.includes(status)) throw new ConflictError(`pipeline ${pipelineId} is ${status}; pause it (or let it finish) before resetting it`);
  return { abandonsPausedRun: status === 'PAUSED', pipelineStatus: 'IDLE' };
}

/** The error a paused run abandoned by a reset ends with. */
export const ABANDONED_BY_RESET = {
  name: 'RunAbandonedError',
  message: 'the paused run was abandoned by a reset of the pipeline; the next run reads from the beginning',
} as const;

export function assertDeletable(pipelineId: string, status: PipelineStatus): void {
  if (!BUSY_PIPELINE_STATUSES.includes(status)) return;
  throw new ConflictError(
    status === 'PAUSED'
      ? `pipeline ${pipelineId} is PAUSED; resume it, or abandon its run with POST /pipelines/${pipelineId}/reset, before deleting it`
      : `pipeline ${pipelineId} is ${status}; pause it (then reset it) or let it finish before deleting it`,
  );
}
