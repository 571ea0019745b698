/** Starts an embedded PostgreSQL and waits: a stand-in for `npm start` in process-lifecycle tests. */
import { startEmbeddedPostgres } from '../../tools/local/embedded-postgres.ts';

const [dataDir, port] = process.argv.slice(2);
if (!dataDir || !port) throw new Error('usage: embedded-postgres-child <dataDir> <port>');
const server = await startEmbeddedPostgres({ dataDir, port: Number(port), durable: false });
console.log(`READY ${server.adminUrl}`);
const stop = () => {
  void server.stop().finally(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
setInterval(() => undefined, 60_000);
