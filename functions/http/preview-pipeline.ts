import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** POST /pipelines/{id}/preview: the checks and the first rows, written nowhere. */
export const handler = httpHandler(async ({ params }) => ({ status: 200, body: await services().preview(params.id ?? '') }));
