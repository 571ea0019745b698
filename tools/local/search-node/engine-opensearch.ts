/**
 * OpenSearch 2.19 assembled from Maven Central: the server and its libraries in lib/, and the
 * transport-netty4, lang-painless and analysis-common modules in modules/. Unlike Elasticsearch 9
 * it starts straight from its main class with -E settings, under the Java SecurityManager (so
 * Java 17 to 23).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
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

const VERSION = '2.19.6';
const NETTY_MODULE = 'modules/transport-netty4';
const PAINLESS_MODULE = 'modules/lang-painless';
const ANALYSIS_MODULE = 'modules/analysis-common';

/** The distribution's policy for this module (modules/transport-netty4/plugin-security.policy). */
const NETTY_POLICY = `grant codeBase "\${codebase.netty-common}" {
  permission java.io.FilePermission "/proc/sys/net/core/somaxconn", "read";
  permission java.net.SocketPermission "*", "accept,connect";
  permission java.lang.RuntimePermission "*", "setContextClassLoader";
};

grant codeBase "\${codebase.netty-transport}" {
  permission java.util.PropertyPermission "sun.nio.ch.bugLevel", "write";
};
`;

/** The distribution's policy for modules/lang-painless: compiled scripts are loaded as classes. */
const PAINLESS_POLICY = `grant {
  permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
};
`;

interface ModuleLayout {
  dir: string;
  descriptor: Record<string, string>;
  policy?: string;
}

const MODULES: ModuleLayout[] = [
  {
    dir: NETTY_MODULE,
    descriptor: { name: 'transport-netty4', classname: 'org.opensearch.transport.Netty4Plugin', description: 'Netty 4 based transport implementation' },
    policy: NETTY_POLICY,
  },
  {
    dir: PAINLESS_MODULE,
    descriptor: { name: 'lang-painless', classname: 'org.opensearch.painless.PainlessPlugin', description: 'An easy, safe and fast scripting language' },
    policy: PAINLESS_POLICY,
  },
  {
    dir: ANALYSIS_MODULE,
    // Extends lang-painless: its analysis scripts see painless's classes through that plugin.
    descriptor: {
      name: 'analysis-common',
      classname: 'org.opensearch.analysis.common.CommonAnalysisPlugin',
      description: 'Adds "built in" analyzers',
      'extended.plugins': 'lang-painless',
    },
  },
];

export const opensearchEngine: EngineSpec = {
  flavour: 'opensearch',
  version: VERSION,
  pom: 'opensearch.pom.xml',
  // 2.x installs a SecurityManager, which Java 24 removed.
  java: { min: 17, max: 23 },
  needsCompiler: false,
  prepareHome,
  planLaunch,
};

async function prepareHome(context: PrepareContext): Promise<void> {
  const { home } = context;
  await routeJars(context.jarsDir, home, [
    { prefix: 'transport-netty4-client-', dir: NETTY_MODULE },
    { prefix: 'netty-', dir: NETTY_MODULE },
    { prefix: 'lang-painless-', dir: PAINLESS_MODULE },
    { prefix: 'opensearch-scripting-painless-spi-', dir: PAINLESS_MODULE },
    { prefix: 'antlr4-runtime-', dir: PAINLESS_MODULE },
    { prefix: 'asm-', dir: PAINLESS_MODULE },
    { prefix: 'analysis-common-', dir: ANALYSIS_MODULE },
  ]);
  for (const module of MODULES) await writeModuleMetadata(home, module);
  await mkdir(path.join(home, 'config'), { recursive: true });
  await mkdir(path.join(home, 'plugins'), { recursive: true });
  await writeFile(path.join(home, 'config', 'log4j2.properties'), LOG4J2_PROPERTIES);
  // All settings come as -E options; the file only has to exist.
  await writeFile(path.join(home, 'config', 'opensearch.yml'), '# settings are passed by tools/local/search-node as -E options\n');
}

/** Maven has the modules' jars but not the descriptor and policy the distribution puts beside them. */
async function writeModuleMetadata(home: string, module: ModuleLayout): Promise<void> {
  const descriptor = {
    version: VERSION,
    'java.version': '11',
    'opensearch.version': VERSION,
    'extended.plugins': '',
    'has.native.controller': 'false',
    ...module.descriptor,
  };
  await writeFile(path.join(home, module.dir, 'plugin-descriptor.properties'), settingsToProperties(descriptor));
  if (module.policy !== undefined) await writeFile(path.join(home, module.dir, 'plugin-security.policy'), module.policy);
}

async function planLaunch(context: LaunchContext): Promise<LaunchPlan> {
  const { home } = context;
  const settings = Object.entries(nodeSettings(context)).map(([key, value]) => `-E${key}=${value}`);
  return {
    args: [
      ...commonJvmOptions(context),
      // JNA's native half stays unloaded, so OpenSearch cannot detect (and refuse) running as
      // root, which is how CI runs; it only loses mlockall and the syscall filter.
      '-Djna.nosys=true',
      '-Djna.nounpack=true',
      '-Djava.security.manager=allow',
      `-Dopensearch.path.home=${home}`,
      `-Dopensearch.path.conf=${path.join(home, 'config')}`,
      '-Dopensearch.distribution.type=tar',
      '-Dopensearch.bundled_jdk=false',
      '-cp',
      path.join(home, 'lib', '*'),
      'org.opensearch.bootstrap.OpenSearch',
      ...settings,
    ],
    env: {},
  };
}
