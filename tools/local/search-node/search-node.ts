/**
 * Runs one real search-engine node on loopback without Docker: Elasticsearch (default) or
 * OpenSearch, fetched from Maven Central with the machine's `mvn` and cached under
 * `.cache/search-node/`. Used by `npm run search:start` (cli.ts) and by tests that start and
 * stop their own node. See docs/SEARCH_NODE.md.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { assertPortFree, freePort } from '../processes.ts';
import os from 'node:os';
import path from 'node:path';
import type { EngineSpec, SearchFlavour } from './engine.ts';
import { elasticsearchEngine } from './engine-elasticsearch.ts';
import { opensearchEngine } from './engine-opensearch.ts';
import { ensureEngine, type InstalledEngine } from './fetch-engine.ts';
import { isOrphaned, spawnNode, stopStaleNode, type NodeProcess } from './node-process.ts';

export type { SearchFlavour } from './engine.ts';

export interface SearchNodeOptions {
  /** HTTP port on 127.0.0.1; 0 or undefined picks a free one. */
  port?: number;
  /** Where the node keeps its indices; undefined means a temporary directory deleted on stop. */
  dataDir?: string;
  /** Receives the launcher's and the node's output, one line at a time. */
  log?: (line: string) => void;
  /** Which engine to run; default 'elasticsearch'. */
  flavour?: SearchFlavour;
  /** A JDK to use instead of the newest suitable one found under /usr/lib/jvm. */
  javaHome?: string;
  /** Where fetched engines are kept; default `<repo>/.cache/search-node`. */
  cacheRoot?: string;
  /** How long to wait for cluster health yellow or green; default 120 s. */
  startTimeoutMs?: number;
}

export interface SearchNode {
  /** e.g. http://127.0.0.1:9200 */
  url: string;
  flavour: SearchFlavour;
  version: string;
  /** The JVM's process id. */
  pid: number;
  dataDir: string;
  /** Resolves with the JVM's exit code when it exits, whether stopped or not (null: killed by a signal). */
  exited: Promise<number | null>;
  /** Stops the node (SIGTERM, SIGKILL after 30 s) and waits until it has exited. */
  stop(): Promise<void>;
}

export interface FetchResult {
  flavour: SearchFlavour;
  version: string;
  home: string;
  fetched: boolean;
  fetchSeconds?: number;
}

export class SearchNodeStartError extends Error {
  override readonly name = 'SearchNodeStartError';
}

const ENGINES: Record<SearchFlavour, EngineSpec> = {
  elasticsearch: elasticsearchEngine,
  opensearch: opensearchEngine,
};
const TEMP_PREFIX = 'search-node-tmp-';
const DEFAULT_START_TIMEOUT_MS = 120_000;
/** Auto-picked ports can be taken between probing and binding; retry with fresh ones. */
const PORT_RACE_ATTEMPTS = 3;

export function engineFor(flavour: SearchFlavour = 'elasticsearch'): { flavour: SearchFlavour; version: string } {
  const engine = ENGINES[flavour];
  return { flavour: engine.flavour, version: engine.version };
}

/** Downloads and lays out the engine if it is not cached yet (what `cli.ts --fetch-only` does). */
export async function fetchSearchEngine(
  options: Pick<SearchNodeOptions, 'flavour' | 'javaHome' | 'cacheRoot' | 'log'> = {},
): Promise<FetchResult> {
  const installed = await ensureEngine(ENGINES[options.flavour ?? 'elasticsearch'], {
    cacheRoot: options.cacheRoot,
    javaHome: options.javaHome,
    log: options.log ?? (() => undefined),
  });
  return {
    flavour: installed.engine.flavour,
    version: installed.engine.version,
    home: installed.home,
    fetched: installed.fetched,
    ...(installed.fetchSeconds === undefined ? {} : { fetchSeconds: installed.fetchSeconds }),
  };
}

