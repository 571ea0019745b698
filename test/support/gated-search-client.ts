/**
 * A fake SearchClient for the sink's pure logic: every bulk request waits until the test answers
 * it (`pending[i].answer(status per id)`), so a test sees what is in flight at each moment.
 */
import type { BulkResult, SearchClient } from '../../lib/adapters/search/search-client.ts';

export interface Pending {
  ids: string[];
  answer: (status: (id: string) => number) => void;
}

export function gatedClient() {
  const pending: Pending[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client = bulkOnlyClient((ndjson: string): Promise<BulkResult> => {
      const ids = ndjson
        .split('\n')
        .filter((line) => line !== '')
        .flatMap((line) => {
          const action = JSON.parse(line) as { index?: { _id: string }; delete?: { _id: string } };
          const meta = action.index ?? action.delete;
          return meta && Object.keys(action).length === 1 && ('index' in action || 'delete' in action) ? [meta._id] : [];
        });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise((resolve) => {
        pending.push({
          ids,
          answer: (status) => {
            inFlight -= 1;
            const items = ids.map((id) => ({ id, status: status(id), error: status(id) >= 400 ? { type: 'mapper_parsing_exception', reason: `bad ${id}` } : undefined }));
            resolve({ errors: items.some((item) => item.status >= 400), items });
          },
        });
      });
  });
  return { client, pending, maxInFlight: () => maxInFlight };
}

/** A SearchClient that only answers bulk requests (what `write` uses); every other call fails. */
export function bulkOnlyClient(bulk: SearchClient['bulk']): SearchClient {
  const unused = () => Promise.reject(new Error('not used by write'));
  return {
    flavour: 'elasticsearch',
    bulk,
    exists: unused,
    createIndex: unused,
    deleteIndices: unused,
    aliasTargets: unused,
    updateAliases: unused,
    listIndices: unused,
    refresh: unused,
    count: unused,
    putMapping: unused,
    findIds: unused,
    close: async () => undefined,
  };
}

