import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** POST /pipelines/{id}/reset: the next run reads from the beginning; abandons a paused run. */
export const handler = httpHandler(async ({ params }) => ({ status: 200, body: await services().manage.reset(params.id ?? '') }));
