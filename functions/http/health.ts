import { checkHealth } from '../../lib/runtime/health.ts';
import { httpHandler } from '../../lib/runtime/http.ts';

/** GET /health: public; 200 {"status":"ok"} when the state database accepts a new session, else 503 with the reason. */
export const handler = httpHandler(async () => ({ status: 200, body: await checkHealth() }), { public: true });
