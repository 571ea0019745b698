/**
 * The container's singletons, built on first use: pool, Step Functions client, engine.
 * Lambda reuses them across invocations of a warm container.
 */
import type { ExecutionStarter } from '../core/ports.ts';
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

export function services(): Engine {
  engine ??= createEngine(config, {
    connections: getConnections(),
    executions: lazyExecutionStarter(),
    searchSinks: createSearchSinksFromConfig(),
    logger,
  });
  return engine;
}
