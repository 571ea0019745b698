// The local Step Functions endpoint forgets finished executions by a budget of history events as
// well as by count, so that a long run of many small batches cannot grow its memory without bound.

import { readFileSync } from 'node:fs';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSfnEndpoint, type LocalSfnEndpoint, type TaskHandler } from '../local/sfn-endpoint/index.ts';

const loop = JSON.parse(readFileSync(new URL('./fixtures/loop.asl.json', import.meta.url), 'utf8')) as object;

interface Count {
  n: number;
  i?: number;
  done?: boolean;
}
const start: TaskHandler = (input) => Promise.resolve({ ...(input as Count), i: 0, done: false });
const work: TaskHandler = (input) => {
  const state = input as Count;
  const i = (state.i ?? 0) + 1;
  return Promise.resolve({ ...state, i, done: i >= state.n });
};

let endpoint: LocalSfnEndpoint;
let sfn: SFNClient;

beforeAll(async () => {
  endpoint = await startLocalSfnEndpoint({
    port: 0,
    stateMachines: [{ name: 'test-retention', definition: loop, taskHandlers: { start, work, continueAsNew: work } }],
    maxRetainedHistoryEvents: 100,
  });
  sfn = new SFNClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
}, 20_000);

afterAll(async () => {
  await endpoint.stop();
  sfn.destroy();
});

/** Runs an execution of `n` loop iterations to its end; returns its ARN. */
async function runToEnd(n: number): Promise<string> {
  const { executionArn = '' } = await sfn.send(new StartExecutionCommand({ stateMachineArn: endpoint.stateMachineArn('test-retention'), input: JSON.stringify({ n }) }));
  for (;;) {
    const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (status === 'SUCCEEDED') return executionArn;
    expect(status).toBe('RUNNING');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const historyLength = async (executionArn: string) => (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events?.length;
const describe404 = (executionArn: string) => expect(sfn.send(new DescribeExecutionCommand({ executionArn }))).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });

describe('retention of finished executions', () => {
  it('forgets the oldest finished executions once their histories pass the event budget, and always keeps the newest', async () => {
    const first = await runToEnd(5);
    // Start (5 events), 5 x (Work 5 + IsDone 2), Done (2), ExecutionStarted and ExecutionSucceeded.
    expect(await historyLength(first)).toBe(44);
    const second = await runToEnd(5);
    expect(await historyLength(first)).toBe(44); // 88 events retained: within 100
    const third = await runToEnd(5);
    await describe404(first); // 132 > 100: the oldest goes
    expect([await historyLength(second), await historyLength(third)]).toEqual([44, 44]);

    // One execution over the whole budget by itself (149 events) is kept, alone.
    const large = await runToEnd(20);
    await describe404(second);
    await describe404(third);
    expect(await historyLength(large)).toBe(149);
  });
});
