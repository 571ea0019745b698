import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** GET /pipelines/{id}/runs?limit=N&after=<cursor>: one page, newest first, with `next` (null on the last page). */
export const handler = httpHandler(async ({ params, query }) => ({ status: 200, body: await services().runs.listRuns(params.id ?? '', query) }));