export async function startSearchNode(options: SearchNodeOptions = {}): Promise<SearchNode> {
  const log = options.log ?? (() => undefined);
  const installed = await ensureEngine(ENGINES[options.flavour ?? 'elasticsearch'], {
    cacheRoot: options.cacheRoot,
    javaHome: options.javaHome,
    log,
  });
  const temporary = options.dataDir === undefined;
  if (temporary) await removeOrphanedTempDirs(log);
  const dataDir = options.dataDir === undefined ? await mkdtemp(path.join(os.tmpdir(), TEMP_PREFIX)) : path.resolve(options.dataDir);
  try {
    await prepareDataDir(dataDir, log);
    const autoPort = options.port === undefined || options.port === 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce(installed, dataDir, temporary, options, log);
      } catch (error) {
        if (!(autoPort && error instanceof PortTakenError && attempt < PORT_RACE_ATTEMPTS)) throw error;
        log(`port taken while starting (${error.message}); retrying with another port`);
      }
    }
  } catch (error) {
    if (temporary) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

class PortTakenError extends SearchNodeStartError {}

async function startOnce(
  installed: InstalledEngine,
  dataDir: string,
  temporary: boolean,
  options: SearchNodeOptions,
  log: (line: string) => void,
): Promise<SearchNode> {
  const { engine, home, jdk } = installed;
  const httpPort = options.port === undefined || options.port === 0 ? await freePort() : await requireFreePort(options.port);
  const transportPort = await freePort();
  const started = performance.now();
  const plan = await engine.planLaunch({ home, jdk, httpPort, transportPort, dataDir, log });
  log(`starting ${engine.flavour} ${engine.version} on http://127.0.0.1:${httpPort} (Java ${jdk.major}, data: ${dataDir})`);
  const node = await spawnNode(jdk.java, plan, { dataDir, log });
  const url = `http://127.0.0.1:${httpPort}`;
  try {
    await waitForHealth(url, node, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  } catch (error) {
    await node.stop(5_000);
    throw error;
  }
  log(`${engine.flavour} ready at ${url} after ${((performance.now() - started) / 1000).toFixed(1)}s`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await node.stop();
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  return { url, flavour: engine.flavour, version: engine.version, pid: node.pid, dataDir, exited: node.exited, stop };
}

async function prepareDataDir(dataDir: string, log: (line: string) => void): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  await stopStaleNode(dataDir, log);
  for (const sub of ['data', 'logs', 'tmp']) await mkdir(path.join(dataDir, sub), { recursive: true });
}

/**
 * Temporary data directories of nodes whose owner died without stopping them (SIGKILL) would
 * pile up in /tmp; their nodes are already gone or are stopped here.
 */
async function removeOrphanedTempDirs(log: (line: string) => void): Promise<void> {
  const entries = await readdir(os.tmpdir()).catch(() => [] as string[]);
  for (const entry of entries.filter((name) => name.startsWith(TEMP_PREFIX))) {
    const dir = path.join(os.tmpdir(), entry);
    if (!(await isOrphaned(dir))) continue;
    await stopStaleNode(dir, log);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Polls until cluster health is yellow or green; fails early with the node's output if it exits. */
async function waitForHealth(url: string, node: NodeProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (node.hasExited()) throw startFailure(`the node exited with code ${String(await node.exited)} before it was ready`, node);
    if (await isHealthy(url)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw startFailure(`the node was not healthy within ${timeoutMs / 1000}s`, node);
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, { signal: AbortSignal.timeout(3_000) });
    if (!response.ok) {
      await response.body?.cancel();
      return false;
    }
    const health = (await response.json()) as { status?: string };
    return health.status === 'yellow' || health.status === 'green';
  } catch {
    return false; // not listening yet
  }
}

function startFailure(reason: string, node: NodeProcess): SearchNodeStartError {
  const output = node.recentOutput();
  const message = `${reason}. Last output:\n${output.join('\n')}`;
  const portTaken = output.some((line) => /BindException|BindHttpException|BindTransportException|Address already in use/.test(line));
  return portTaken ? new PortTakenError(message) : new SearchNodeStartError(message);
}

async function requireFreePort(port: number): Promise<number> {
  await assertPortFree(
    port,
    (error) =>
      new SearchNodeStartError(
        error.code === 'EADDRINUSE'
          ? `port ${port} is already in use: stop what is listening there, choose another port, or point ES_URL/OPENSEARCH_URL at that engine instead`
          : `cannot bind 127.0.0.1:${port}: ${error.message}`,
      ),
  );
  return port;
}

/** True when nothing listens on 127.0.0.1:`port` (the CLI prefers 9200 when it is free). */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await requireFreePort(port);
    return true;
  } catch {
    return false;
  }
}
