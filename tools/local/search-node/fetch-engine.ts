/**
 * Fetches an engine from Maven Central with the machine's `mvn` and lays out its home under
 * `<cacheRoot>/<flavour>-<version>/`. Later calls find the finished home and return at once.
 * A home is built in a private directory and renamed into place when complete, so an
 * interrupted fetch leaves nothing half-made and concurrent test workers cannot collide.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineSpec } from './engine.ts';
import { findJdk, type Jdk } from './java-runtime.ts';
import { runCommand } from './run-command.ts';

/** Bump when the layout produced here changes, so existing caches are rebuilt. */
const LAYOUT_REVISION = 2;
const MARKER = 'search-node.json';
const POM_DIR = fileURLToPath(new URL('./', import.meta.url));

export const DEFAULT_CACHE_ROOT = fileURLToPath(new URL('../../../.cache/search-node/', import.meta.url));

export interface InstalledEngine {
  engine: EngineSpec;
  home: string;
  jdk: Jdk;
  /** True when this call downloaded and built the home. */
  fetched: boolean;
  /** Seconds the fetch took (only when fetched). */
  fetchSeconds?: number;
}

interface Marker {
  flavour: string;
  version: string;
  layoutRevision: number;
  fetchedAt: string;
  fetchSeconds: number;
}

export async function ensureEngine(
  engine: EngineSpec,
  options: { cacheRoot?: string; javaHome?: string; log: (line: string) => void },
): Promise<InstalledEngine> {
  const home = path.join(options.cacheRoot ?? DEFAULT_CACHE_ROOT, `${engine.flavour}-${engine.version}`);
  const cached = await isComplete(home, engine);
  // A compiler is only needed while building the home.
  const jdk = await findJdk(engine.java, { javaHome: options.javaHome, needCompiler: !cached && engine.needsCompiler });
  if (cached) return { engine, home, jdk, fetched: false };

  const started = performance.now();
  options.log(`fetching ${engine.flavour} ${engine.version} from Maven Central into ${home} (first time only)`);
  const partial = `${home}.partial-${process.pid}-${Date.now()}`;
  try {
    await buildHome(engine, partial, jdk, options.log);
    const fetchSeconds = Math.round((performance.now() - started) / 100) / 10;
    const marker: Marker = {
      flavour: engine.flavour,
      version: engine.version,
      layoutRevision: LAYOUT_REVISION,
      fetchedAt: new Date().toISOString(),
      fetchSeconds,
    };
    await writeFile(path.join(partial, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
    await moveIntoPlace(partial, home, engine);
    options.log(`${engine.flavour} ${engine.version} ready in ${fetchSeconds}s`);
    return { engine, home, jdk, fetched: true, fetchSeconds };
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

async function isComplete(home: string, engine: EngineSpec): Promise<boolean> {
  const text = await readFile(path.join(home, MARKER), 'utf8').catch(() => undefined);
  if (text === undefined) return false;
  const marker = JSON.parse(text) as Partial<Marker>;
  return marker.version === engine.version && marker.layoutRevision === LAYOUT_REVISION;
}

async function buildHome(engine: EngineSpec, home: string, jdk: Jdk, log: (line: string) => void): Promise<void> {
  const jarsDir = path.join(home, '.jars');
  const buildDir = path.join(home, '.build');
  await mkdir(jarsDir, { recursive: true });
  await mkdir(buildDir, { recursive: true });
  await runCommand(
    'mvn',
    [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      path.join(POM_DIR, engine.pom),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${jarsDir}`,
      '-DincludeScope=runtime',
    ],
    { log },
  );
  await engine.prepareHome({ home, jarsDir, buildDir, jdk, log });
  await rm(jarsDir, { recursive: true, force: true });
  await rm(buildDir, { recursive: true, force: true });
}

/** Another process may have finished the same home meanwhile: then keep theirs. */
async function moveIntoPlace(partial: string, home: string, engine: EngineSpec): Promise<void> {
  if (existsSync(home)) {
    if (await isComplete(home, engine)) return;
    // An outdated layout (older LAYOUT_REVISION) or a foreign directory: replace it.
    await rm(home, { recursive: true, force: true });
  }
  await mkdir(path.dirname(home), { recursive: true });
  try {
    await rename(partial, home);
  } catch (error) {
    if (!(await isComplete(home, engine))) throw error;
  }
}
