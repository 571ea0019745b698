import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** GET /pipelines */
export const handler = httpHandler(async () => ({ status: 200, body: { pipelines: await services().manage.list() } }));
