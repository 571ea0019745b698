/**
 * Elasticsearch 9 assembled from Maven Central. Central has the server, its libraries, the
 * transport-netty4 module and the entitlement bridge, but not the distribution's tools, so the
 * launcher stands in for the pieces the server needs at start (sources in ./java):
 *  - server-cli: the server reads its settings as a serialized ServerArgs from stdin and shuts
 *    down when stdin closes; WriteServerArgs produces those bytes with the server's own classes.
 *  - the entitlement agent jar (Java 24+ has no SecurityManager, so entitlements are mandatory).
 *  - lib/tools/ansi-console, which the server always loads.
 *  - the rest-root module (GET / and HEAD /, used by clients' info() and ping()).
 * Modules that are not published (analysis-common, lang-painless, mapper-extras, reindex,
 * x-pack, ...) are absent: see docs/SEARCH_NODE.md.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  commonJvmOptions,
  LOG4J2_PROPERTIES,
  nodeSettings,
  routeJars,
  settingsToProperties,
  type EngineSpec,
  type LaunchContext,
  type LaunchPlan,
  type PrepareContext,
} from './engine.ts';
import { runCommand } from './run-command.ts';

const VERSION = '9.5.3';
const JAVA_SOURCES = fileURLToPath(new URL('./java/', import.meta.url));
const SOURCE_FILES = [
  'esnode/EntitlementAgent.java',
  'esnode/WriteServerArgs.java',
  'esnode/root/RootInfoPlugin.java',
  'org/elasticsearch/io/ansi/AnsiConsoleLoader.java',
];

/** Paths inside the home, relative to it. */
const BRIDGE_JAR = `lib/entitlement-bridge/elasticsearch-entitlement-bridge-${VERSION}.jar`;
const AGENT_JAR = 'lib/tools/search-node/entitlement-agent.jar';
const LAUNCHER_JAR = 'lib/tools/search-node/launcher.jar';
const NETTY_MODULE = 'modules/transport-netty4';

export const elasticsearchEngine: EngineSpec = {
  flavour: 'elasticsearch',
  version: VERSION,
  pom: 'elasticsearch.pom.xml',
  // Elasticsearch 9 needs 21+; on 24+ it runs with entitlements (tested on Temurin 25).
  java: { min: 21 },
  needsCompiler: true,
  prepareHome,
  planLaunch,
};

async function prepareHome(context: PrepareContext): Promise<void> {
  const { home } = context;
  await routeJars(context.jarsDir, home, [
    // Patched into java.base at start, so it must stay off the module path (lib/).
    { prefix: 'elasticsearch-entitlement-bridge-', dir: 'lib/entitlement-bridge' },
    { prefix: 'transport-netty4-', dir: NETTY_MODULE },
    { prefix: 'netty-', dir: NETTY_MODULE },
  ]);
  await extractNettyMetadata(context);
  await buildShims(context);
  await mkdir(path.join(home, 'config'), { recursive: true });
  await mkdir(path.join(home, 'plugins'), { recursive: true });
  await writeFile(path.join(home, 'config', 'log4j2.properties'), LOG4J2_PROPERTIES);
}

/** The module jar carries its plugin descriptor and entitlement policy; the server wants them beside it. */
async function extractNettyMetadata(context: PrepareContext): Promise<void> {
  const jar = path.join(context.home, NETTY_MODULE, `transport-netty4-${VERSION}.jar`);
  const into = path.join(context.buildDir, 'netty-metadata');
  await mkdir(into, { recursive: true });
  await runCommand(requireTool(context.jdk.jar, 'jar'), ['xf', jar, 'META-INF/es-plugins/transport-netty4/'], { cwd: into });
  for (const file of ['plugin-descriptor.properties', 'entitlement-policy.yaml']) {
    await copyFile(path.join(into, 'META-INF/es-plugins/transport-netty4', file), path.join(context.home, NETTY_MODULE, file));
  }
}

