import type { LogFields } from '../core/logger.ts';

/**
 * Fields as they go into a JSON log line. Errors do not survive JSON.stringify: each keeps its
 * name, message, code and causes, never a stack (a stack in an info or warn line is noise, and a
 * classified error says where it came from through its name and cause).
 */
export function serialiseFields(fields: LogFields | undefined): LogFields {
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
