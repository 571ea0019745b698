// The local Step Functions endpoint, driven only through @aws-sdk/client-sfn (and raw HTTP for the
// protocol edges), running the loop fixture with in-process task handlers.

import { readFileSync } from 'node:fs';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListActivitiesCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { DescribeExecutionCommandOutput, ExecutionStatus, HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSfnEndpoint } from '../local/sfn-endpoint/index.ts';
import type { LocalSfnEndpoint, TaskContext, TaskHandler } from '../local/sfn-endpoint/index.ts';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/loop.asl.json', import.meta.url), 'utf8')) as {
  States: Record<string, Record<string, unknown>>;
};

interface LoopState {
  scenario: 'count' | 'flaky' | 'fatal' | 'block' | 'continue';
  key?: string;
  n?: number;
  i?: number;
  generation?: number;
  done?: boolean;
  continueAsNew?: boolean;
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

// Test-controlled state shared with the handlers.
const workCalls = new Map<string, number>();
const blockedSignals: AbortSignal[] = [];
let releaseBlocked: () => void = () => undefined;
const blockGate = new Promise<void>((resolve) => (releaseBlocked = resolve));
const continuedFrom: string[] = [];
let endpoint: LocalSfnEndpoint;
let sfn: SFNClient;

const start: TaskHandler = (input) => Promise.resolve({ ...(input as LoopState), i: 0, done: false });

const work: TaskHandler = async (raw, ctx?: TaskContext) => {
  const input = raw as LoopState;
  const key = input.key ?? 'default';
  const calls = (workCalls.get(key) ?? 0) + 1;
  workCalls.set(key, calls);
  const i = (input.i ?? 0) + 1;
  switch (input.scenario) {
    case 'flaky':
      if (calls <= 2) throw namedError('TransientError', `connection lost (attempt ${calls})`);
      return { ...input, i, done: true };
    case 'fatal':
      throw namedError('PermanentError', 'bad row 42');
    case 'block':
      // Ignores the abort signal on purpose: the endpoint must not depend on handlers cooperating.
      if (ctx) blockedSignals.push(ctx.signal);
      await blockGate;
      return { ...input, i, done: true };
    case 'continue':
      if ((input.generation ?? 1) < 2) return { ...input, i, continueAsNew: true };
      return { ...input, i, done: i >= (input.n ?? 1) };
    default:
      return { ...input, i, done: i >= (input.n ?? 1) };
  }
};

// "Continue as new": a step of the running execution starts a fresh one on the same endpoint.
const continueAsNew: TaskHandler = async (raw) => {
  const { state, executionArn, stateMachineArn } = raw as { state: LoopState; executionArn: string; stateMachineArn: string };
  continuedFrom.push(executionArn);
  const next = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn,
      input: JSON.stringify({ ...state, generation: (state.generation ?? 1) + 1, i: 0, continueAsNew: false }),
    }),
  );
  return { continuedAs: next.executionArn };
};

const taskHandlers = { start, work, continueAsNew };

function variant(patch: (d: typeof fixture) => void): object {
  const copy = structuredClone(fixture);
  patch(copy);
  return copy;
}

beforeAll(async () => {
  endpoint = await startLocalSfnEndpoint({
    port: 0,
    stateMachines: [
      { name: 'test-loop', definition: fixture, taskHandlers },
      { name: 'test-loop-timeout', definition: variant((d) => Object.assign(d, { TimeoutSeconds: 1 })), taskHandlers },
      { name: 'test-loop-task-timeout', definition: variant((d) => Object.assign(d.States['Work'] ?? {}, { TimeoutSeconds: 1 })), taskHandlers },
    ],
    retryIntervalOverrides: { Work: 0 },
  });
  sfn = new SFNClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}, 20_000);

afterAll(async () => {
  releaseBlocked();
  await endpoint.stop();
  sfn.destroy();
});

const arnOf = (name = 'test-loop'): string => endpoint.stateMachineArn(name);

async function startExecution(input: LoopState, opts: { name?: string; machine?: string } = {}): Promise<string> {
  const out = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: arnOf(opts.machine), name: opts.name, input: JSON.stringify(input) }),
  );
  expect(out.startDate).toBeInstanceOf(Date);
  return out.executionArn ?? '';
}

