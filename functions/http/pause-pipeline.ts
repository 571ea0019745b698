import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** POST /pipelines/{id}/pause: the run stops at the next batch boundary. */
export const handler = httpHandler(async ({ params }) => ({ status: 202, body: await services().runs.requestPause(params.id ?? '') }));
