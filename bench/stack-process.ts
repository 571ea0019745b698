/**
 * The local stack as a user starts it: `npm start`'s code path (tools/local/start.ts) in its own
 * process and process group, on the ports and data directory given in `env`, its output written
 * to a log file (never buffered here). Ready when it prints that the platform is running;
 * stopped with SIGINT, as Ctrl-C does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';

const READY = 'ETL platform is running.';
const START_LIMIT_MS = 300_000;

export interface StackProcess {
  pid: number;
  stop(): Promise<void>;
}

export async function startStackProcess(env: NodeJS.ProcessEnv, logFile: string): Promise<StackProcess> {
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('tools/local/start.ts')], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', log],
  });
  closeSync(log);
  const stop = () => stopGroup(child);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the stack did not start within ${START_LIMIT_MS / 1000} s (see ${logFile})`)), START_LIMIT_MS);
      let seen = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        if (seen.includes(READY)) return;
        seen += chunk.toString();
        if (seen.includes(READY)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the stack exited with code ${code} while starting (see ${logFile})`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid!, stop };
}

/** SIGINT (Ctrl-C) to the stack; its whole process group is killed if it has not ended in 60 s. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 60_000);
  await exited;
  clearTimeout(timer);
}
