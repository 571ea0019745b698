import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** PATCH /pipelines/{id}: batch_size, source, target or tasks, while not running. */
export const handler = httpHandler(async ({ params, body }) => ({ status: 200, body: await services().manage.update(params.id ?? '', body) }));
