import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** GET /pipelines/{id}: the pipeline with its status and last run. */
export const handler = httpHandler(async ({ params }) => ({ status: 200, body: await services().manage.get(params.id ?? '') }));
