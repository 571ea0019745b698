import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** DELETE /pipelines/{id}: only when not running or paused. */
export const handler = httpHandler(async ({ params }) => {
  await services().manage.remove(params.id ?? '');
  return { status: 204 };
});
