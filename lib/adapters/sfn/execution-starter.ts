/**
 * Starts and describes run executions through the Step Functions API: AWS, LocalStack or the
 * local endpoint, whichever `endpoint` points at (unset on AWS).
 */
import { ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, StartExecutionCommand, DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { UpstreamUnavailableError } from '../../core/errors.ts';
import type { ExecutionInput, ExecutionStarter, ExecutionStatus } from '../../core/ports.ts';

export interface SfnExecutionStarterOptions {
  stateMachineArn: string;
  region: string;
  endpoint?: string | undefined;
}

export function createSfnExecutionStarter(options: SfnExecutionStarterOptions): ExecutionStarter {
  const client = new SFNClient({
    region: options.region,
    ...(options.endpoint
      ? { endpoint: options.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
    maxAttempts: 3,
    // Three attempts must end well inside the HTTP function's 25 s: a request that times out in
    // the SDK is answered (and its run failed) by our code, not cut off by the Lambda timeout.
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
  });
  const executionArnOf = (name: string) => `${options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  return {
    executionArn: executionArnOf,

    async start(name: string, input: ExecutionInput) {
      try {
        const result = await client.send(new StartExecutionCommand({ stateMachineArn: options.stateMachineArn, name, input: JSON.stringify(input) }));
        return { executionArn: result.executionArn! };
      } catch (error) {
        // Starting the same name twice (a retried step) is fine when the first start took.
        if (error instanceof ExecutionAlreadyExists) {
          const executionArn = executionArnOf(name);
          const existing = await client.send(new DescribeExecutionCommand({ executionArn }));
          if (existing.input && JSON.stringify(JSON.parse(existing.input)) === JSON.stringify(input)) return { executionArn };
        }
        throw new UpstreamUnavailableError(`Step Functions did not start execution ${name}: ${(error as Error).message}`, { cause: error });
      }
    },

    async describe(executionArn: string) {
      try {
        const result = await client.send(new DescribeExecutionCommand({ executionArn }));
        return { status: (result.status ?? 'RUNNING') as ExecutionStatus, error: result.error ?? null, cause: result.cause ?? null };
      } catch (error) {
        // An execution Step Functions no longer knows (expired, or a restarted local endpoint) runs nothing.
        if (error instanceof ExecutionDoesNotExist) return { status: 'NOT_FOUND' as const };
        throw new UpstreamUnavailableError(`Step Functions did not describe execution ${executionArn}: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}
