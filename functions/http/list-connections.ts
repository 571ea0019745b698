import { httpHandler } from '../../lib/runtime/http.ts';
import { services } from '../../lib/runtime/services.ts';

/** GET /connections: the named connections with a quick check; never a password or URL. */
export const handler = httpHandler(async () => ({ status: 200, body: await services().manage.connections() }));
