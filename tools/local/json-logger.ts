import type { LogFields, Logger } from '../../lib/core/logger.ts';
import type { LogLevel } from '../../lib/runtime/config.ts';
import { serialiseFields } from '../../lib/runtime/log-fields.ts';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface JsonLoggerOptions {
  service: string;
  level: LogLevel;
  /** Where lines go; stderr by default so that the stack's messages and the CLI's answers on stdout stay clean. */
  write?: (line: string) => void;
}

/**
 * The local stack's own log lines (it is no Lambda function: the handlers log through Powertools),
 * one JSON object per line on stderr, in the same stream and with the same keys as the handlers' lines.
 */
export function createJsonLogger(options: JsonLoggerOptions, bound: LogFields = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (rank[level] < rank[options.level]) return;
    // The handlers' shape (Powertools): one stream, one way to read a line.
    write(JSON.stringify({ level: level.toUpperCase(), message, timestamp: new Date().toISOString(), service: options.service, ...bound, ...serialiseFields(fields) }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createJsonLogger(options, { ...bound, ...fields }),
  };
}
