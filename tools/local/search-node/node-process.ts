/**
 * The search engine's JVM as a child process that never outlives the Node process that started
 * it, by three independent means:
 *  - the kernel: on Linux the JVM is started through `setpriv --pdeathsig SIGTERM`, so it gets
 *    SIGTERM when its parent dies, even by SIGKILL;
 *  - the engine: Elasticsearch shuts down when its stdin closes, which happens when we die;
 *  - this process: exit/SIGINT/SIGTERM/SIGHUP handlers stop every live node.
 * A pid file in the node's data directory lets the next start stop a node that survived anyway
 * (where there is no setpriv, e.g. macOS, and the engine ignores stdin, as OpenSearch does).
 * Note: pdeathsig follows the *thread* that spawned the JVM, so a node started from a worker
 * thread (vitest's threads pool) stops when that worker ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LaunchPlan } from './engine.ts';
import { isAlive } from '../processes.ts';

const PID_FILE = 'search-node.pid';
const SETPRIV = '/usr/bin/setpriv';
const RECENT_LINES = 60;

export interface NodeProcess {
  pid: number;
  /** Resolves with the exit code (null when killed by a signal) once the JVM has exited. */
  exited: Promise<number | null>;
  hasExited(): boolean;
  /** The last lines the node printed, for error messages. */
  recentOutput(): string[];
  /** Graceful stop (stdin closed + SIGTERM), SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

interface PidRecord {
  pid: number;
  ownerPid: number;
  dataDir: string;
}

export async function spawnNode(
  java: string,
  plan: LaunchPlan,
  options: { dataDir: string; log: (line: string) => void },
): Promise<NodeProcess> {
  const usePdeathsig = process.platform === 'linux' && existsSync(SETPRIV);
  const command = usePdeathsig ? SETPRIV : java;
  const args = usePdeathsig ? ['--pdeathsig', 'SIGTERM', '--', java, ...plan.args] : plan.args;
  const child = spawn(command, args, {
    cwd: options.dataDir,
    // A fixed environment: the caller's JAVA_TOOL_OPTIONS, ES_JAVA_OPTS etc. must not leak in.
    env: { LANG: 'C.UTF-8', ...plan.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Own process group: a terminal's Ctrl-C reaches only us, and we stop the node in order
    // (the pdeathsig and stdin safeguards above still tie it to us).
    detached: true,
  });
  const recent: string[] = [];
  const onLine = (line: string) => {
    recent.push(line);
    if (recent.length > RECENT_LINES) recent.shift();
    options.log(line);
  };
  forwardLines(child, onLine);

  let exitedFlag = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exitedFlag = true;
      liveNodes.delete(child);
      uninstallSignalHandlersWhenIdle();
      resolve(code);
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${java}`);
  // A write after the JVM died must not crash us with EPIPE; exit is reported through `exited`.
  child.stdin?.on('error', () => undefined);
  if (plan.stdin !== undefined) child.stdin?.write(plan.stdin);

  liveNodes.add(child);
  installSignalHandlers();
  const record: PidRecord = { pid, ownerPid: process.pid, dataDir: options.dataDir };
  await writeFile(path.join(options.dataDir, PID_FILE), `${JSON.stringify(record)}\n`);

  const stop = async (graceMs = 30_000) => {
    if (!exitedFlag) {
      child.stdin?.end();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    await rm(path.join(options.dataDir, PID_FILE), { force: true });
  };
  return { pid, exited, hasExited: () => exitedFlag, recentOutput: () => [...recent], stop };
}

function forwardLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') onLine(line);
    });
    stream?.on('end', () => {
      if (pending.trim() !== '') onLine(pending);
    });
  }
}

/**
 * Stops a node recorded in `dataDir` whose owner is gone (killed before it could stop it). A
 * node whose owner is still running is in use: starting a second one on the same data would
 * fail on the engine's lock anyway, so say so clearly instead. Only a process whose command line
 * names this data directory is touched, so a recycled pid is never killed by mistake.
 */
export async function stopStaleNode(dataDir: string, log: (line: string) => void): Promise<void> {
  const record = await readPidRecord(dataDir);
  if (record === undefined) return;
  const nodeRunning = isAlive(record.pid) && (await commandLineOf(record.pid)).includes(dataDir);
  if (nodeRunning && isAlive(record.ownerPid)) {
    throw new Error(`${dataDir} is in use by a search node (pid ${record.pid}) that process ${record.ownerPid} started and still runs: stop it, or use another data directory`);
  }
  if (nodeRunning) {
    log(`stopping a search node left running by an earlier process (pid ${record.pid}, owner ${record.ownerPid} is gone)`);
    await terminate(record.pid);
  }
  await rm(path.join(dataDir, PID_FILE), { force: true });
}

/** True when `dataDir` holds a pid file whose owner process is no longer running. */
export async function isOrphaned(dataDir: string): Promise<boolean> {
  const record = await readPidRecord(dataDir);
  return record !== undefined && !isAlive(record.ownerPid);
}

async function readPidRecord(dataDir: string): Promise<PidRecord | undefined> {
  const text = await readFile(path.join(dataDir, PID_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as Partial<PidRecord>;
    if (typeof record.pid !== 'number' || typeof record.ownerPid !== 'number') return undefined;
    return { pid: record.pid, ownerPid: record.ownerPid, dataDir };
  } catch {
    return undefined;
  }
}

async function terminate(pid: number): Promise<void> {
  signal(pid, 'SIGTERM');
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited === 20_000) signal(pid, 'SIGKILL');
    if (waited > 30_000) throw new Error(`could not stop the stale search node (pid ${pid})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function commandLineOf(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
}

// ---- process-wide exit handling ----------------------------------------------------------

const liveNodes = new Set<ChildProcess>();
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let handlersInstalled = false;

/** On exit nothing can be awaited: SIGTERM lets each JVM finish shutting down on its own. */
function killAllOnExit(): void {
  for (const child of liveNodes) child.kill('SIGTERM');
}

function onSignal(name: NodeJS.Signals): void {
  killAllOnExit();
  // If nobody else handles this signal, do what Node would have done without us: die by it.
  if (process.listenerCount(name) === 1) {
    uninstallSignalHandlers();
    process.kill(process.pid, name);
  }
}

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllOnExit);
  for (const name of FORWARDED_SIGNALS) process.on(name, onSignal);
}

function uninstallSignalHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off('exit', killAllOnExit);
  for (const name of FORWARDED_SIGNALS) process.off(name, onSignal);
}

/** Without live nodes the handlers must not change how the host process reacts to signals. */
function uninstallSignalHandlersWhenIdle(): void {
  if (liveNodes.size === 0) uninstallSignalHandlers();
}
