// Local Step Functions endpoint: runs the real ASL definition with aws-local-stepfunctions and
// answers the Step Functions JSON protocol, so the AWS SDK and `aws stepfunctions --endpoint-url` work.

import { createActions } from './actions.ts';
import { stateMachineArn as buildStateMachineArn } from './arn.ts';
import type { AccountScope } from './arn.ts';
import { ExecutionRegistry } from './executions.ts';
import { buildMachine } from './machines.ts';
import type { MachineRuntime } from './machines.ts';
import { close, createSfnServer, listen } from './server.ts';
import type { EndpointLog, LocalSfnEndpoint, LocalSfnEndpointOptions } from './types.ts';

export type { ExecutionStatusChangeDetail, HistoryEvent, LocalSfnEndpoint, LocalSfnEndpointOptions, LocalStateMachine, TaskContext, TaskHandler } from './types.ts';
export { loadDefinitionFile } from './definition.ts';

export async function startLocalSfnEndpoint(o: LocalSfnEndpointOptions): Promise<LocalSfnEndpoint> {
  const host = o.host ?? '127.0.0.1';
  const scope: AccountScope = { region: o.region ?? 'us-east-1', accountId: o.accountId ?? '000000000000' };
  const userLog = o.log;
  // A failing logger must never break an execution.
  const log: EndpointLog = (event) => {
    try {
      userLog?.(event);
    } catch {
      /* ignored on purpose */
    }
  };

  const machines = new Map<string, MachineRuntime>();
  for (const m of o.stateMachines) {
    const runtime = buildMachine(m, scope);
    if (machines.has(runtime.arn)) throw new Error(`Duplicate state machine name '${m.name}'`);
    machines.set(runtime.arn, runtime);
  }

  const registry = new ExecutionRegistry({
    scope,
    retryIntervalOverrides: o.retryIntervalOverrides,
    log,
    maxHistoryEvents: o.maxHistoryEvents ?? 25_000,
    maxRetainedExecutions: o.maxRetainedExecutions ?? 1000,
    maxRetainedHistoryEvents: o.maxRetainedHistoryEvents ?? 50_000,
    onExecutionEnded: o.onExecutionEnded,
  });
  let closing = false;
  const actions = createActions({ scope, registry, machines, closing: () => closing });
  const info = () => ({ service: 'local-stepfunctions', stateMachines: [...machines.keys()], actions: Object.keys(actions) });
  const server = createSfnServer(actions, info, log);
  const port = await listen(server, host, o.port ?? 8083);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log({ event: 'sfn_endpoint.listening', url, stateMachines: [...machines.keys()] });

  let stopped: Promise<void> | undefined;
  return {
    url,
    stateMachineArn(name: string): string {
      const arn = buildStateMachineArn(scope, name);
      if (!machines.has(arn)) throw new Error(`Unknown state machine '${name}' (known: ${[...machines.values()].map((m) => m.name).join(', ')})`);
      return arn;
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        closing = true;
        await registry.stopAll('The local Step Functions endpoint stopped');
        await close(server);
        log({ event: 'sfn_endpoint.stopped', url });
      })();
      return stopped;
    },
  };
}
