/**
 * An in-memory ExecutionStarter: records the executions started and answers describe() with what
 * the test says about them (RUNNING once started, NOT_FOUND when never started).
 */
import { UpstreamUnavailableError } from '../../../lib/core/errors.ts';
import type { ExecutionInput, ExecutionStarter, ExecutionStatus } from '../../../lib/core/ports.ts';

const ARN_PREFIX = 'arn:aws:states:us-east-1:000000000000:execution:run-pipeline:';

export interface FakeExecutions extends ExecutionStarter {
  started: { name: string; input: ExecutionInput; executionArn: string }[];
  /** Says how an execution ended (or that it runs). */
  setStatus(name: string, status: ExecutionStatus, error?: { error: string; cause: string }): void;
  /** The next start() fails with `error` (the service did not answer). */
  failNextStart(error?: Error): void;
  /** Makes describe() fail as an unreachable service does; the stale-run rule then goes by heartbeat. */
  unreachable(yes: boolean): void;
}

export function createFakeExecutions(): FakeExecutions {
  const statuses = new Map<string, { status: ExecutionStatus; error?: string; cause?: string }>();
  const started: FakeExecutions['started'] = [];
  let startFailure: Error | null = null;
  let down = false;
  const executionArn = (name: string) => `${ARN_PREFIX}${name}`;
  return {
    started,
    executionArn,
    async start(name, input) {
      if (startFailure) {
        const error = startFailure;
        startFailure = null;
        throw error;
      }
      statuses.set(name, { status: 'RUNNING' });
      started.push({ name, input, executionArn: executionArn(name) });
      return await Promise.resolve({ executionArn: executionArn(name) });
    },
    async describe(arn) {
      if (down) throw new UpstreamUnavailableError('Step Functions did not answer (fake)');
      const known = statuses.get(arn.slice(ARN_PREFIX.length));
      return await Promise.resolve(known ?? { status: 'NOT_FOUND' as const });
    },
    setStatus(name, status, error) {
      statuses.set(name, { status, ...(error ?? {}) });
    },
    failNextStart(error = new UpstreamUnavailableError('connect ECONNREFUSED (fake)')) {
      startFailure = error;
    },
    unreachable(yes) {
      down = yes;
    },
  };
}
