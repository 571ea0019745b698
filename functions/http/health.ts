import { httpHandler } from '../../lib/runtime/http.ts';
import { getPool } from '../../lib/runtime/pg-pool.ts';

/** GET /health: public; 200 when the database answers. */
export const handler = httpHandler(
  async () => {
    await getPool().query('SELECT 1');
    return { status: 200, body: { status: 'ok' } };
  },
  { public: true },
);
