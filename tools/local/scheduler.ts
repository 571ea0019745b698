/**
 * The local stack's stand-in for EventBridge Scheduler: every few seconds it runs the ticks that
 * are due (lib/core/use-cases/schedule-ticks.ts), which claims each one by moving next_run_at in
 * the database before requesting the run through the same use-case as POST /pipelines/{id}/run.
 * Because the claim and next_run_at live in the database, two stacks on one database never start a
 * tick twice, and a tick missed while the stack was down runs once when it comes back.
 *
 * It has its own engine (the one composition root, over the stack's database and Step Functions
 * endpoint) rather than calling the HTTP API: a tick is not a user request, and needs no API key.
 */
import { createSearchSinkFactory } from '../../lib/adapters/search/index.ts';
import { createSfnExecutionStarter } from '../../lib/adapters/sfn/execution-starter.ts';
import type { Logger } from '../../lib/core/logger.ts';
import type { ScheduledPipeline } from '../../lib/core/schedule-ports.ts';
import { parseConfig } from '../../lib/runtime/config.ts';
import { createConnections, createEngine } from '../../lib/runtime/engine.ts';

export interface LocalSchedulerOptions {
  databaseUrl: string;
  sfnEndpoint: string;
  stateMachineArn: string;
  /** The functions' settings (STALE_RUN_SECONDS...), parsed by the functions' own parser. */
  settings: Readonly<Record<string, string>>;
  /** Milliseconds between two looks for due ticks (ticks have minute precision, as on EventBridge). */
  pollMs: number;
  logger: Logger;
}

export interface LocalScheduler {
  /** The scheduled pipelines and their next runs, by name. */
  scheduled(): Promise<ScheduledPipeline[]>;
  /** Ends the loop after the pass in progress, then closes its connections. */
  stop(): Promise<void>;
}

export function startLocalScheduler(options: LocalSchedulerOptions): LocalScheduler {
  const { logger } = options;
  const config = parseConfig({ ...options.settings, DATABASE_URL: options.databaseUrl, DB_POOL_SIZE: '2' });
  const connections = createConnections(config, { stateUrl: options.databaseUrl, named: {} }, logger);
  const engine = createEngine(config, {
    connections,
    executions: createSfnExecutionStarter({ stateMachineArn: options.stateMachineArn, region: config.region, endpoint: options.sfnEndpoint }),
    // A tick only requests runs; it writes to no search engine.
    searchSinks: createSearchSinkFactory({ elasticsearchUrl: undefined, opensearchUrl: undefined }),
    logger,
  });

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  const loop = () => {
    pass = engine.ticks
      .runDue()
      .then(
        () => undefined,
        // The database restarting or a lost connection: the next pass tries again.
        (error: unknown) => logger.warn('scheduler pass failed', { error }),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, options.pollMs);
      });
  };
  loop();

  return {
    scheduled: () => engine.schedules.listScheduled(),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pass;
      await connections.close();
    },
  };
}
