/**
 * What the launcher needs to know about one search engine: which Maven artifacts make it, which
 * Java runs it, how its home directory is laid out, and how a node is started. The two
 * implementations are engine-elasticsearch.ts and engine-opensearch.ts.
 */
import { mkdir, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import type { JavaRange, Jdk } from './java-runtime.ts';

export type SearchFlavour = 'elasticsearch' | 'opensearch';

export interface PrepareContext {
  /** The engine's home being built (moved into the cache once complete). */
  home: string;
  /** Everything `mvn dependency:copy-dependencies` resolved from the engine's pom. */
  jarsDir: string;
  /** Scratch space for compiling; deleted afterwards. */
  buildDir: string;
  jdk: Jdk;
  log: (line: string) => void;
}

export interface LaunchContext {
  home: string;
  jdk: Jdk;
  httpPort: number;
  transportPort: number;
  /** Node's own files: data/, logs/, tmp/. */
  dataDir: string;
  log: (line: string) => void;
}

export interface LaunchPlan {
  args: string[];
  env: Record<string, string>;
  /** Bytes written to the node's stdin at start; the pipe then stays open (see node-process.ts). */
  stdin?: Buffer;
}

export interface EngineSpec {
  flavour: SearchFlavour;
  version: string;
  /** Maven project file beside this module. */
  pom: string;
  java: JavaRange;
  /** True when preparing the home compiles small Java shims (needs javac and jar). */
  needsCompiler: boolean;
  prepareHome(context: PrepareContext): Promise<void>;
  planLaunch(context: LaunchContext): Promise<LaunchPlan>;
}

/** Node settings shared by both engines: a private single-node cluster on loopback. */
export function nodeSettings(context: LaunchContext): Record<string, string> {
  return {
    'cluster.name': 'search-node',
    'node.name': 'search-node',
    'path.data': path.join(context.dataDir, 'data'),
    'path.logs': path.join(context.dataDir, 'logs'),
    'network.host': '127.0.0.1',
    'http.port': String(context.httpPort),
    'transport.port': String(context.transportPort),
    'discovery.type': 'single-node',
    // A nearly full developer or CI disk must not turn indices read-only mid-test.
    'cluster.routing.allocation.disk.threshold_enabled': 'false',
    // Lets tests clean up with DELETE /test-*; this node never holds anything precious.
    'action.destructive_requires_name': 'false',
  };
}

/** JVM options both engines take; sizes suit a 2-core machine running tests beside the node. */
export function commonJvmOptions(context: LaunchContext): string[] {
  return [
    '-Xms256m',
    '-Xmx512m',
    // Serial GC: fewest GC threads and smallest footprint for a 512 MB heap on 2 cores.
    '-XX:+UseSerialGC',
    '-Xss1m',
    '-Djava.awt.headless=true',
    '-Dfile.encoding=UTF-8',
    '-XX:-OmitStackTraceInFastThrow',
    '-XX:+ExitOnOutOfMemoryError',
    `-XX:ErrorFile=${path.join(context.dataDir, 'logs', 'hs_err_pid%p.log')}`,
    `-Djava.io.tmpdir=${path.join(context.dataDir, 'tmp')}`,
    '-Dio.netty.noUnsafe=true',
    '-Dio.netty.noKeySetOptimization=true',
    '-Dio.netty.recycler.maxCapacityPerThread=0',
    '-Dlog4j.shutdownHookEnabled=false',
    '-Dlog4j2.disable.jmx=true',
    '-Dlog4j2.formatMsgNoLookups=true',
  ];
}

/**
 * Logs go to stdout only: the launcher forwards them line by line and keeps the tail for errors.
 * Warnings that are expected on a loopback development node (no native library, production
 * bootstrap checks, no bundled JDK) are hidden so that real problems stand out.
 */
export const LOG4J2_PROPERTIES = `status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.es_native.name = org.elasticsearch.nativeaccess
logger.es_native.level = error
logger.es_checks.name = org.elasticsearch.bootstrap.BootstrapChecks
logger.es_checks.level = error
logger.os_native.name = org.opensearch.bootstrap.Natives
logger.os_native.level = error
logger.os_checks.name = org.opensearch.bootstrap.BootstrapChecks
logger.os_checks.level = error
logger.os_no_jdk.name = org.opensearch.deprecation.node.Node
logger.os_no_jdk.level = error
`;

/**
 * Moves each resolved jar to the directory of the first rule whose prefix its file name starts
 * with (relative to home), or to lib/. Maven names copies `<artifactId>-<version>.jar`, and the
 * engines' security policies refer to jars by those names, so names are kept as they are.
 */
export async function routeJars(
  jarsDir: string,
  home: string,
  rules: ReadonlyArray<{ prefix: string; dir: string }>,
): Promise<void> {
  for (const file of await readdir(jarsDir)) {
    if (!file.endsWith('.jar')) continue;
    const target = path.join(home, rules.find((rule) => file.startsWith(rule.prefix))?.dir ?? 'lib');
    await mkdir(target, { recursive: true });
    await rename(path.join(jarsDir, file), path.join(target, file));
  }
}

export function settingsToProperties(entries: Record<string, string>): string {
  return `${Object.entries(entries)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}
