import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** GET /pipelines/{id}/state: the incremental checkpoint (nulls before the first committed batch). */
export const handler = httpHandler(async ({ params }) => ({ status: 200, body: await services().runs.getCheckpoint(params.id ?? '') }));
