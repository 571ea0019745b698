import { ValidationError } from '../../lib/core/errors.ts';
import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** GET /pipelines/{id}/runs?limit=N (newest first, default 50, at most 500). */
export const handler = httpHandler(async ({ params, query }) => {
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ValidationError('limit: must be an integer from 1 to 500', 'limit');
  return { status: 200, body: { runs: await services().runs.listRuns(params.id ?? '', limit) } };
});
