/**
 * The pipeline model and its validation: the request body of POST/PATCH /pipelines (README, "Pipeline body").
 * Every rejection names the field at fault, e.g. `source.incremental_key: required in incremental mode`.
 */
import { z } from 'zod';
import { ValidationError } from './errors.ts';
import { MAX_EXPRESSION_CHARS, MAX_FREEFORM_BYTES, MAX_KEY_COLUMNS, MAX_QUERY_CHARS, MAX_TASKS, describeBytes, jsonBytes } from './limits.ts';
import { parseSchedule, type ScheduleTick } from './schedule.ts';
import { inspectSql } from './sql-text.ts';
import { parseWith } from './schema-messages.ts';

export const MAX_BATCH_SIZE = 50_000;
/** A pipeline that gives no batch_size is sized by time (batch-sizing.ts); GET shows "auto". */
export const AUTO_BATCH_SIZE = 'auto';
export type BatchSize = number | typeof AUTO_BATCH_SIZE;

export const pipelineStatuses = ['IDLE', 'RUN_REQUESTED', 'RUNNING', 'PAUSE_REQUESTED', 'PAUSED', 'SUCCEEDED', 'FAILED'] as const;
export type PipelineStatus = (typeof pipelineStatuses)[number];
/** A run is under way: requested, running, or asked to pause. */
export const ACTIVE_PIPELINE_STATUSES: readonly PipelineStatus[] = ['RUN_REQUESTED', 'RUNNING', 'PAUSE_REQUESTED'];
/** Active, or PAUSED with a run that may resume: the definition may not change, nor the pipeline go. */
export const BUSY_PIPELINE_STATUSES: readonly PipelineStatus[] = [...ACTIVE_PIPELINE_STATUSES, 'PAUSED'];
export const runStatuses = ['RUNNING', 'PAUSED', 'SUCCEEDED', 'FAILED'] as const;
export type RunStatus = (typeof runStatuses)[number];

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const identifier = z.string().regex(IDENT, 'must be a SQL identifier (letters, digits, underscore; not starting with a digit)');
const tableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/, 'must be "table" or "schema.table" made of SQL identifiers');
// Elasticsearch/OpenSearch index naming rules, minus the rarely useful punctuation.
const indexName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,199}$/, 'must be lowercase letters, digits, "_", "-" or "." and start with a letter or digit');

/** The connection named `default` is the platform's own database (DATABASE_URL). */
export const DEFAULT_CONNECTION = 'default';
export const CONNECTION_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const connectionName = z.string().regex(CONNECTION_NAME, 'must be a connection name (lower-case letters, digits, underscore)');

