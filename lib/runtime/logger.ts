import type { LogFields, Logger } from '../core/logger.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface JsonLoggerOptions {
  service: string;
  level: LogLevel;
  /** Where lines go; stderr by default so that CLI output on stdout stays clean. */
  write?: (line: string) => void;
}

/** One JSON object per line: {time, level, service, message, ...fields}. */
export function createJsonLogger(options: JsonLoggerOptions, bound: LogFields = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (rank[level] < rank[options.level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, service: options.service, message, ...bound, ...serialise(fields) }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createJsonLogger(options, { ...bound, ...fields }),
  };
}

/** Errors do not survive JSON.stringify; keep their name, message, code and causes (never a stack in info logs). */
function serialise(fields: LogFields | undefined): LogFields {
  if (!fields) return {};
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? describeError(value) : value;
  }
  return out;
}

function describeError(error: Error, depth = 0): LogFields {
  const out: LogFields = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (error.cause !== undefined && depth < 4) out.cause = error.cause instanceof Error ? describeError(error.cause, depth + 1) : JSON.stringify(error.cause);
  return out;
}
