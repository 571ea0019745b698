/**
 * Turns the transform and map tasks of a plan into row steps, checking each on the way: one
 * pass serves both validate (at the API) and compile (at run time), so they cannot disagree.
 */
import type { z } from 'zod';
import { ValidationError } from '../core/errors.ts';
import type { TaskDefinition } from '../core/pipeline.ts';
import type { Row } from '../core/ports.ts';
import { compileMapTask, MapTaskDefinitionError, type RowStep } from './map-task.ts';
import type { RowTransform } from './named-transform.ts';
import { findTransform, transformNames } from './registry.ts';

export interface CompiledTask {
  /** `split (split_persons_by_role)`, `shape (map)`: how errors name the task. */
  label: string;
  step: RowStep;
}

/** Throws ValidationError naming the task, e.g. `tasks[1] (split): unknown transform "foo" ...`. */
export function compileTasks(tasks: TaskDefinition[] | null): CompiledTask[] {
  const compiled: CompiledTask[] = [];
  (tasks ?? []).forEach((task, i) => {
    const at = `tasks[${i}]`;
    if (task.type === 'transform') {
      compiled.push({ label: `${task.name} (${task.transform})`, step: compileTransformTask(task, at) });
    } else if (task.type === 'map') {
      try {
        compiled.push({ label: `${task.name} (map)`, step: compileMapTask(task) });
      } catch (error) {
        if (!(error instanceof MapTaskDefinitionError)) throw error;
        throw new ValidationError(`${at} (${task.name}): ${error.message}`, `${at}.${error.path}`);
      }
    }
  });
  return compiled;
}

function compileTransformTask(task: Extract<TaskDefinition, { type: 'transform' }>, at: string): RowStep {
  const transform = findTransform(task.transform);
  if (!transform) {
    const known = transformNames().join(', ');
    throw new ValidationError(`${at} (${task.name}): unknown transform "${task.transform}" (known: ${known})`, `${at}.transform`);
  }
  const parsed = transform.params.safeParse(task.params ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = describeIssuePath(issue);
    const message = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
    throw new ValidationError(`${at} (${task.name}): ${path}: ${message}`, `${at}.${path}`);
  }
  return toStep(transform.create(parsed.data));
}

function toStep(transform: RowTransform): RowStep {
  return (row) => {
    const result = transform(row);
    if (result === null) return [];
    if (Array.isArray(result)) return result.map(checkRow);
    return [checkRow(result)];
  };
}

function checkRow(value: unknown): Row {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`the transform returned ${value === null ? 'null' : typeof value} where a row (object) was expected`);
  }
  return value as Row;
}

function describeIssuePath(issue: z.core.$ZodIssue): string {
  const keys = issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
  return [...issue.path.map(String), ...keys].reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : `${acc}.${part}`), 'params');
}
