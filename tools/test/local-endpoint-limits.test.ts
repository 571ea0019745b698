/**
 * The local Step Functions endpoint's limits and checks: definitions it refuses at start-up, AWS's
 * history-size limit, the finished executions it keeps, the execution-ended callback (the local
 * stand-in for the EventBridge rule), and GetExecutionHistory's paging and data options.
 */
import { readFileSync } from 'node:fs';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ExecutionStatus } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalSfnEndpoint } from '../local/sfn-endpoint/index.ts';
import type { ExecutionStatusChangeDetail, LocalSfnEndpoint, LocalSfnEndpointOptions, TaskHandler } from '../local/sfn-endpoint/index.ts';

type Definition = { States: Record<string, Record<string, unknown>> };
const fixture = JSON.parse(readFileSync(new URL('./fixtures/loop.asl.json', import.meta.url), 'utf8')) as Definition;

interface Counter {
  n: number;
  i?: number;
  fail?: boolean;
}

/** Counts to `n`, or fails with a named error when asked to. */
const work: TaskHandler = async (raw) => {
  const input = raw as Counter;
  if (input.fail) throw Object.assign(new Error('bad row 7'), { name: 'PermanentError' });
  const i = (input.i ?? 0) + 1;
  return { ...input, i, done: i >= input.n };
};
const taskHandlers: Record<string, TaskHandler> = { start: async (input) => ({ ...(input as Counter), i: 0 }), work, continueAsNew: async () => null };

function variant(patch: (definition: Definition) => void): Definition {
  const copy = structuredClone(fixture);
  patch(copy);
  return copy;
}

let endpoint: LocalSfnEndpoint | undefined;
let sfn: SFNClient | undefined;

afterEach(async () => {
  sfn?.destroy();
  await endpoint?.stop();
  endpoint = undefined;
});

async function start(options: Partial<LocalSfnEndpointOptions> = {}) {
  endpoint = await startLocalSfnEndpoint({ port: 0, stateMachines: [{ name: 'loop', definition: fixture, taskHandlers }], ...options });
  sfn = new SFNClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 });
  const client = sfn;
  const run = async (input: Counter) => (await client.send(new StartExecutionCommand({ stateMachineArn: endpoint!.stateMachineArn('loop'), input: JSON.stringify(input) }))).executionArn!;
  const finished = async (executionArn: string) => {
    for (const deadline = Date.now() + 8_000; ; ) {
      const described = await client.send(new DescribeExecutionCommand({ executionArn }));
      if (described.status !== ('RUNNING' satisfies ExecutionStatus)) return described;
      if (Date.now() > deadline) throw new Error(`${executionArn} still RUNNING`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { client, run, finished };
}

const refusal = (definition: Definition) =>
  startLocalSfnEndpoint({ port: 0, stateMachines: [{ name: 'refused', definition, taskHandlers }] });

describe('local Step Functions endpoint: definitions it refuses at start-up', () => {
  it('refuses Map and Parallel states, naming the state', async () => {
    const map = variant((d) => (d.States['Fan'] = { Type: 'Map', ItemProcessor: { StartAt: 'W', States: { W: { Type: 'Succeed' } } }, End: true }));
    await expect(refusal(map)).rejects.toThrow('state machine refused.States.Fan: Map states are not supported by the local endpoint');
    const parallel = variant((d) => (d.States['Both'] = { Type: 'Parallel', Branches: [], End: true }));
    await expect(refusal(parallel)).rejects.toThrow('state machine refused.States.Both: Parallel states are not supported by the local endpoint');
  });

  it('refuses a service integration such as lambda:invoke, and a Task whose function has no handler', async () => {
    const invoke = variant((d) => Object.assign(d.States['Work']!, { Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'work' } }));
    await expect(refusal(invoke)).rejects.toThrow('state machine refused.States.Work: Resource arn:aws:states:::lambda:invoke is not supported locally (use a Lambda ARN or Fn::GetAtt)');
    const unknown = variant((d) => Object.assign(d.States['Work']!, { Resource: { 'Fn::GetAtt': ['nowhere', 'Arn'] } }));
    await expect(refusal(unknown)).rejects.toThrow('state machine refused: no task handler for Work -> nowhere (handlers: start, work, continueAsNew)');
  });

  it('refuses JSONata, which the engine would ignore silently', async () => {
    await expect(refusal(variant((d) => Object.assign(d, { QueryLanguage: 'JSONata' })))).rejects.toThrow('JSONata is not supported by the local engine');
  });
});

describe('local Step Functions endpoint: limits and callbacks', () => {
  it('fails an execution whose history reaches the limit with States.Runtime, as AWS does', async () => {
    const { run, finished } = await start({ maxHistoryEvents: 40 });
    const described = await finished(await run({ n: 1_000 }));
    expect(described).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: 'The execution reached the maximum number of history events (40)' });
    const { events = [] } = await sfn!.send(new GetExecutionHistoryCommand({ executionArn: described.executionArn, maxResults: 1000 }));
    expect(events).toHaveLength(40);
    expect(events.at(-1)).toMatchObject({ type: 'ExecutionFailed', executionFailedEventDetails: { error: 'States.Runtime' } });
  });

  it('forgets the oldest finished executions beyond maxRetainedExecutions', async () => {
    const { client, run, finished } = await start({ maxRetainedExecutions: 2 });
    const arns: string[] = [];
    for (let k = 0; k < 3; k += 1) {
      arns.push(await run({ n: 1 }));
      await finished(arns[k]!);
    }
    await expect(client.send(new DescribeExecutionCommand({ executionArn: arns[0] }))).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    expect((await client.send(new DescribeExecutionCommand({ executionArn: arns[1] }))).status).toBe('SUCCEEDED');
  });

  it('calls onExecutionEnded once per execution with the EventBridge status-change detail', async () => {
    const ended: ExecutionStatusChangeDetail[] = [];
    const { run, finished } = await start({ onExecutionEnded: (change) => ended.push(change) });
    const failed = await run({ n: 1, fail: true });
    const described = await finished(failed);
    expect(ended).toEqual([
      {
        executionArn: failed,
        stateMachineArn: endpoint!.stateMachineArn('loop'),
        name: failed.split(':').at(-1),
        status: 'FAILED',
        startDate: described.startDate!.getTime(),
        stopDate: described.stopDate!.getTime(),
        input: '{"n":1,"fail":true}',
        error: 'PermanentError',
        cause: 'bad row 7',
      },
    ]);
  });

  it('pages GetExecutionHistory with nextToken, leaves data out when asked, and refuses a bad token', async () => {
    const { client, run, finished } = await start();
    const executionArn = await run({ n: 2 });
    await finished(executionArn);
    const all = (await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];
    const paged = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 4, nextToken }));
      expect(page.events!.length).toBeLessThanOrEqual(4);
      paged.push(...page.events!);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(paged).toEqual(all);

    const withoutData = (await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, includeExecutionData: false }))).events ?? [];
    expect(withoutData.map((event) => event.type)).toEqual(all.map((event) => event.type));
    expect(all[0]?.executionStartedEventDetails?.input).toBe('{"n":2}');
    expect(withoutData[0]?.executionStartedEventDetails).not.toHaveProperty('input');
    expect(withoutData.find((event) => event.type === 'LambdaFunctionSucceeded')?.lambdaFunctionSucceededEventDetails).not.toHaveProperty('output');

    await expect(client.send(new GetExecutionHistoryCommand({ executionArn, nextToken: 'not-a-token' }))).rejects.toMatchObject({ name: 'InvalidToken' });
  });
});