async function buildShims(context: PrepareContext): Promise<void> {
  const { home, buildDir, jdk } = context;
  const javac = requireTool(jdk.javac, 'javac');
  const jar = requireTool(jdk.jar, 'jar');
  const classes = path.join(buildDir, 'classes');
  await runCommand(
    javac,
    ['--release', '21', '-proc:none', '-nowarn', '-d', classes, '-cp', path.join(home, 'lib', '*'), ...SOURCE_FILES.map((file) => path.join(JAVA_SOURCES, file))],
    { log: context.log },
  );

  const manifest = path.join(buildDir, 'agent.mf');
  await writeFile(manifest, 'Agent-Class: esnode.EntitlementAgent\nCan-Retransform-Classes: true\nCan-Redefine-Classes: true\n');
  await mkdir(path.join(home, 'lib', 'tools', 'search-node'), { recursive: true });
  await runCommand(jar, ['--create', '--file', path.join(home, AGENT_JAR), '--manifest', manifest, '-C', classes, 'esnode/EntitlementAgent.class']);
  await runCommand(jar, ['--create', '--file', path.join(home, LAUNCHER_JAR), '-C', classes, 'esnode/WriteServerArgs.class']);

  await mkdir(path.join(home, 'lib', 'tools', 'ansi-console'), { recursive: true });
  await runCommand(jar, ['--create', '--file', path.join(home, 'lib/tools/ansi-console/search-node-ansi-console.jar'), '-C', classes, 'org/elasticsearch/io/ansi']);

  const rootModule = path.join(home, 'modules', 'search-node-root');
  await mkdir(rootModule, { recursive: true });
  await runCommand(jar, ['--create', '--file', path.join(rootModule, 'search-node-root.jar'), '-C', classes, 'esnode/root']);
  await writeFile(
    path.join(rootModule, 'plugin-descriptor.properties'),
    settingsToProperties({
      description: 'GET / and HEAD / (stands in for the rest-root module, which is not on Maven Central)',
      version: VERSION,
      name: 'search-node-root',
      classname: 'esnode.root.RootInfoPlugin',
      'java.version': '21',
      'elasticsearch.version': VERSION,
    }),
  );
}

async function planLaunch(context: LaunchContext): Promise<LaunchPlan> {
  const { home, dataDir } = context;
  const tmp = path.join(dataDir, 'tmp');
  return {
    args: [
      ...commonJvmOptions(context),
      '-Djna.nosys=true',
      '-Djava.locale.providers=CLDR',
      `-Des.path.home=${home}`,
      '-Des.distribution.type=tar',
      '--add-opens=org.apache.lucene.core/org.apache.lucene.codecs.lucene99=org.elasticsearch.server',
      '--add-opens=org.apache.lucene.core/org.apache.lucene.internal.vectorization=org.elasticsearch.server',
      '--enable-native-access=org.elasticsearch.nativeaccess,org.apache.lucene.core',
      '--enable-native-access=ALL-UNNAMED',
      // Entitlements: the server attaches the agent to itself and patches the bridge into java.base.
      '-XX:+EnableDynamicAgentLoading',
      '-Djdk.attach.allowAttachSelf=true',
      `--patch-module=java.base=${path.join(home, BRIDGE_JAR)}`,
      '--add-exports=java.base/org.elasticsearch.entitlement.bridge=org.elasticsearch.entitlement,java.logging,java.net.http,java.naming,jdk.net',
      `-Des.entitlement.agentJar=${path.join(home, AGENT_JAR)}`,
      '--add-modules=jdk.incubator.vector',
      `--module-path=${path.join(home, 'lib')}`,
      '--add-modules=jdk.net',
      '--add-modules=jdk.management.agent',
      '--add-modules=ALL-MODULE-PATH',
      '-m',
      'org.elasticsearch.server/org.elasticsearch.bootstrap.Elasticsearch',
    ],
    // The server refuses to start without it (it checks where libffi may write).
    env: { LIBFFI_TMPDIR: tmp },
    stdin: await serverArgs(context),
  };
}

/** Serializes the node's settings the way server-cli would, with the fetched server's classes. */
async function serverArgs(context: LaunchContext): Promise<Buffer> {
  const { home, dataDir } = context;
  const file = path.join(dataDir, 'tmp', 'server-args.bin');
  const settings = Object.entries(nodeSettings(context)).map(([key, value]) => `${key}=${value}`);
  await runCommand(context.jdk.java, [
    '-cp',
    `${path.join(home, LAUNCHER_JAR)}${path.delimiter}${path.join(home, 'lib', '*')}`,
    'esnode.WriteServerArgs',
    home,
    path.join(home, 'config'),
    path.join(dataDir, 'logs'),
    file,
    ...settings,
  ]);
  const bytes = await readFile(file);
  await rm(file, { force: true });
  return bytes;
}

function requireTool(tool: string | undefined, name: string): string {
  if (tool === undefined) throw new Error(`the selected Java installation has no ${name}: a full JDK is needed to prepare Elasticsearch`);
  return tool;
}
