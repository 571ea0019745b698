import { ConflictException, ResourceNotFoundException, ValidationException } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { createEventBridgeScheduler } from '../../lib/adapters/scheduler/eventbridge-scheduler.ts';
import { UpstreamUnavailableError, ValidationError } from '../../lib/core/errors.ts';

const PIPELINE = '0b9c7a52-3f1e-4c55-9a51-7d2f4e1b6c10';
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:etl-prod-run-pipeline';
const ROLE = 'arn:aws:iam::123456789012:role/etl-prod-scheduler';

/** A stand-in for the SDK client: records each command's class and input, answers from `reply`. */
function fakeClient(reply: (command: string, input: Record<string, unknown>) => unknown = () => ({})) {
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ command: command.constructor.name, input: command.input });
      const answer = reply(command.constructor.name, command.input);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { sent, client: client as never };
}

const notFound = () => new ResourceNotFoundException({ message: 'Schedule not found', Message: 'Schedule not found', $metadata: {} });
const scheduler = (client: never) => createEventBridgeScheduler({ groupName: 'etl-prod', roleArn: ROLE, stateMachineArn: STATE_MACHINE, region: 'eu-west-1', client });

const expectedTarget = {
  Arn: STATE_MACHINE,
  RoleArn: ROLE,
  Input: JSON.stringify({ pipeline_id: PIPELINE, scheduled_at: '<aws.scheduler.scheduled-time>' }),
  RetryPolicy: { MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 5 },
};

describe('the EventBridge Scheduler adapter', () => {
  it('creates a new schedule in the deployment group: UTC, no flexible window, StartExecution with the pipeline id and the tick time', async () => {
    const { sent, client } = fakeClient((command) => (command === 'GetScheduleCommand' ? notFound() : { ScheduleArn: 'arn' }));
    const startAt = new Date('2026-03-01T10:05:00Z');
    await scheduler(client).put(PIPELINE, 'rate(5 minutes)', startAt);
    expect(sent).toEqual([
      { command: 'GetScheduleCommand', input: { Name: `pipeline-${PIPELINE}`, GroupName: 'etl-prod' } },
      {
        command: 'CreateScheduleCommand',
        input: {
          Name: `pipeline-${PIPELINE}`,
          GroupName: 'etl-prod',
          Description: `ETL pipeline ${PIPELINE}`,
          ScheduleExpression: 'rate(5 minutes)',
          ScheduleExpressionTimezone: 'UTC',
          StartDate: startAt,
          FlexibleTimeWindow: { Mode: 'OFF' },
          State: 'ENABLED',
          ActionAfterCompletion: 'NONE',
          Target: expectedTarget,
        },
      },
    ]);
    expect((`pipeline-${PIPELINE}`).length).toBeLessThanOrEqual(64);
  });

  it('replaces an existing schedule with UpdateSchedule carrying the whole definition; a cron has no StartDate', async () => {
    const { sent, client } = fakeClient(() => ({}));
    await scheduler(client).put(PIPELINE, 'cron(0 3 ? * MON-FRI *)', null);
    expect(sent.map((s) => s.command)).toEqual(['GetScheduleCommand', 'UpdateScheduleCommand']);
    expect(sent[1]!.input).toEqual({
      Name: `pipeline-${PIPELINE}`,
      GroupName: 'etl-prod',
      Description: `ETL pipeline ${PIPELINE}`,
      ScheduleExpression: 'cron(0 3 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      ActionAfterCompletion: 'NONE',
      Target: expectedTarget,
    });
  });

  it('deletes by name in the group, and a schedule already gone is not an error', async () => {
    const { sent, client } = fakeClient(() => notFound());
    await scheduler(client).remove(PIPELINE);
    expect(sent).toEqual([{ command: 'DeleteScheduleCommand', input: { Name: `pipeline-${PIPELINE}`, GroupName: 'etl-prod' } }]);
  });

  it("turns Scheduler's validation refusal into a 400 naming schedule, anything else into a 503", async () => {
    const refusing = fakeClient((command) => (command === 'GetScheduleCommand' ? notFound() : new ValidationException({ message: 'Invalid Schedule Expression', Message: 'Invalid Schedule Expression', $metadata: {} })));
    await expect(scheduler(refusing.client).put(PIPELINE, 'rate(1 minute)', null)).rejects.toThrow(new ValidationError('schedule: EventBridge Scheduler refused it: Invalid Schedule Expression', 'schedule'));
    const conflicting = fakeClient(() => new ConflictException({ message: 'busy', Message: 'busy', $metadata: {} }));
    await expect(scheduler(conflicting.client).remove(PIPELINE)).rejects.toThrow(UpstreamUnavailableError);
    await expect(scheduler(conflicting.client).remove(PIPELINE)).rejects.toThrow(`EventBridge Scheduler did not delete the schedule of pipeline ${PIPELINE}: busy`);
  });
});
