/**
 * Logs and metrics the Lambda way, with Powertools for AWS Lambda: one JSON line per log call
 * carrying the invocation's context (function_request_id, cold_start, function_name) once a
 * handler preset has injected it, and CloudWatch metrics as EMF blobs on stdout, which Lambda's
 * log pipeline turns into metrics (no API call, no IAM permission). The core logs through its
 * Logger port; this module adapts the Powertools logger to it, so the core never sees Powertools.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { LogFields, Logger } from '../core/logger.ts';
import type { LogLevel, RuntimeConfig } from './config.ts';
import { serialiseFields } from './log-fields.ts';

export type ObservabilityConfig = Pick<RuntimeConfig, 'serviceName' | 'stage' | 'logLevel' | 'metricsNamespace' | 'metricsEnabled'>;

export interface Observability {
  /** The Powertools logger the handler presets inject the Lambda context into. */
  powertools: PowertoolsLogger;
  /** The same logger behind the core's port. */
  logger: Logger;
  /** Null where metrics are off (the local stack, the test harness): nothing is buffered or printed. */
  metrics: Metrics | null;
}

const powertoolsLevel: Record<LogLevel, 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT'> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', silent: 'SILENT' };

export function createObservability(config: ObservabilityConfig): Observability {
  const powertools = new PowertoolsLogger({ serviceName: config.serviceName, logLevel: powertoolsLevel[config.logLevel] });
  const metrics = config.metricsEnabled
    ? // Service and stage are the only dimensions: one metric series per deployment, whatever the number of pipelines.
      new Metrics({ namespace: config.metricsNamespace, serviceName: config.serviceName, defaultDimensions: { stage: config.stage } })
    : null;
  return { powertools, logger: portLogger(powertools), metrics };
}

/**
 * The core's Logger over one Powertools logger. A child binds its fields by passing them with
 * every line rather than through a Powertools child logger, so that the Lambda context injected
 * into the root at each invocation is on the child's lines too, however early the child was made.
 */
export function portLogger(powertools: PowertoolsLogger, bound: LogFields = {}): Logger {
  const line = (fields?: LogFields) => ({ ...bound, ...serialiseFields(fields) });
  return {
    debug: (message, fields) => powertools.debug(message, line(fields)),
    info: (message, fields) => powertools.info(message, line(fields)),
    warn: (message, fields) => powertools.warn(message, line(fields)),
    error: (message, fields) => powertools.error(message, line(fields)),
    child: (fields) => portLogger(powertools, { ...bound, ...fields }),
  };
}

/**
 * The base of every handler preset: a middy handler whose log lines carry the invocation's
 * context. `resetKeys` drops keys a previous invocation of a warm container appended.
 */
export function lambdaHandler<E, R>(observability: Observability) {
  return middy<E, R>().use(injectLambdaContext(observability.powertools, { resetKeys: true }));
}
