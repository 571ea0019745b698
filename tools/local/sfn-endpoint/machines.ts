// Builds each state machine once: preparing and validating a definition costs 150-700 ms,
// so the aws-local-stepfunctions StateMachine object is reused by every execution.

import './polyfill.ts';
import { StateMachine } from 'aws-local-stepfunctions';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { roleArn, stateMachineArn } from './arn.ts';
import type { AccountScope } from './arn.ts';
import { prepareDefinition } from './definition.ts';
import type { TaskRoute } from './definition.ts';
import type { LocalStateMachine, TaskHandler } from './types.ts';

export interface MachineRuntime {
  name: string;
  arn: string;
  roleArn: string;
  /** The definition as DescribeStateMachine shows it (Fn::GetAtt resolved to ARNs). */
  definitionText: string;
  engine: StateMachine;
  tasks: ReadonlyMap<string, TaskRoute>;
  handlers: Record<string, TaskHandler>;
  createdMs: number;
}

const NAME = /^[A-Za-z0-9_-]{1,80}$/;

export function buildMachine(m: LocalStateMachine, scope: AccountScope): MachineRuntime {
  if (!NAME.test(m.name)) throw new Error(`Invalid state machine name '${m.name}'`);
  const prepared = prepareDefinition(m.name, m.definition, scope, new Set(Object.keys(m.taskHandlers)));
  let engine: StateMachine;
  try {
    // Every Task state gets a local override per run, so the engine never calls AWS Lambda.
    engine = new StateMachine(prepared.runnable as unknown as StateMachineDefinition);
  } catch (err) {
    throw new Error(`state machine ${m.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return {
    name: m.name,
    arn: stateMachineArn(scope, m.name),
    roleArn: roleArn(scope, m.name),
    definitionText: JSON.stringify(prepared.display, null, 2),
    engine,
    tasks: prepared.tasks,
    handlers: m.taskHandlers,
    createdMs: Date.now(),
  };
}
