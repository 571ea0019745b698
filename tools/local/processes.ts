/** Process and port checks shared by the local services (PostgreSQL, search node, tests). */
import net from 'node:net';

/** True when the process exists (EPERM: it exists but belongs to another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Picks a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Resolves when 127.0.0.1:`port` can be bound; otherwise rejects with `describe(error)`, so each
 * service can say what to do about a busy port in its own terms.
 */
export async function assertPortFree(port: number, describe: (error: NodeJS.ErrnoException) => Error): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(describe(error)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}
