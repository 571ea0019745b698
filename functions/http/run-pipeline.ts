import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** POST /pipelines/{id}/run: starts a run, or resumes a paused one, as a new execution. */
export const handler = httpHandler(async ({ params }) => {
  const accepted = await services().runs.requestRun(params.id ?? '');
  return { status: 202, body: accepted };
});
