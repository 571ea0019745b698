/**
 * A fake SearchClient for the sink's pure logic: every bulk request waits until the test answers
 * it (`pending[i].answer(status per id)`), so a test sees what is in flight at each moment.
 */
import type { BulkResult } from '../../lib/adapters/search/search-client.ts';
import { fakeSearchClient } from './search-fixtures.ts';

export interface Pending {
  ids: string[];
  answer: (status: (id: string) => number) => void;
}

export function gatedClient() {
  const pending: Pending[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client = fakeSearchClient((ndjson: string): Promise<BulkResult> => {
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
