import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** GET /pipelines/{id}/runs/{run_id}: one run with its metrics and error. */
export const handler = httpHandler(async ({ params }) => ({ status: 200, body: await services().runs.getRun(params.id ?? '', params.run_id ?? '') }));
