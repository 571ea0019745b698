// Turns an ASL file written for serverless-step-functions into one aws-local-stepfunctions can run:
// Fn::GetAtt Resources become synthetic Lambda ARNs, every Task state is routed to a local handler,
// and features the local engine would silently ignore (JSONata, Assign, $$.State) are refused, as
// are those this project's definition does not use (Map, Parallel, service integrations such as
// lambda:invoke): nothing here would test them, so a definition that needs them fails at start-up.

import { readFile } from 'node:fs/promises';
import { lambdaArn, lambdaFunctionName } from './arn.ts';
import type { AccountScope } from './arn.ts';

// AWS applies no state timeout when TimeoutSeconds is missing, but aws-local-stepfunctions uses
// 60 s. Inject the largest value a Node timer accepts (~24.8 days) to keep AWS semantics.
export const NO_TASK_TIMEOUT_SECONDS = 2_147_483;

export interface TaskRoute {
  stateName: string;
  /** The resolved Resource: a Lambda function ARN. */
  resource: string;
  /** The task handler's key: the Lambda function's name. */
  handlerKey: string;
  /** TimeoutSeconds as written in the definition (undefined when missing). */
  timeoutSeconds?: number;
}

export interface PreparedDefinition {
  /** What aws-local-stepfunctions runs (resolved ARNs, explicit Task timeouts). */
  runnable: Record<string, unknown>;
  /** What DescribeStateMachine shows (resolved ARNs, otherwise as written). */
  display: Record<string, unknown>;
  /** Task routes by state name. */
  tasks: Map<string, TaskRoute>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads and parses an ASL JSON file (the same file serverless-step-functions deploys). */
export async function loadDefinitionFile(path: string): Promise<Json> {
  const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (!isObject(parsed)) throw new Error(`${path}: an ASL definition must be a JSON object`);
  return parsed;
}

function resolveIntrinsics(value: unknown, scope: AccountScope, where: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveIntrinsics(v, scope, `${where}[${i}]`));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
    const args = value['Fn::GetAtt'];
    const key: unknown = Array.isArray(args) ? (args as unknown[])[0] : typeof args === 'string' ? args.split('.')[0] : undefined;
    if (typeof key !== 'string' || !key) throw new Error(`${where}: malformed Fn::GetAtt ${JSON.stringify(args)}`);
    return lambdaArn(scope, key);
  }
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::'))) {
    throw new Error(`${where}: CloudFormation ${keys[0]} is not supported locally (only Fn::GetAtt <function> Arn)`);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveIntrinsics(v, scope, `${where}.${k}`)]));
}

const JSONATA_ONLY_FIELDS = ['Arguments', 'Output', 'Items', 'Assign'];

function checkSupported(value: unknown, where: string): void {
  if (typeof value === 'string' && /\$\$\.State\b/.test(value)) {
    throw new Error(`${where}: $$.State is not supported by the local engine`);
  }
  if (Array.isArray(value)) value.forEach((v, i) => checkSupported(v, `${where}[${i}]`));
  if (!isObject(value)) return;
  if (value['QueryLanguage'] === 'JSONata') {
    throw new Error(`${where}: JSONata is not supported by the local engine; write the definition in JSONPath`);
  }
  for (const [k, v] of Object.entries(value)) checkSupported(v, `${where}.${k}`);
}

/** The engine runs these, but the endpoint routes only the machine's own Tasks to handlers (see the top). */
const UNSUPPORTED_TYPES = ['Map', 'Parallel'];

function routeTask(name: string, state: Json, path: string, handlerKeys: ReadonlySet<string>, missing: string[]): TaskRoute | undefined {
  const resource = state['Resource'];
  if (typeof resource !== 'string') throw new Error(`${path}.Resource must be a string or Fn::GetAtt`);
  const functionName = lambdaFunctionName(resource);
  if (!functionName) throw new Error(`${path}: Resource ${resource} is not supported locally (use a Lambda ARN or Fn::GetAtt)`);
  if (!handlerKeys.has(functionName)) {
    missing.push(`${name} -> ${functionName}`);
    return undefined;
  }
  const timeout = state['TimeoutSeconds'];
  return { stateName: name, resource, handlerKey: functionName, timeoutSeconds: typeof timeout === 'number' ? timeout : undefined };
}

/**
 * Resolves and checks a definition once per state machine. Throws with every problem it can name:
 * unsupported features, state types and Resources, and Task states without a handler.
 */
export function prepareDefinition(
  machineName: string,
  definition: object,
  scope: AccountScope,
  handlerKeys: ReadonlySet<string>,
): PreparedDefinition {
  const where = `state machine ${machineName}`;
  checkSupported(definition, where);
  const display = resolveIntrinsics(structuredClone(definition), scope, where) as Json;
  const runnable = structuredClone(display);
  const tasks = new Map<string, TaskRoute>();
  const missing: string[] = [];
  const states = runnable['States'];
  if (!isObject(states)) throw new Error(`${where}.States must be an object`);
  for (const [name, state] of Object.entries(states)) {
    const path = `${where}.States.${name}`;
    if (!isObject(state)) throw new Error(`${path}: a state must be an object`);
    const used = JSONATA_ONLY_FIELDS.filter((f) => f in state);
    if (used.length > 0) throw new Error(`${path}: ${used.join(', ')} not supported by the local engine`);
    if (UNSUPPORTED_TYPES.includes(state['Type'] as string)) throw new Error(`${path}: ${String(state['Type'])} states are not supported by the local endpoint`);
    if (state['Type'] !== 'Task') continue;
    const route = routeTask(name, state, path, handlerKeys, missing);
    if (route) tasks.set(name, route);
    if (state['TimeoutSeconds'] === undefined && state['TimeoutSecondsPath'] === undefined) {
      state['TimeoutSeconds'] = NO_TASK_TIMEOUT_SECONDS;
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `${where}: no task handler for ${missing.join(', ')} (handlers: ${[...handlerKeys].join(', ') || 'none'})`,
    );
  }
  return { runnable, display, tasks };
}
