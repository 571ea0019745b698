/**
 * Rules about a whole definition that the schema cannot say: the shape of a task plan, what
 * incremental mode needs, the size of the whole, what a change invalidates, and which
 * connections must exist.
 */
import { ValidationError } from './errors.ts';
import { MAX_DEFINITION_BYTES, describeBytes, jsonBytes } from './limits.ts';
import type { BatchSize, PipelineDefinition, PipelineMode, SourceDefinition, TargetDefinition, TaskDefinition } from './pipeline.ts';

/** Checks what depends on more than one field; throws ValidationError naming the field. */
export function resolveDefinition(input: {
  name: string;
  mode: PipelineMode;
  batch_size: BatchSize;
  source?: SourceDefinition | undefined;
  target?: TargetDefinition | undefined;
  tasks?: TaskDefinition[] | null | undefined;
}): PipelineDefinition {
  let source = input.source;
  let target = input.target;
  const tasks = input.tasks ?? null;
  if (tasks) {
    if (input.source) throw new ValidationError('source: give either source/target or tasks, not both', 'source');
    if (input.target) throw new ValidationError('target: give either source/target or tasks, not both', 'target');
    const plan = checkPlanShape(tasks);
    source = plan.source;
    target = plan.target;
  } else {
    if (!source) throw new ValidationError('source: required (or give tasks)', 'source');
    if (!target) throw new ValidationError('target: required (or give tasks)', 'target');
  }
  const prefix = tasks ? 'tasks[0]' : 'source';
  if (input.mode === 'incremental') {
    if (!source.incremental_key) throw new ValidationError(`${prefix}.incremental_key: required in incremental mode`, `${prefix}.incremental_key`);
    if (!source.incremental_id_key) {
      throw new ValidationError(`${prefix}.incremental_id_key: required in incremental mode (breaks ties between equal incremental_key values)`, `${prefix}.incremental_id_key`);
    }
  }
  checkDeletes(input.mode, source, target, tasks);
  return withinDefinitionLimit({ name: input.name, mode: input.mode, batch_size: input.batch_size, source, target, tasks });
}

/**
 * The whole definition as stored and answered is capped (limits.ts), so that a page of
 * GET /pipelines stays within a Lambda response whatever the fields' own limits add up to.
 */
function withinDefinitionLimit(definition: PipelineDefinition): PipelineDefinition {
  const bytes = jsonBytes(definition);
  if (bytes > MAX_DEFINITION_BYTES) {
    const twice = definition.tasks ? ' (a task plan counts its reader and writer twice: they are also shown as source and target)' : '';
    throw new ValidationError(`body: the pipeline definition would be ${bytes} bytes as JSON${twice}; the limit is ${describeBytes(MAX_DEFINITION_BYTES)}`, 'body');
  }
  return definition;
}

/** A plan is one sql_reader first, one writer last, transforms and maps in between, unique names. */
function checkPlanShape(tasks: TaskDefinition[]): { source: SourceDefinition; target: TargetDefinition } {
  const names = new Set<string>();
  tasks.forEach((task, i) => {
    if (names.has(task.name)) throw new ValidationError(`tasks[${i}].name: "${task.name}" is used by an earlier task`, `tasks[${i}].name`);
    names.add(task.name);
    const expected = i === 0 ? 'sql_reader' : i === tasks.length - 1 ? 'writer' : undefined;
    if (expected && task.type !== expected) {
      throw new ValidationError(`tasks[${i}] (${task.name}): the ${i === 0 ? 'first' : 'last'} task must be a ${expected}, got ${task.type}`, `tasks[${i}].type`);
    }
    if (!expected && (task.type === 'sql_reader' || task.type === 'writer')) {
      throw new ValidationError(`tasks[${i}] (${task.name}): a ${task.type} may only be the ${task.type === 'sql_reader' ? 'first' : 'last'} task`, `tasks[${i}].type`);
    }
  });
  const reader = tasks[0];
  const writer = tasks[tasks.length - 1];
  if (reader?.type !== 'sql_reader' || writer?.type !== 'writer') throw new ValidationError('tasks: needs a sql_reader and a writer', 'tasks');
  const { type: _t, name: _n, ...source } = reader;
  return { source, target: writer.target };
}

/**
 * Whether a change of definition invalidates the saved progress: a new mode, source, target or
 * plan reads other rows (or writes elsewhere), so a cursor or checkpoint of the old definition
 * would make the next run skip rows. Only batch_size leaves them valid.
 */
export function changesWhatIsRead(current: PipelineDefinition, next: PipelineDefinition): boolean {
  const essence = (d: PipelineDefinition) => canonical([d.mode, d.source, d.target, d.tasks]);
  return essence(current) !== essence(next);
}

/** JSON with object keys sorted: the database (jsonb) does not keep the order they were given in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Every connection a definition names must be configured: ValidationError naming the field and the known names. */
export function checkConnections(definition: PipelineDefinition, known: string[]): void {
  const tasks = definition.tasks;
  const uses: [string | undefined, string][] = [
    [definition.source.connection, tasks ? 'tasks[0].connection' : 'source.connection'],
    [definition.target.type === 'postgres' ? definition.target.connection : undefined, tasks ? `tasks[${tasks.length - 1}].target.connection` : 'target.connection'],
  ];
  for (const [name, field] of uses) {
    if (name !== undefined && !known.includes(name)) {
      throw new ValidationError(`${field}: unknown connection "${name}" (known: ${known.join(', ')})`, field);
    }
  }
}

/** A create body: the definition, and the schedule kept apart (it is not part of what a run reads). */

/** deleted_flag is a control column, never a key; delete_missing needs a run that reads everything. */
function checkDeletes(mode: PipelineMode, source: SourceDefinition, target: TargetDefinition, tasks: TaskDefinition[] | null): void {
  const prefix = tasks ? 'tasks[0]' : 'source';
  const targetField = tasks ? `tasks[${tasks.length - 1}].target` : 'target';
  const flag = source.deleted_flag;
  if (flag !== undefined) {
    const keys = [...(target.type === 'postgres' ? target.key : [target.id_field]), source.incremental_key, source.incremental_id_key];
    if (keys.includes(flag)) {
      throw new ValidationError(`${prefix}.deleted_flag: "${flag}" is also a key column; the flag is a control column that is never written`, `${prefix}.deleted_flag`);
    }
  }
  if (!target.delete_missing) return;
  const field = `${targetField}.delete_missing`;
  if (mode !== 'full') {
    throw new ValidationError(`${field}: only in full mode (an incremental run reads only what changed, so every row it did not read would be deleted)`, field);
  }
}
