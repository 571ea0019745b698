/**
 * The container's singletons, built on first use: pool, Step Functions client, engine.
 * Lambda reuses them across invocations of a warm container.
 */
import type { ExecutionStarter } from '../core/ports.ts';
import type { PipelineScheduler } from '../core/schedule-ports.ts';
import { createEventBridgeScheduler } from '../adapters/scheduler/eventbridge-scheduler.ts';
import { createSfnExecutionStarter } from '../adapters/sfn/execution-starter.ts';
import { config, requireSetting } from './config.ts';
import { createEngine, type Engine } from './engine.ts';
import { logger } from './logger-instance.ts';
import { getConnections } from './pg-pool.ts';
import { createSearchSinksFromConfig } from './search-sinks.ts';

let engine: Engine | undefined;

/** Only the handlers that start executions need STATE_MACHINE_ARN; the others must not fail without it. */
function lazyExecutionStarter(): ExecutionStarter {
  let starter: ExecutionStarter | undefined;
  const get = () =>
    (starter ??= createSfnExecutionStarter({
      stateMachineArn: requireSetting('stateMachineArn', 'STATE_MACHINE_ARN'),
      region: config.region,
      endpoint: config.sfnEndpoint,
    }));
  return {
    start: (name, input) => get().start(name, input),
    // The stale-run rule asks Step Functions whether an active run's execution still runs.
    describe: (executionArn) => get().describe!(executionArn),
  };
}

/**
 * EventBridge Scheduler where SCHEDULER_GROUP is set (the cloud functions that create, change and
 * delete pipelines); null elsewhere, and locally, where the local stack's scheduler runs due ticks.
 */
function schedulerFromConfig(): PipelineScheduler | null {
  if (!config.schedulerGroup) return null;
  let scheduler: PipelineScheduler | undefined;
  const get = () =>
    (scheduler ??= createEventBridgeScheduler({
      groupName: config.schedulerGroup!,
      roleArn: requireSetting('schedulerRoleArn', 'SCHEDULER_ROLE_ARN'),
      stateMachineArn: requireSetting('stateMachineArn', 'STATE_MACHINE_ARN'),
      region: config.region,
      endpoint: config.schedulerEndpoint,
    }));
  return { put: (id, schedule, startAt) => get().put(id, schedule, startAt), remove: (id) => get().remove(id) };
}

export function services(): Engine {
  engine ??= createEngine(config, {
    connections: getConnections(),
    executions: lazyExecutionStarter(),
    searchSinks: createSearchSinksFromConfig(),
    scheduler: schedulerFromConfig(),
    logger,
  });
  return engine;
}