async function waitForStatus(executionArn: string, until: ExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status && until.includes(d.status)) return d;
    if (Date.now() > deadline) throw new Error(`${executionArn} still ${d.status}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const out = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return out.events ?? [];
}

describe('local Step Functions endpoint', () => {
  it('runs an execution asynchronously to SUCCEEDED with the final state as output', async () => {
    const arn = await startExecution({ scenario: 'count', key: 'count', n: 3 });
    expect(arn).toMatch(/^arn:aws:states:us-east-1:000000000000:execution:test-loop:[0-9a-f-]{36}$/);
    const d = await waitForStatus(arn);
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.parse(d.output ?? 'null')).toEqual({ scenario: 'count', key: 'count', n: 3, i: 3, done: true });
    expect(d.stopDate?.getTime()).toBeGreaterThanOrEqual(d.startDate?.getTime() ?? Infinity);
    expect(workCalls.get('count')).toBe(3);
  });

  it('retries a handler that throws a retryable error name, then succeeds', async () => {
    const arn = await startExecution({ scenario: 'flaky', key: 'flaky' });
    const d = await waitForStatus(arn);
    expect(d.status).toBe('SUCCEEDED');
    expect(workCalls.get('flaky')).toBe(3);
    const failures = (await history(arn)).filter((e) => e.type === 'LambdaFunctionFailed');
    expect(failures.map((e) => e.lambdaFunctionFailedEventDetails)).toEqual([
      { error: 'TransientError', cause: 'connection lost (attempt 1)' },
      { error: 'TransientError', cause: 'connection lost (attempt 2)' },
    ]);
  });

  it('routes a non-retried error name to the Catch and fails the execution with it', async () => {
    const arn = await startExecution({ scenario: 'fatal', key: 'fatal' });
    const d = await waitForStatus(arn);
    expect(d).toMatchObject({ status: 'FAILED', error: 'PermanentError', cause: 'bad row 42' });
    expect(workCalls.get('fatal')).toBe(1);
    const events = await history(arn);
    const failEntered = events.find((e) => e.type === 'FailStateEntered');
    // The Catch ResultPath payload has AWS's shape.
    expect(JSON.parse(failEntered?.stateEnteredEventDetails?.input ?? '{}')).toMatchObject({
      error: { Error: 'PermanentError', Cause: 'bad row 42' },
    });
    expect(events.at(-1)).toMatchObject({ type: 'ExecutionFailed', executionFailedEventDetails: { error: 'PermanentError', cause: 'bad row 42' } });
  });

  it('StopExecution aborts a running execution even when its handler ignores the signal', async () => {
    const arn = await startExecution({ scenario: 'block', key: 'stop' });
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('RUNNING');
    const stopped = await sfn.send(new StopExecutionCommand({ executionArn: arn, error: 'Operator', cause: 'stopped by test' }));
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(d).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by test' });
    expect(blockedSignals.at(-1)?.aborted).toBe(true);
    expect((await history(arn)).at(-1)).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Operator', cause: 'stopped by test' },
    });
  });

  it('ListExecutions filters by statusFilter, newest first', async () => {
    const ok = await startExecution({ scenario: 'count', key: 'list-ok', n: 1 });
    const bad = await startExecution({ scenario: 'fatal', key: 'list-bad' });
    await waitForStatus(ok);
    await waitForStatus(bad);
    const list = async (statusFilter?: ExecutionStatus) =>
      ((await sfn.send(new ListExecutionsCommand({ stateMachineArn: arnOf(), statusFilter }))).executions ?? []).map((e) => e.executionArn);
    const succeeded = await list('SUCCEEDED');
    const failed = await list('FAILED');
    expect(succeeded).toContain(ok);
    expect(succeeded).not.toContain(bad);
    expect(failed).toContain(bad);
    expect(failed).not.toContain(ok);
    const all = await list();
    expect(all.indexOf(bad)).toBeLessThan(all.indexOf(ok));
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arnOf(), maxResults: 1 }));
    expect(page.executions).toHaveLength(1);
    expect(page.nextToken).toEqual(expect.any(String));
  });

  it('GetExecutionHistory returns ordered events starting with ExecutionStarted', async () => {
    const arn = await startExecution({ scenario: 'count', key: 'history', n: 2 });
    await waitForStatus(arn);
    const events = await history(arn);
    expect(events[0]).toMatchObject({ type: 'ExecutionStarted', id: 1, previousEventId: 0 });
    expect(JSON.parse(events[0]?.executionStartedEventDetails?.input ?? '{}')).toEqual({ scenario: 'count', key: 'history', n: 2 });
    events.forEach((e, i) => {
      expect(e.id).toBe(i + 1);
      expect(e.previousEventId).toBeLessThan(e.id ?? 0);
      expect(e.timestamp).toBeInstanceOf(Date);
    });
    expect(events.slice(1, 6).map((e) => e.type)).toEqual([
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
    ]);
    expect(events[2]?.lambdaFunctionScheduledEventDetails).toMatchObject({
      resource: 'arn:aws:lambda:us-east-1:000000000000:function:start',
      timeoutInSeconds: 10,
    });
    expect(events.filter((e) => e.type === 'ChoiceStateEntered')).toHaveLength(2);
    expect(events.at(-2)).toMatchObject({ type: 'SucceedStateExited' });
    expect(events.at(-1)?.type).toBe('ExecutionSucceeded');

    const reversed = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 2 }));
    expect(reversed.events?.map((e) => e.id)).toEqual([events.length, events.length - 1]);
    expect(reversed.nextToken).toEqual(expect.any(String));
  });

  it('answers with the AWS error names the SDK maps to exceptions', async () => {
    const unknown = `arn:aws:states:us-east-1:000000000000:execution:test-loop:does-not-exist`;
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: unknown }))).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' }))).rejects.toMatchObject({ name: 'InvalidArn' });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:nope' })),
    ).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: arnOf(), input: '{not json' }))).rejects.toMatchObject({
      name: 'InvalidExecutionInput',
    });
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: arnOf(), name: 'has space' }))).rejects.toMatchObject({ name: 'InvalidName' });
  });

  it('treats an execution name as unique per state machine', async () => {
    const input = { scenario: 'block', key: 'named' } as const;
    const first = await startExecution(input, { name: 'nightly-1' });
    expect(first).toBe(`${arnOf().replace(':stateMachine:', ':execution:')}:nightly-1`);
    // Same name and input while RUNNING: an idempotent retry that returns the same execution.
    expect(await startExecution(input, { name: 'nightly-1' })).toBe(first);
    await expect(startExecution({ ...input, key: 'other' }, { name: 'nightly-1' })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    await sfn.send(new StopExecutionCommand({ executionArn: first }));
    // Once closed, the name cannot be reused even with the same input.
    await expect(startExecution(input, { name: 'nightly-1' })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    // Names are per state machine.
    const other = await startExecution({ scenario: 'count', key: 'named-other', n: 1 }, { name: 'nightly-1', machine: 'test-loop-timeout' });
    expect((await waitForStatus(other)).status).toBe('SUCCEEDED');
  });

  it('lets a step start a fresh execution of the same machine through the endpoint (continue as new)', async () => {
    const first = await startExecution({ scenario: 'continue', key: 'can', n: 2, generation: 1 });
    const d1 = await waitForStatus(first);
    expect(d1.status).toBe('SUCCEEDED');
    expect(continuedFrom).toContain(first); // $$.Execution.Id reached the handler
    const { continuedAs } = JSON.parse(d1.output ?? '{}') as { continuedAs: string };
    expect(continuedAs).toMatch(/:execution:test-loop:/);
    expect(continuedAs).not.toBe(first);
    const d2 = await waitForStatus(continuedAs);
    expect(d2.status).toBe('SUCCEEDED');
    expect(JSON.parse(d2.output ?? '{}')).toMatchObject({ generation: 2, i: 2, done: true });
  });

  it('times out an execution after the machine TimeoutSeconds', async () => {
    const arn = await startExecution({ scenario: 'block', key: 'exec-timeout' }, { machine: 'test-loop-timeout' });
    const d = await waitForStatus(arn);
    expect(d).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect((await history(arn)).at(-1)?.type).toBe('ExecutionTimedOut');
  });

  it('fails a Task after its TimeoutSeconds with States.Timeout', async () => {
    const arn = await startExecution({ scenario: 'block', key: 'task-timeout' }, { machine: 'test-loop-task-timeout' });
    const d = await waitForStatus(arn);
    expect(d).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect((await history(arn)).some((e) => e.type === 'LambdaFunctionTimedOut')).toBe(true);
  });

  it('describes its state machines with Fn::GetAtt resolved to Lambda ARNs', async () => {
    const machines = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? [];
    expect(machines.map((m) => m.name)).toEqual(['test-loop', 'test-loop-timeout', 'test-loop-task-timeout']);
    const d = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arnOf() }));
    expect(d).toMatchObject({ name: 'test-loop', type: 'STANDARD', status: 'ACTIVE' });
    const definition = JSON.parse(d.definition ?? '{}') as typeof fixture;
    expect(definition.States['Work']?.['Resource']).toBe('arn:aws:lambda:us-east-1:000000000000:function:work');
  });

  it('rejects an unsupported or foreign X-Amz-Target clearly', async () => {
    const err: unknown = await sfn.send(new ListActivitiesCommand({})).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'UnknownOperationException', $metadata: { httpStatusCode: 400 } });
    expect((err as Error).message).toMatch(/ListActivities is not supported.*StartExecution/);
    const res = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { __type: string; message: string };
    expect(body.__type).toBe('UnknownOperationException');
    expect(body.message).toMatch(/AWSStepFunctions\.<Action>/);
  });
});

describe('local Step Functions endpoint shutdown', () => {
  it('stop() aborts running executions and closes the server', async () => {
    const logs: Record<string, unknown>[] = [];
    const own = await startLocalSfnEndpoint({
      port: 0,
      stateMachines: [{ name: 'shutdown-loop', definition: fixture, taskHandlers }],
      log: (e) => logs.push(e),
    });
    const client = new SFNClient({ endpoint: own.url, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 });
    try {
      const started = await client.send(
        new StartExecutionCommand({ stateMachineArn: own.stateMachineArn('shutdown-loop'), input: JSON.stringify({ scenario: 'block', key: 'shutdown' }) }),
      );
      const t0 = Date.now();
      await own.stop();
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(logs).toContainEqual(expect.objectContaining({ event: 'execution.finished', executionArn: started.executionArn, status: 'ABORTED' }));
      await expect(fetch(own.url, { method: 'GET' })).rejects.toThrow();
    } finally {
      client.destroy();
    }
  });
});
