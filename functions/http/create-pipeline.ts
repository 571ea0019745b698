import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** POST /pipelines */
export const handler = httpHandler(async ({ body }) => ({ status: 201, body: await services().manage.create(body) }));
