/**
 * JSONata for map tasks. An expression sees only the row it is given (no Node APIs, no
 * variables but the row); its size and its evaluation are bounded so one bad plan cannot hang
 * a batch Lambda until its timeout.
 */
import jsonata from 'jsonata';
import type { Row } from '../core/ports.ts';

export const MAX_EXPRESSION_LENGTH = 2000;

/**
 * jsonata 2.2 guardrails, checked at every evaluation step: wall time per row (a runaway
 * recursion or huge range), recursion depth, and sequence length. They cannot interrupt one
 * native call (a catastrophic regex in $match), which the Lambda timeout still bounds.
 */
export const EVALUATION_LIMITS = { timeout: 250, stack: 200, sequence: 100_000 } as const;

export type Expression = jsonata.Expression;

/** Compiles once per plan compile; throws an Error whose message says where the syntax is wrong. */
export function compileExpression(source: string): Expression {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new Error(`expression is too long (${source.length} characters, max ${MAX_EXPRESSION_LENGTH})`);
  }
  if (source.trim() === '') throw new Error('expression is empty');
  try {
    return jsonata(source, { ...EVALUATION_LIMITS });
  } catch (error) {
    throw new Error(`JSONata syntax error${positionOf(error)}: ${messageOf(error)}`, { cause: error });
  }
}

/**
 * Evaluates against one row. The result is made plain: jsonata marks its sequences with extra
 * array properties, which neither pg nor a search client should see; a function is refused.
 */
export async function evaluateExpression(expression: Expression, row: Row): Promise<unknown> {
  let result: unknown;
  try {
    result = await expression.evaluate(row);
  } catch (error) {
    throw new Error(`JSONata error${codeOf(error)}${positionOf(error)}: ${messageOf(error)}`, { cause: error });
  }
  return plain(result);
}

function plain(value: unknown): unknown {
  if (typeof value === 'function') throw new Error('JSONata expression returned a function, not a value');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    // fromEntries defines own properties: a "__proto__" key stays data, not a prototype.
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  }
  return value;
}

// jsonata throws plain objects {code, position, token, message}, not Error instances.
function messageOf(error: unknown): string {
  if (error !== null && typeof error === 'object' && 'message' in error && typeof error.message === 'string') return error.message;
  return String(error);
}

function positionOf(error: unknown): string {
  const position = (error as { position?: unknown } | null)?.position;
  return typeof position === 'number' ? ` at position ${position}` : '';
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? ` ${code}` : '';
}
