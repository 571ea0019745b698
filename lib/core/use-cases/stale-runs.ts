/**
 * The stale-run rule. An active run (pipeline RUN_REQUESTED, RUNNING or PAUSE_REQUESTED) blocks
 * every other run of its pipeline; if its execution died (StopExecution from outside, a crash, an
 * endpoint restart) nothing would ever finish it. A run is stale, and may be taken over, when:
 *
 * 1. Step Functions reports its owner's execution (the run's `execution_name`, when the recorded
 *    ARN is that execution's) as no longer RUNNING, or does not know it at all; or
 * 2. Step Functions cannot tell (no ARN recorded yet, describe unsupported or unavailable) and the
 *    run has shown no life (heartbeat, else request time) for `staleRunSeconds`.
 *
 * An owner that Step Functions reports RUNNING is alive, whatever its heartbeat. A live execution
 * heartbeats at every claim, batch attempt, commit and hand-over, so its heartbeat is never older
 * than one RunBatch TimeoutSeconds plus a retry delay: `staleRunSeconds` must stay above that.
 */
import { ConflictError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ExecutionStarter, ExecutionStatus, StateStore, TakeOver } from '../ports.ts';

export interface StaleRunsDeps {
  store: StateStore;
  executions: ExecutionStarter;
  logger: Logger;
  /** Heartbeat age after which a run whose execution Step Functions cannot describe is stale. */
  staleRunSeconds: number;
}

export const DEFAULT_STALE_RUN_SECONDS = 900;

export function createStaleRuns({ store, executions, logger, staleRunSeconds }: StaleRunsDeps) {
  /** The owner's status, or null when Step Functions cannot tell. */
  async function ownerStatus(executionName: string | null, executionArn: string | null): Promise<ExecutionStatus | null> {
    // The recorded ARN may still be the previous owner's (a run handed over by ContinueAsNew, or a
    // request whose StartExecution has not answered yet): only the owner's own ARN says anything.
    if (!executions.describe || !executionName || !executionArn?.endsWith(`:${executionName}`)) return null;
    try {
      return (await executions.describe(executionArn)).status;
    } catch (error) {
      logger.warn('could not describe the execution of an active run; judging it by its heartbeat', { execution_arn: executionArn, error });
      return null;
    }
  }

  return {
    /**
     * Null when the pipeline has no active run; a TakeOver (to hand to the store, which re-checks
     * it under its locks) when the active run is stale; ConflictError when it is, or may be, alive.
     */
    async check(pipelineId: string): Promise<TakeOver | null> {
      const active = await store.activeRun(pipelineId);
      if (!active) return null;
      const { run, pipelineStatus, idleSeconds } = active;
      if (!run) return { runId: null, executionName: null, minIdleSeconds: null, reason: `pipeline is ${pipelineStatus} without an active run` };
      const status = await ownerStatus(run.execution_name, run.execution_arn);
      const base = { runId: run.id, executionName: run.execution_name };
      if (status === 'RUNNING') {
        throw new ConflictError(`pipeline ${pipelineId} is already ${pipelineStatus} (run ${run.id}, execution ${run.execution_name} is running)`);
      }
      if (status !== null) return { ...base, minIdleSeconds: null, reason: `execution ${run.execution_name} is ${status}` };
      if (idleSeconds >= staleRunSeconds) {
        return { ...base, minIdleSeconds: staleRunSeconds, reason: `no sign of life for ${Math.round(idleSeconds)} s (stale after ${staleRunSeconds} s)` };
      }
      throw new ConflictError(`pipeline ${pipelineId} is already ${pipelineStatus} (run ${run.id})`);
    },
  };
}

export type StaleRuns = ReturnType<typeof createStaleRuns>;
