/**
 * Which index a run writes to, and the index/alias work around the run.
 *
 * - Plain target: documents go to `target.index`; prepareRun creates it with the mapping when it
 *   is missing. A full run then overwrites documents by _id but does not remove documents whose
 *   rows disappeared from the source: use `alias_reload` for that.
 * - `alias_reload` in full mode: `target.index` is an alias. The run writes to a fresh physical
 *   index named `<index>-<run id without dashes>`, derived from the run id alone, so every
 *   batch of the run (each in a new Lambda invocation, possibly after ContinueAsNew) finds the
 *   same index. Readers keep querying the old index through the alias until finishRun swaps the
 *   alias atomically and deletes the previous physical index(es) that this pipeline's runs built.
 * - `alias_reload` in incremental mode: writes go through the alias; when nothing has that name
 *   yet, a physical index and the alias are created so that a later full reload can swap it.
 */
import type { SinkContext } from '../../core/ports.ts';
import type { SearchTarget } from '../../core/pipeline.ts';
import { InvalidDefinitionError } from '../../core/errors.ts';
import { classifyRequestError, isAlreadyExists } from './classify.ts';
import type { AliasAction, IndexDefinition, SearchClient } from './search-client.ts';

export interface IndexPlan {
  /** Where this run's documents are written. */
  writeIndex: string;
  prepareRun(): Promise<void>;
  finishRun(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** `<index>-<32 hex digits>` for a uuid run id (the engine's runs); other ids are sanitised. */
export function physicalIndexName(index: string, runId: string): string {
  const suffix = UUID.test(runId) ? runId.replaceAll('-', '').toLowerCase() : runId.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 40);
  return `${index}-${suffix}`;
}

/** Physical indices this module created for `index` (so they are safe to delete once replaced). */
function isPhysicalOf(index: string, name: string): boolean {
  return name.startsWith(`${index}-`) && /^[0-9a-f]{32}$/.test(name.slice(index.length + 1));
}

/**
 * `mapping` may be the `mappings` object itself (`{ properties: ... }`) or a whole index body
 * (`{ mappings, settings }`).
 */
export function indexDefinition(mapping: Record<string, unknown> | undefined): IndexDefinition {
  if (mapping === undefined) return {};
  if (!('mappings' in mapping) && !('settings' in mapping)) return { mappings: mapping };
  const { mappings, settings } = mapping;
  return { ...(isObject(mappings) ? { mappings } : {}), ...(isObject(settings) ? { settings } : {}) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createIndexManager(
  client: SearchClient,
  target: SearchTarget,
  context: SinkContext,
  mapping: Record<string, unknown> | undefined,
): IndexPlan {
  const alias = target.index;
  const definition = indexDefinition(mapping);
  const guard = async <T>(subject: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw classifyRequestError(error, { subject, writing: false });
    }
  };

  const ensureIndex = async (index: string): Promise<void> => {
    if (await client.exists(index)) return;
    try {
      await client.createIndex(index, definition);
    } catch (error) {
      // Two invocations (a retried prepareRun, two pipelines on one index) may race to create it.
      if (!isAlreadyExists(error)) throw error;
    }
  };

  /** Refuses to treat a concrete index as the alias: swapping could not replace it. */
  const aliasTargets = async (): Promise<string[]> => {
    const targets = await client.aliasTargets(alias);
    if (targets.length === 0 && (await client.exists(alias))) {
      throw new InvalidDefinitionError(
        `target.alias_reload: "${alias}" is a concrete index, not an alias, so a full reload cannot swap it. ` +
          `Delete or rename that index (or its documents will stay unreachable), or turn alias_reload off.`,
      );
    }
    return targets;
  };

  if (!target.alias_reload) {
    return {
      writeIndex: alias,
      prepareRun: () => guard(`index ${alias}`, () => ensureIndex(alias)),
      finishRun: async () => undefined,
    };
  }

  const physical = physicalIndexName(alias, context.runId);
  if (context.mode === 'incremental') {
    return {
      writeIndex: alias,
      prepareRun: () =>
        guard(`alias ${alias}`, async () => {
          if (await client.exists(alias)) return;
          await ensureIndex(physical);
          await client.updateAliases([{ add: { index: physical, alias } }]);
        }),
      finishRun: async () => undefined,
    };
  }

  return {
    writeIndex: physical,
    prepareRun: () =>
      guard(`index ${physical}`, async () => {
        await aliasTargets();
        await ensureIndex(physical);
      }),
    // Idempotent: a retried finishRun finds the alias already on `physical` and only cleans up.
    finishRun: () =>
      guard(`alias ${alias}`, async () => {
        const previous = await aliasTargets();
        // Documents are only searchable after a refresh; do it before readers see the new index.
        await client.refresh(physical);
        const replaced = previous.filter((name) => name !== physical);
        if (replaced.length > 0 || !previous.includes(physical)) {
          const actions: AliasAction[] = [...replaced.map((index) => ({ remove: { index, alias } })), { add: { index: physical, alias } }];
          await client.updateAliases(actions);
        }
        // Physical indices of failed earlier runs never got the alias; they are dropped too. Only
        // indices named after this pipeline's own runs are deleted: another pipeline (or a person)
        // may keep an index of the same shape, which this one must never remove.
        const ownIndices = new Set((await context.ownRunIds()).map((id) => physicalIndexName(alias, id)));
        const orphans = (await client.listIndices(`${alias}-*`)).filter((name) => name !== physical && isPhysicalOf(alias, name));
        await client.deleteIndices([...new Set([...replaced, ...orphans])].filter((name) => ownIndices.has(name)));
      }),
  };
}
