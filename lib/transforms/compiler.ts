/**
 * The TransformCompiler port: validate a plan at the API, compile it into a RowPipeline for
 * each batch. A plan that compiled yesterday can fail today (a transform was removed in a
 * deploy): compile then throws InvalidDefinitionError, which fails the run at once.
 */
import { InvalidDefinitionError, TransformError, ValidationError } from '../core/errors.ts';
import type { TargetDefinition } from '../core/pipeline.ts';
import type { Row, RowPipeline, TransformCompiler } from '../core/ports.ts';
import { compileTasks, type CompiledTask } from './compile-plan.ts';

export function createTransformCompiler(): TransformCompiler {
  return {
    validate(definition) {
      compileTasks(definition.tasks);
    },
    compile(definition) {
      let tasks: CompiledTask[];
      try {
        tasks = compileTasks(definition.tasks);
      } catch (error) {
        if (error instanceof ValidationError) throw new InvalidDefinitionError(error.message, { cause: error });
        throw error;
      }
      return tasks.length ? rowPipeline(tasks, keyFields(definition.target)) : identity;
    },
  };
}

const identity: RowPipeline = { run: async (rows) => ({ rows, dropped: 0 }) };

function keyFields(target: TargetDefinition): string[] {
  return target.type === 'postgres' ? target.key : [target.id_field];
}

/**
 * Rows go through the tasks one at a time, in order. Sequential on purpose: evaluation is CPU
 * bound, so concurrency would not speed it up, and it would blur jsonata's per-row time limit.
 */
function rowPipeline(tasks: CompiledTask[], keys: string[]): RowPipeline {
  return {
    async run(rows) {
      const output: Row[] = [];
      let dropped = 0;
      for (const [index, input] of rows.entries()) {
        let current: Row[] = [input];
        for (const task of tasks) {
          const next: Row[] = [];
          for (const row of current) next.push(...(await applyTask(task, row, { input, index, keys })));
          current = next;
          if (!current.length) break;
        }
        if (current.length) output.push(...current);
        else dropped += 1;
      }
      return { rows: output, dropped };
    },
  };
}

interface RowContext {
  input: Row;
  index: number;
  keys: string[];
}

async function applyTask(task: CompiledTask, row: Row, context: RowContext): Promise<Row[]> {
  try {
    const result = task.step(row);
    // Named transforms are synchronous: skip a microtask per row for them.
    return result instanceof Promise ? await result : result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TransformError(`task ${task.label} failed on row ${rowKey(row, context)}: ${message}`, { cause: error });
  }
}

/** The writer's key as read from the row the task got, else from the batch's input row. */
function rowKey(row: Row, { input, index, keys }: RowContext): string {
  const source = [row, input].find((candidate) => keys.every((key) => candidate[key] !== undefined && candidate[key] !== null));
  if (!source) return `#${index + 1} of the batch (no ${keys.join(',')})`;
  return keys.map((key) => `${key}=${formatKeyValue(source[key])}`).join(',');
}

function formatKeyValue(value: unknown): string {
  let text: string;
  if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') text = String(value);
  else text = String(JSON.stringify(value));
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}
