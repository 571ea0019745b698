/**
 * One EventBridge Scheduler schedule per pipeline, in the deployment's own schedule group, whose
 * target is StartExecution of the run state machine (Scheduler's templated Step Functions target)
 * through a role allowed only that. Its input is `{"pipeline_id", "scheduled_at"}`: StartRun adopts
 * or creates the run as for any execution without run_id, and `scheduled_at` (Scheduler's
 * `<aws.scheduler.scheduled-time>`) marks it as a tick (start-run.ts). Times are UTC.
 */
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { UpstreamUnavailableError, ValidationError } from '../../core/errors.ts';
import type { PipelineScheduler } from '../../core/schedule-ports.ts';

export interface EventBridgeSchedulerOptions {
  /** The deployment's schedule group (serverless.yml: etl-<stage>); the functions may touch no other. */
  groupName: string;
  /** The role Scheduler assumes: states:StartExecution on the state machine, nothing else. */
  roleArn: string;
  stateMachineArn: string;
  region: string;
  endpoint?: string | undefined;
  /** Tests pass a client that records the commands. */
  client?: Pick<SchedulerClient, 'send'>;
}

/** Names are unique per group; a pipeline id is a UUID, so this stays within Scheduler's 64 characters. */
export const scheduleNameFor = (pipelineId: string) => `pipeline-${pipelineId}`;

/**
 * A tick that Scheduler cannot deliver within five minutes is dropped rather than delivered late:
 * the next tick comes anyway, and a late one would only find the pipeline busy or run off-schedule.
 */
const RETRY_POLICY = { MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 5 };

export function createEventBridgeScheduler(options: EventBridgeSchedulerOptions): PipelineScheduler {
  const client =
    options.client ??
    new SchedulerClient({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
      maxAttempts: 3,
    });

  const fail = (what: string, pipelineId: string, error: unknown): never => {
    // Scheduler's own validation (an expression it refuses that our parser accepted) is the client's to fix.
    if (error instanceof ValidationException) throw new ValidationError(`schedule: EventBridge Scheduler refused it: ${error.message}`, 'schedule');
    throw new UpstreamUnavailableError(`EventBridge Scheduler did not ${what} the schedule of pipeline ${pipelineId}: ${(error as Error).message}`, { cause: error });
  };

  async function exists(name: string): Promise<boolean> {
    try {
      await client.send(new GetScheduleCommand({ Name: name, GroupName: options.groupName }));
      return true;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    }
  }

  return {
    async put(pipelineId, schedule, startAt) {
      const name = scheduleNameFor(pipelineId);
      const input: CreateScheduleCommandInput = {
        Name: name,
        GroupName: options.groupName,
        Description: `ETL pipeline ${pipelineId}`,
        ScheduleExpression: schedule,
        ScheduleExpressionTimezone: 'UTC',
        // Without a StartDate a rate fires at once; with it, at the same first run GET shows.
        ...(startAt ? { StartDate: startAt } : {}),
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        ActionAfterCompletion: 'NONE',
        Target: {
          Arn: options.stateMachineArn,
          RoleArn: options.roleArn,
          Input: JSON.stringify({ pipeline_id: pipelineId, scheduled_at: '<aws.scheduler.scheduled-time>' }),
          RetryPolicy: RETRY_POLICY,
        },
      };
      try {
        // UpdateSchedule replaces every field, so both calls carry the whole definition.
        if (await exists(name)) await client.send(new UpdateScheduleCommand(input));
        else await client.send(new CreateScheduleCommand(input));
      } catch (error) {
        fail('put', pipelineId, error);
      }
    },

    async remove(pipelineId) {
      try {
        await client.send(new DeleteScheduleCommand({ Name: scheduleNameFor(pipelineId), GroupName: options.groupName }));
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return;
        fail('delete', pipelineId, error);
      }
    },
  };
}
