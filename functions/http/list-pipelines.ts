import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** GET /pipelines?limit=N&after=<cursor>: one page in name order, with `next` (null on the last page). */
export const handler = httpHandler(async ({ query }) => ({ status: 200, body: await services().manage.list(query) }));
