/**
 * Checks a definition against its databases when it is created or changed, so that mistakes show
 * as a 400 naming the field instead of a run failing after its retries: the query must compile and
 * return the key columns, an incremental key must have a supported type, and a Postgres target
 * must exist, hold every column the query returns and have a unique key on exactly `key`.
 * A connection that cannot be reached does not block the change: the answer carries a warning.
 */
import { SourceQueryError, ValidationError, isRetryable } from '../errors.ts';
import { DEFAULT_CONNECTION, type PipelineDefinition } from '../pipeline.ts';
import type { ColumnInfo, DefinitionInspector } from '../ports.ts';

/** incremental_key types whose order is total and stable; the horizon covers the timestamps only. */
export const TIMESTAMP_KEY_TYPES = ['timestamp with time zone', 'timestamp without time zone'];
export const INCREMENTAL_KEY_TYPES = [...TIMESTAMP_KEY_TYPES, 'date', 'smallint', 'integer', 'bigint', 'numeric', 'text', 'character varying', 'uuid'];

export interface DefinitionCheck {
  /** The query's result columns, when its connection answered. */
  columns: ColumnInfo[] | null;
  /** What could not be checked, or what is allowed but risky. */
  warnings: string[];
}

/** Where each part of the definition lives in the request body, for messages that name it. */
function fieldsOf(definition: PipelineDefinition) {
  const tasks = definition.tasks;
  const source = tasks ? 'tasks[0]' : 'source';
  const target = tasks ? `tasks[${tasks.length - 1}].target` : 'target';
  return { source, target };
}

export function createDefinitionChecks({ inspector }: { inspector: DefinitionInspector }) {
  return {
    async check(definition: PipelineDefinition): Promise<DefinitionCheck> {
      const { source: sourceField, target: targetField } = fieldsOf(definition);
      const warnings: string[] = [];
      const unreachable = (field: string, connection: string, error: unknown) =>
        warnings.push(`${field}: connection "${connection}" could not be reached, so this part was not checked (${(error as Error).message})`);

      const sourceConnection = definition.source.connection ?? DEFAULT_CONNECTION;
      let columns: ColumnInfo[] | null = null;
      try {
        columns = await inspector.queryColumns(sourceConnection, definition.source.query);
      } catch (error) {
        if (error instanceof SourceQueryError) {
          throw new ValidationError(`${sourceField}.query: ${error.message.replace(/^source query on .*?\): /, '')}`, `${sourceField}.query`);
        }
        if (!isRetryable(error)) throw error;
        unreachable(`${sourceField}.connection`, sourceConnection, error);
      }
      const transforms = definition.tasks !== null && definition.tasks.length > 2;
      if (columns) checkQueryColumns(definition, columns, { sourceField, targetField, transforms }, warnings);

      const target = definition.target;
      if (target.type === 'postgres') {
        const connection = target.connection ?? DEFAULT_CONNECTION;
        try {
          const { found, similar } = await inspector.table(connection, target.table);
          if (!found) {
            const hint = similar.length ? ` (did you mean "${similar[0]}"? Names are case-sensitive here)` : '';
            throw new ValidationError(`${targetField}.table: table "${target.table}" does not exist on connection "${connection}"${hint}`, `${targetField}.table`);
          }
          const key = [...target.key].sort();
          if (!found.uniqueKeys.some((unique) => unique.length === key.length && unique.every((c, i) => c === key[i]))) {
            throw new ValidationError(
              `${targetField}.key: ${found.name} has no unique index or constraint on exactly (${target.key.join(', ')}), which the upsert needs (CREATE UNIQUE INDEX ON ${found.name} (${target.key.join(', ')}))`,
              `${targetField}.key`,
            );
          }
          if (columns && !transforms) {
            // The soft-delete flag is a control column: it is never written, so the target needs none.
            const written = columns.map((c) => c.name).filter((name) => name !== definition.source.deleted_flag);
            const missing = written.filter((name) => !found.columns.includes(name));
            if (missing.length) {
              const name = missing[0]!;
              const other = found.columns.find((c) => c.toLowerCase() === name.toLowerCase());
              throw new ValidationError(
                `${targetField}.table: ${found.name} has no column "${name}", which the query returns${other ? ` (it has "${other}")` : ''}; its columns: ${found.columns.join(', ')}`,
                `${targetField}.table`,
              );
            }
          }
        } catch (error) {
          if (error instanceof ValidationError || !isRetryable(error)) throw error;
          unreachable(`${targetField}.connection`, connection, error);
        }
      }
      return { columns, warnings };
    },
  };
}

export type DefinitionChecks = ReturnType<typeof createDefinitionChecks>;

function checkQueryColumns(
  definition: PipelineDefinition,
  columns: ColumnInfo[],
  where: { sourceField: string; targetField: string; transforms: boolean },
  warnings: string[],
): void {
  const names = columns.map((c) => c.name);
  const requireColumn = (column: string, field: string) => {
    if (!names.includes(column)) {
      const other = names.find((n) => n.toLowerCase() === column.toLowerCase());
      throw new ValidationError(`${field}: the query returns no column "${column}"${other ? ` (it returns "${other}")` : ''}; its columns: ${names.join(', ')}`, field);
    }
  };
  const { source, target } = definition;
  const { sourceField, targetField } = where;
  if (source.incremental_key) requireColumn(source.incremental_key, `${sourceField}.incremental_key`);
  if (source.incremental_id_key) requireColumn(source.incremental_id_key, `${sourceField}.incremental_id_key`);
  if (source.deleted_flag) {
    const field = `${sourceField}.deleted_flag`;
    requireColumn(source.deleted_flag, field);
    const type = columns.find((c) => c.name === source.deleted_flag)!.type;
    if (type !== 'boolean') throw new ValidationError(`${field}: "${source.deleted_flag}" is of type ${type}; it must be boolean (true deletes the row's key from the target)`, field);
  }
  // The target key pages a full read without incremental_id_key, and is what the writer upserts on.
  const pagesByTargetKey = definition.mode === 'full' && !source.incremental_id_key;
  if (!where.transforms || pagesByTargetKey) {
    if (target.type === 'postgres') target.key.forEach((k) => requireColumn(k, `${targetField}.key`));
    else requireColumn(target.id_field, `${targetField}.id_field`);
  }
  if (definition.mode === 'incremental' && source.incremental_key) {
    const type = columns.find((c) => c.name === source.incremental_key)!.type;
    const base = type.replace(/\(.*\)$/, '');
    if (!INCREMENTAL_KEY_TYPES.includes(base)) {
      throw new ValidationError(
        `${sourceField}.incremental_key: "${source.incremental_key}" is of type ${type}; supported types: ${INCREMENTAL_KEY_TYPES.join(', ')}`,
        `${sourceField}.incremental_key`,
      );
    }
    if (!TIMESTAMP_KEY_TYPES.includes(base)) {
      warnings.push(
        `${sourceField}.incremental_key: "${source.incremental_key}" is of type ${type}; the late-commit horizon covers timestamp keys only, so a row committed late with a smaller value than the checkpoint would be skipped (use a timestamp stamped with now(), or make sure writers commit in key order)`,
      );
    }
  }
}
