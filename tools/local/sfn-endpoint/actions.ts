// The Step Functions actions this endpoint answers, with AWS's validation and error names.

import { parseStatesArn, isValidExecutionName } from './arn.ts';
import type { AccountScope } from './arn.ts';
import { SfnApiError, apiError } from './errors.ts';
import type { ExecutionRecord, ExecutionRegistry } from './executions.ts';
import type { MachineRuntime } from './machines.ts';
import type { HistoryEvent } from './types.ts';

export type Body = Record<string, unknown>;
/** Synchronous unless the action has to wait (StopExecution waits for the final state). */
export type Action = (body: Body) => unknown;

export interface ActionContext {
  scope: AccountScope;
  registry: ExecutionRegistry;
  /** By state machine ARN. */
  machines: ReadonlyMap<string, MachineRuntime>;
  /** True while the endpoint shuts down: no new executions. */
  closing: () => boolean;
}

const MAX_INPUT_BYTES = 256 * 1024;
const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];
const seconds = (ms: number): number => ms / 1000;

function str(body: Body, member: string, required: true): string;
function str(body: Body, member: string, required?: false): string | undefined;
function str(body: Body, member: string, required = false): string | undefined {
  const value = body[member];
  if (value === undefined || value === null) {
    if (required) throw apiError.missingParameter(member);
    return undefined;
  }
  if (typeof value !== 'string') throw apiError.validation(`Value at '${member}' must be a string`);
  return value;
}

/** Offset-based pages; the token is opaque to clients (the CLI follows it automatically). */
function page<T>(items: T[], body: Body, fallback: number): { items: T[]; nextToken?: string } {
  const token = str(body, 'nextToken');
  let offset = 0;
  if (token !== undefined) {
    offset = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0) throw apiError.invalidToken(token);
  }
  const max = typeof body['maxResults'] === 'number' && body['maxResults'] > 0 ? Math.min(body['maxResults'], 1000) : fallback;
  const slice = items.slice(offset, offset + max);
  const next = offset + max < items.length ? Buffer.from(String(offset + max)).toString('base64url') : undefined;
  return next === undefined ? { items: slice } : { items: slice, nextToken: next };
}

function without<T extends object>(o: T, drop: string[]): T {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !drop.includes(k))) as T;
}

/** includeExecutionData=false: AWS leaves input/output out of every event's details. */
function stripData(event: HistoryEvent): HistoryEvent {
  return Object.fromEntries(
    Object.entries(event).map(([k, v]) =>
      k.endsWith('EventDetails') && v && typeof v === 'object' ? [k, without(v, ['input', 'output', 'parameters'])] : [k, v],
    ),
  ) as HistoryEvent;
}

function describe(rec: ExecutionRecord): Body {
  const out: Body = {
    executionArn: rec.arn,
    stateMachineArn: rec.machine.arn,
    name: rec.name,
    status: rec.status,
    startDate: seconds(rec.startMs),
    input: rec.input,
    inputDetails: { included: true },
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
  };
  if (rec.stopMs !== undefined) out['stopDate'] = seconds(rec.stopMs);
  if (rec.output !== undefined) Object.assign(out, { output: rec.output, outputDetails: { included: true } });
  if (rec.error !== undefined) out['error'] = rec.error;
  if (rec.cause !== undefined) out['cause'] = rec.cause;
  return out;
}

export function createActions(ctx: ActionContext): Record<string, Action> {
  const machine = (arn: string): MachineRuntime => {
    const parsed = parseStatesArn(arn);
    if (!parsed || parsed.kind !== 'stateMachine') throw apiError.invalidArn(arn);
    const found = ctx.machines.get(arn);
    if (!found) throw apiError.stateMachineDoesNotExist(arn);
    return found;
  };
  const execution = (arn: string): ExecutionRecord => {
    const parsed = parseStatesArn(arn);
    if (!parsed || parsed.kind !== 'execution') throw apiError.invalidArn(arn);
    const found = ctx.registry.get(arn);
    if (!found) throw apiError.executionDoesNotExist(arn);
    return found;
  };

  return {
    StartExecution(body) {
      const m = machine(str(body, 'stateMachineArn', true));
      const name = str(body, 'name');
      if (name !== undefined && !isValidExecutionName(name)) throw apiError.invalidName(name);
      const input = str(body, 'input') ?? '{}';
      if (Buffer.byteLength(input, 'utf8') > MAX_INPUT_BYTES) throw apiError.invalidExecutionInput('input exceeds 262144 bytes');
      let value: unknown;
      try {
        value = JSON.parse(input);
      } catch (err) {
        throw apiError.invalidExecutionInput(err instanceof Error ? err.message : String(err));
      }
      if (ctx.closing()) throw new SfnApiError('ServiceUnavailable', 'The local Step Functions endpoint is stopping', 503);
      const rec = ctx.registry.start(m, name, input, value);
      return { executionArn: rec.arn, startDate: seconds(rec.startMs) };
    },

    DescribeExecution(body) {
      return describe(execution(str(body, 'executionArn', true)));
    },

    async StopExecution(body) {
      const arn = str(body, 'executionArn', true);
      execution(arn);
      const error = str(body, 'error');
      const cause = str(body, 'cause');
      if (error !== undefined && error.length > 256) throw apiError.validation('error must be at most 256 characters');
      if (cause !== undefined && cause.length > 32768) throw apiError.validation('cause must be at most 32768 characters');
      return { stopDate: seconds(await ctx.registry.stop(arn, error, cause)) };
    },

    ListExecutions(body) {
      if (body['mapRunArn'] !== undefined) throw apiError.validation('mapRunArn is not supported by the local endpoint');
      const m = machine(str(body, 'stateMachineArn', true));
      const status = str(body, 'statusFilter');
      if (status !== undefined && !STATUSES.includes(status)) {
        throw apiError.validation(`Value '${status}' at 'statusFilter' must be one of ${STATUSES.join(', ')}`);
      }
      const all = ctx.registry.list(m).filter((r) => status === undefined || r.status === status);
      const { items, nextToken } = page(all, body, 100);
      const executions = items.map((r) => without(describe(r), ['input', 'inputDetails', 'output', 'outputDetails', 'error', 'cause', 'redriveStatus']));
      return nextToken === undefined ? { executions } : { executions, nextToken };
    },

    GetExecutionHistory(body) {
      const rec = execution(str(body, 'executionArn', true));
      let events = [...rec.history.events];
      if (body['reverseOrder'] === true) events.reverse();
      if (body['includeExecutionData'] === false) events = events.map(stripData);
      const { items, nextToken } = page(events, body, 100);
      return nextToken === undefined ? { events: items } : { events: items, nextToken };
    },

    ListStateMachines(body) {
      const all = [...ctx.machines.values()].map((m) => ({ stateMachineArn: m.arn, name: m.name, type: 'STANDARD', creationDate: seconds(m.createdMs) }));
      const { items, nextToken } = page(all, body, 100);
      return nextToken === undefined ? { stateMachines: items } : { stateMachines: items, nextToken };
    },

    DescribeStateMachine(body) {
      const m = machine(str(body, 'stateMachineArn', true));
      return {
        stateMachineArn: m.arn,
        name: m.name,
        status: 'ACTIVE',
        definition: m.definitionText,
        roleArn: m.roleArn,
        type: 'STANDARD',
        creationDate: seconds(m.createdMs),
        loggingConfiguration: { level: 'OFF', includeExecutionData: false },
        tracingConfiguration: { enabled: false },
      };
    },
  };
}
