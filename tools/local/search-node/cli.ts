/**
 * `npm run search:start` — runs a local search node in the foreground until Ctrl-C.
 *
 *   --flavour elasticsearch|opensearch   engine (default elasticsearch; env SEARCH_NODE_FLAVOUR)
 *   --port N                             HTTP port (default 9200 when free, else a free one; env SEARCH_NODE_PORT)
 *   --data-dir DIR                       indices (default .data/search-node/<flavour>; env SEARCH_NODE_DATA_DIR)
 *   --java-home DIR                      JDK to use (default: newest suitable; env SEARCH_NODE_JAVA_HOME)
 *   --fetch-only                         only download/cache the engine, print how long it took, exit
 *   --quiet                              do not echo the node's log
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { engineFor, fetchSearchEngine, isPortFree, startSearchNode, type SearchFlavour } from './search-node.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PREFERRED_PORT = 9200;
const USAGE = `usage: npm run search:start -- [--flavour elasticsearch|opensearch] [--port N] [--data-dir DIR]
                                [--java-home DIR] [--fetch-only] [--quiet]
Runs a local search node until Ctrl-C (see docs/SEARCH_NODE.md).`;

interface CliOptions {
  flavour: SearchFlavour;
  port?: number;
  dataDir: string;
  javaHome?: string;
  fetchOnly: boolean;
  quiet: boolean;
}

function readOptions(): CliOptions {
  const { values } = parseArgs({
    options: {
      flavour: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'java-home': { type: 'string' },
      'fetch-only': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const flavour = values.flavour ?? process.env['SEARCH_NODE_FLAVOUR'] ?? 'elasticsearch';
  if (flavour !== 'elasticsearch' && flavour !== 'opensearch') throw new Error(`--flavour must be elasticsearch or opensearch, not ${flavour}`);
  const portText = values.port ?? process.env['SEARCH_NODE_PORT'];
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`invalid port ${String(portText)}`);
  const javaHome = values['java-home'] ?? process.env['SEARCH_NODE_JAVA_HOME'];
  return {
    flavour,
    ...(port === undefined ? {} : { port }),
    dataDir: path.resolve(values['data-dir'] ?? process.env['SEARCH_NODE_DATA_DIR'] ?? path.join(REPO_ROOT, '.data', 'search-node', flavour)),
    ...(javaHome === undefined ? {} : { javaHome }),
    fetchOnly: values['fetch-only'],
    quiet: values.quiet,
  };
}

async function fetchOnly(options: CliOptions): Promise<void> {
  const started = performance.now();
  const result = await fetchSearchEngine({ flavour: options.flavour, javaHome: options.javaHome, log: (line) => console.log(line) });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${result.flavour} ${result.version} ${result.fetched ? 'fetched' : 'already cached'} in ${seconds}s: ${result.home}`);
}

async function runForeground(options: CliOptions): Promise<void> {
  const { version } = engineFor(options.flavour);
  // 9200 is what tools expect; fall back to any free port rather than fail when it is taken.
  const port = options.port ?? ((await isPortFree(PREFERRED_PORT)) ? PREFERRED_PORT : 0);
  if (options.port === undefined && port === 0) console.log(`port ${PREFERRED_PORT} is in use; picking a free port`);
  const node = await startSearchNode({
    flavour: options.flavour,
    port,
    dataDir: options.dataDir,
    ...(options.javaHome === undefined ? {} : { javaHome: options.javaHome }),
    log: options.quiet ? (line) => (line.includes('[ERROR]') ? console.error(line) : undefined) : (line) => console.log(line),
  });
  const variable = node.flavour === 'elasticsearch' ? 'ES_URL' : 'OPENSEARCH_URL';
  console.log('');
  console.log(`${node.flavour} ${version} is running at ${node.url} (pid ${node.pid}, data ${node.dataDir})`);
  console.log(`  export ${variable}=${node.url}`);
  console.log('Press Ctrl-C to stop.');

  const reason = await new Promise<'signal' | 'exited'>((resolve) => {
    const onSignal = (name: NodeJS.Signals) => {
      console.log(`\n${name}: stopping the node...`);
      resolve('signal');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    void node.exited.then(() => resolve('exited'));
  });
  await node.stop();
  // The node dying on its own is a failure the caller (a script, CI) must see.
  if (reason === 'exited') throw new Error(`the node exited unexpectedly (code ${String(await node.exited)})`);
  console.log('stopped');
}

async function main(): Promise<void> {
  const options = readOptions();
  if (options.fetchOnly) await fetchOnly(options);
  else await runForeground(options);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) console.error(USAGE);
  process.exit(1);
}