/** One statement that cannot close the subquery it is wrapped in (see sql-text.ts). */
const userQuery = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_QUERY_CHARS, `is too long (max ${MAX_QUERY_CHARS} characters)`)
  .superRefine((query, ctx) => {
    const { problem } = inspectSql(query);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Free-form objects are capped by their JSON size (limits.ts): they end up in every answer that shows the pipeline. */
function withinFreeformLimit(value: unknown, ctx: z.core.$RefinementCtx): void {
  const bytes = jsonBytes(value);
  if (bytes > MAX_FREEFORM_BYTES) ctx.addIssue({ code: 'custom', message: `is ${bytes} bytes as JSON; the limit is ${describeBytes(MAX_FREEFORM_BYTES)}` });
}

const sourceSchema = z.strictObject({
  query: userQuery,
  incremental_key: identifier.optional(),
  incremental_id_key: identifier.optional(),
  connection: connectionName.optional(),
  /** A boolean column: true deletes the row's key from the target instead of writing it (soft-deletes.ts). */
  deleted_flag: identifier.optional(),
});

/** Full mode only: at a successful run's end, target rows whose key the run did not read are removed. */
const deleteMissing = z.boolean().optional();

/** Schemas no pipeline may write into: the platform's own state and the system catalogs. */
const RESERVED_SCHEMAS = ['etl', 'pg_catalog', 'information_schema', 'pg_toast'];

const postgresTarget = z.strictObject({
  type: z.literal('postgres'),
  table: tableName.refine((name) => !(name.includes('.') && RESERVED_SCHEMAS.includes(name.split('.')[0]!.toLowerCase())), {
    message: `must not be in the schemas ${RESERVED_SCHEMAS.join(', ')} (the platform's own state and the system catalogs)`,
  }),
  key: z.array(identifier).min(1, 'must name at least one column').max(MAX_KEY_COLUMNS, `must name at most ${MAX_KEY_COLUMNS} columns`),
  connection: connectionName.optional(),
  /**
   * When source and target share a connection, a batch runs as one INSERT ... SELECT inside the
   * database, the query in the target's writing transaction (docs/SECURITY.md "Pushdown"). false
   * keeps the query on a read-only session (the rows then travel by COPY). Default true.
   */
  pushdown: z.boolean().optional(),
  delete_missing: deleteMissing,
});

const searchTarget = z.strictObject({
  type: z.enum(['elasticsearch', 'opensearch']),
  index: indexName,
  id_field: identifier,
  /** Explicit mapping used when the index is created; otherwise the engine's dynamic mapping. */
  mapping: z.record(z.string(), z.unknown()).superRefine(withinFreeformLimit).optional(),
  /** Full reloads build a new index and swap the alias `index` to it when the run succeeds. */
  alias_reload: z.boolean().optional(),
  /** With alias_reload the swap to the fresh index removes the rest; without it, documents are marked (search-sink.ts). */
  delete_missing: deleteMissing,
});

export const targetSchema = z.discriminatedUnion('type', [postgresTarget, searchTarget]);

const taskName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "-" or "."');

export const taskSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('sql_reader'), name: taskName, ...sourceSchema.shape }),
  z.strictObject({
    type: z.literal('transform'),
    name: taskName,
    /** A named transform registered in lib/transforms. */
    transform: z.string().min(1).max(100, 'is too long (max 100 characters)'),
    params: z.record(z.string(), z.unknown()).superRefine(withinFreeformLimit).optional(),
  }),
  z.strictObject({
    type: z.literal('map'),
    name: taskName,
    rename: z.record(z.string(), z.string()).superRefine(withinFreeformLimit).optional(),
    drop: z.array(z.string()).superRefine(withinFreeformLimit).optional(),
    /** field -> JSONata expression evaluated against the row. */
    compute: z.record(z.string(), z.string()).superRefine(withinFreeformLimit).optional(),
    /** JSONata expression; rows for which it is not true are dropped. */
    filter: z.string().max(MAX_EXPRESSION_CHARS, `is too long (max ${MAX_EXPRESSION_CHARS} characters)`).optional(),
  }),
  z.strictObject({ type: z.literal('writer'), name: taskName, target: targetSchema }),
]);

const taskListSchema = z.array(taskSchema).min(2, 'needs at least a sql_reader and a writer').max(MAX_TASKS, `must have at most ${MAX_TASKS} tasks`);

const modeSchema = z.enum(['full', 'incremental']);
const batchSizeSchema = z.union([
  z.literal(AUTO_BATCH_SIZE),
  z
    .number({ error: `must be a number or "${AUTO_BATCH_SIZE}"` })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(MAX_BATCH_SIZE, `must be at most ${MAX_BATCH_SIZE}`),
]);

/** EventBridge rate/cron (schedule.ts) or null for none; the message says why a value is refused. */
const scheduleField = z
  .string({ error: 'must be a string, rate(...) or cron(...), or null' })
  .nullable()
  .superRefine((expression, ctx) => {
    if (expression === null) return;
    try {
      parseSchedule(expression);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message.replace(/^schedule: /, '') });
    }
  });

const createSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be 1-100 letters, digits, "_", "-" or "."'),
  mode: modeSchema,
  batch_size: batchSizeSchema.default(AUTO_BATCH_SIZE),
  source: sourceSchema.optional(),
  target: targetSchema.optional(),
  tasks: taskListSchema.optional(),
  schedule: scheduleField.optional(),
});

const patchSchema = z.strictObject({
  mode: modeSchema.optional(),
  batch_size: batchSizeSchema.optional(),
  source: sourceSchema.optional(),
  target: targetSchema.optional(),
  tasks: taskListSchema.optional(),
  schedule: scheduleField.optional(),
});

export type SourceDefinition = z.infer<typeof sourceSchema>;
export type TargetDefinition = z.infer<typeof targetSchema>;
export type PostgresTarget = z.infer<typeof postgresTarget>;
export type SearchTarget = z.infer<typeof searchTarget>;
export type TaskDefinition = z.infer<typeof taskSchema>;
export type PipelineMode = z.infer<typeof modeSchema>;

/** What the engine runs: the reader's source, the writer's target and the steps in between. */
export interface PipelineDefinition {
  name: string;
  mode: PipelineMode;
  /** Rows per batch, or "auto": sized by time (lib/core/batch-sizing.ts). */
  batch_size: BatchSize;
  source: SourceDefinition;
  target: TargetDefinition;
  /** The task plan as given, or null for a plain source/target pipeline. */
  tasks: TaskDefinition[] | null;
}

export interface Pipeline extends PipelineDefinition {
  id: string;
  status: PipelineStatus;
  /** EventBridge rate/cron expression (UTC), or null: not part of what a run reads, so changing it resets nothing. */
  schedule: string | null;
  /** When the schedule is next due (ISO), null without a schedule. */
  next_run_at: string | null;
  /** What the schedule's last tick did, null before the first. */
  last_tick: ScheduleTick | null;
  created_at: string;
  updated_at: string;
}

export type PipelinePatch = z.infer<typeof patchSchema>;



export function parseCreateRequest(body: unknown): { definition: PipelineDefinition; schedule: string | null } {
  const { schedule = null, ...definition } = parseWith(createSchema, body);
  return { definition: resolveDefinition(definition), schedule };
}

export function parseCreatePipeline(body: unknown): PipelineDefinition {
  return parseCreateRequest(body).definition;
}

export function parsePipelinePatch(body: unknown): PipelinePatch {
  const patch = parseWith(patchSchema, body);
  if (Object.keys(patch).length === 0) throw new ValidationError('body: nothing to change (give mode, batch_size, source, target, tasks or schedule)', 'body');
  return patch;
}

/** Whether a patch changes the definition (anything but the schedule). */
export const patchesDefinition = (patch: PipelinePatch) => Object.keys(patch).some((key) => key !== 'schedule');

/** Applies a validated patch to a stored pipeline and re-checks the whole definition. */
export function applyPatch(current: PipelineDefinition, patch: PipelinePatch): PipelineDefinition {
  const switchingToTasks = patch.tasks !== undefined;
  const switchingToPlain = !switchingToTasks && (patch.source !== undefined || patch.target !== undefined) && current.tasks !== null;
  if (switchingToPlain && (patch.source === undefined || patch.target === undefined)) {
    throw new ValidationError('tasks: this pipeline is defined by tasks; give tasks, or both source and target to replace them', 'tasks');
  }
  return resolveDefinition({
    name: current.name,
    mode: patch.mode ?? current.mode,
    batch_size: patch.batch_size ?? current.batch_size,
    ...(switchingToTasks
      ? { tasks: patch.tasks }
      : current.tasks && !switchingToPlain
        ? { tasks: current.tasks }
        : { source: patch.source ?? current.source, target: patch.target ?? current.target }),
  });
}

export { changesWhatIsRead, checkConnections, resolveDefinition } from './definition-rules.ts';
import { resolveDefinition } from './definition-rules.ts';
