import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../local/embedded-postgres.ts';
import { freePort, isAlive } from '../local/processes.ts';

const childScript = path.resolve('test/support/embedded-postgres-child.ts');

function startChild(dataDir: string, port: number): Promise<ChildProcess> {
  // node itself (not the tsx launcher, which would survive as a separate parent): the PID we
  // SIGKILL must be the process that started PostgreSQL.
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, dataDir, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('READY')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
}

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const content = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  return content === undefined ? undefined : Number(content.split('\n')[0]);
}


async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function selectOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL lifecycle', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'etl-embedded-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('starts again without manual cleanup after the process that started it was SIGKILLed', async () => {
    const dataDir = path.join(root, 'killed');
    const port = await freePort();
    const child = await startChild(dataDir, port);
    const orphan = await postmasterPid(dataDir);
    expect(orphan).toBeGreaterThan(0);

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(isAlive(orphan!)).toBe(true); // the server outlived its parent, holding port and lock

    const server = await startEmbeddedPostgres({ dataDir, port, durable: false });
    try {
      expect(await selectOne(server.adminUrl)).toBe(1);
      expect(isAlive(orphan!)).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it('leaves no server running after the starting process is interrupted (Ctrl-C)', async () => {
    const dataDir = path.join(root, 'interrupted');
    const child = await startChild(dataDir, await freePort());
    const pid = await postmasterPid(dataDir);
    expect(pid).toBeGreaterThan(0);
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
    await waitUntil(() => !isAlive(pid!));
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  });

  it('names the busy port when another process holds it', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await expect(startEmbeddedPostgres({ dataDir: path.join(root, 'busy'), port })).rejects.toThrow(
        `port ${port} is already in use`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
