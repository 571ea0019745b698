// Turns an ASL file written for serverless-step-functions into one aws-local-stepfunctions can run:
// Fn::GetAtt Resources become synthetic Lambda ARNs, every Task state is routed to a local handler,
// and features the local engine would silently ignore (JSONata, Assign, $$.State) are refused.

import { readFile } from 'node:fs/promises';
import { lambdaArn, lambdaFunctionName } from './arn.ts';
import type { AccountScope } from './arn.ts';

export const LAMBDA_INVOKE_RESOURCE = 'arn:aws:states:::lambda:invoke';

// AWS applies no state timeout when TimeoutSeconds is missing, but aws-local-stepfunctions uses
// 60 s. Inject the largest value a Node timer accepts (~24.8 days) to keep AWS semantics.
export const NO_TASK_TIMEOUT_SECONDS = 2_147_483;

export interface TaskRoute {
  stateName: string;
  kind: 'lambda' | 'lambda-invoke';
  /** The resolved Resource ARN. */
  resource: string;
  /** Handler key; undefined for lambda:invoke with a dynamic `FunctionName.$`. */
  handlerKey?: string;
  /** TimeoutSeconds as written in the definition (undefined when missing). */
  timeoutSeconds?: number;
  /** Inside a Map processor: iterations run the same state concurrently, so calls cannot be paired with events. */
  insideMap: boolean;
}

export interface PreparedDefinition {
  /** What aws-local-stepfunctions runs (resolved ARNs, explicit Task timeouts). */
  runnable: Record<string, unknown>;
  /** What DescribeStateMachine shows (resolved ARNs, otherwise as written). */
  display: Record<string, unknown>;
  /** Task routes by state name (state names are unique across the whole machine, branches included). */
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

/** Finds the handler for a function key, a function name, or a CloudFormation logical ID (`FooLambdaFunction`). */
export function resolveHandlerKey(nameOrKey: string, handlerKeys: ReadonlySet<string>): string | undefined {
  if (handlerKeys.has(nameOrKey)) return nameOrKey;
  const logical = /^(.+)LambdaFunction$/.exec(nameOrKey)?.[1];
  if (logical) {
    const key = logical.charAt(0).toLowerCase() + logical.slice(1);
    if (handlerKeys.has(key)) return key;
    if (handlerKeys.has(logical)) return logical;
  }
  return undefined;
}

/** Function key or name from a literal Lambda ARN, or the last segment of any other ARN or name. */
export function functionKeyOf(resourceOrName: string): string {
  return lambdaFunctionName(resourceOrName) ?? resourceOrName.split(':').pop() ?? resourceOrName;
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

interface WalkState {
  name: string;
  state: Json;
  path: string;
  insideMap: boolean;
}

/** Every state of the machine, including those inside Parallel branches and Map processors. */
function walkStates(machine: Json, path: string, insideMap = false, out: WalkState[] = []): WalkState[] {
  const states = machine['States'];
  if (!isObject(states)) throw new Error(`${path}: States must be an object`);
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state)) throw new Error(`${path}.States.${name}: a state must be an object`);
    const statePath = `${path}.States.${name}`;
    out.push({ name, state, path: statePath, insideMap });
    const branches = state['Branches'];
    if (Array.isArray(branches)) {
      branches.forEach((b, i) => {
        if (isObject(b)) walkStates(b, `${statePath}.Branches[${i}]`, insideMap, out);
      });
    }
    for (const field of ['Iterator', 'ItemProcessor']) {
      const inner = state[field];
      if (isObject(inner)) walkStates(inner, `${statePath}.${field}`, true, out);
    }
  }
  return out;
}

function routeTask(ws: WalkState, handlerKeys: ReadonlySet<string>, missing: string[]): TaskRoute {
  const { name, state, path, insideMap } = ws;
  const resource = state['Resource'];
  if (typeof resource !== 'string') throw new Error(`${path}.Resource must be a string or Fn::GetAtt`);
  const timeout = state['TimeoutSeconds'];
  const timeoutSeconds = typeof timeout === 'number' ? timeout : undefined;
  if (resource === LAMBDA_INVOKE_RESOURCE) {
    const params = isObject(state['Parameters']) ? state['Parameters'] : {};
    const fn = params['FunctionName'];
    if (typeof fn !== 'string') {
      if (typeof params['FunctionName.$'] === 'string') return { stateName: name, kind: 'lambda-invoke', resource, timeoutSeconds, insideMap };
      throw new Error(`${path}: lambda:invoke needs Parameters.FunctionName`);
    }
    const handlerKey = resolveHandlerKey(functionKeyOf(fn), handlerKeys);
    if (!handlerKey) missing.push(`${name} -> ${functionKeyOf(fn)}`);
    return { stateName: name, kind: 'lambda-invoke', resource, handlerKey, timeoutSeconds, insideMap };
  }
  if (!lambdaFunctionName(resource)) {
    throw new Error(
      `${path}: Resource ${resource} is not supported locally (use a Lambda ARN, Fn::GetAtt or ${LAMBDA_INVOKE_RESOURCE})`,
    );
  }
  const handlerKey = resolveHandlerKey(functionKeyOf(resource), handlerKeys);
  if (!handlerKey) missing.push(`${name} -> ${functionKeyOf(resource)}`);
  return { stateName: name, kind: 'lambda', resource, handlerKey, timeoutSeconds, insideMap };
}

/**
 * Resolves and checks a definition once per state machine. Throws with every problem it can name:
 * unsupported features, unsupported Resources and Task states without a handler.
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
  for (const ws of walkStates(runnable, where)) {
    const used = JSONATA_ONLY_FIELDS.filter((f) => f in ws.state);
    if (used.length > 0) throw new Error(`${ws.path}: ${used.join(', ')} not supported by the local engine`);
    if (ws.state['Type'] !== 'Task') continue;
    if (tasks.has(ws.name)) throw new Error(`${ws.path}: duplicate state name ${ws.name}`);
    tasks.set(ws.name, routeTask(ws, handlerKeys, missing));
    if (ws.state['TimeoutSeconds'] === undefined && ws.state['TimeoutSecondsPath'] === undefined) {
      ws.state['TimeoutSeconds'] = NO_TASK_TIMEOUT_SECONDS;
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `${where}: no task handler for ${missing.join(', ')} (handlers: ${[...handlerKeys].join(', ') || 'none'})`,
    );
  }
  return { runnable, display, tasks };
}
