/**
 * Declarative map tasks. Within one task the order is fixed: filter, compute, rename, drop.
 * So compute and filter see the row as the previous task left it, rename may rename a
 * computed field, and drop names fields after renaming.
 */
import type { Row } from '../core/ports.ts';
import type { TaskDefinition } from '../core/pipeline.ts';
import { compileExpression, evaluateExpression, type Expression } from './expression.ts';
import { isFieldName } from './named-transform.ts';

export type MapTaskDefinition = Extract<TaskDefinition, { type: 'map' }>;

/** A definition problem; `path` is relative to the task, e.g. `compute.title_upper`. */
export class MapTaskDefinitionError extends Error {
  constructor(
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${message}`, options);
  }
}

export type RowStep = (row: Row) => Row[] | Promise<Row[]>;

export function compileMapTask(task: MapTaskDefinition): RowStep {
  const { rename = {}, drop = [], compute = {}, filter } = task;
  if (filter === undefined && !Object.keys(compute).length && !Object.keys(rename).length && !drop.length) {
    throw new MapTaskDefinitionError('type', 'a map task needs at least one of filter, compute, rename, drop');
  }
  const filterExpression = filter === undefined ? undefined : compileAt('filter', filter);
  const computed = Object.entries(compute).map(([field, source]) => {
    checkField(`compute.${field}`, field);
    return { field, path: `compute.${field}`, expression: compileAt(`compute.${field}`, source) };
  });
  const renames = checkRenames(rename);
  drop.forEach((field, i) => checkField(`drop[${i}]`, field));

  return async (input) => {
    if (filterExpression && (await evaluateAt('filter', filterExpression, input)) !== true) return [];
    const row: Row = { ...input };
    // Every compute sees the same row: their order in the object does not matter.
    const values: unknown[] = [];
    for (const { path, expression } of computed) values.push(await evaluateAt(path, expression, input));
    computed.forEach(({ field }, i) => (row[field] = values[i] ?? null));
    applyRenames(row, renames);
    for (const field of drop) delete row[field];
    return [row];
  };
}

function compileAt(path: string, source: string): Expression {
  try {
    return compileExpression(source);
  } catch (error) {
    throw new MapTaskDefinitionError(path, (error as Error).message, { cause: error });
  }
}

async function evaluateAt(path: string, expression: Expression, row: Row): Promise<unknown> {
  try {
    return await evaluateExpression(expression, row);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
}

function checkField(path: string, field: string): void {
  if (!isFieldName(field)) {
    throw new MapTaskDefinitionError(path, `"${field}" is not a field name (letters, digits, underscore; not starting with a digit; at most 63 characters)`);
  }
}

function checkRenames(rename: Record<string, string>): [string, string][] {
  const targets = new Set<string>();
  return Object.entries(rename).map(([from, to]) => {
    checkField(`rename.${from}`, from);
    checkField(`rename.${from}`, to);
    if (targets.has(to)) throw new MapTaskDefinitionError(`rename.${from}`, `"${to}" is already the new name of another field`);
    targets.add(to);
    return [from, to];
  });
}

/** All renames at once, so `{"a": "b", "b": "a"}` swaps; a missing source field is an error. */
function applyRenames(row: Row, renames: [string, string][]): void {
  if (!renames.length) return;
  const values = renames.map(([from]) => {
    if (!Object.hasOwn(row, from)) throw new Error(`rename.${from}: ${from} is missing from the row`);
    return row[from];
  });
  for (const [from] of renames) delete row[from];
  renames.forEach(([, to], i) => (row[to] = values[i]));
}
