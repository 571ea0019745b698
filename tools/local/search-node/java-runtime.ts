/**
 * Finds a JDK whose major version suits the engine: Elasticsearch 9 needs Java 21+, while
 * OpenSearch 2.x needs a Java that still has the SecurityManager (17 to 23). The machine's
 * default `java` is often the wrong one, so JDKs are looked up by their `release` file.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';

export interface JavaRange {
  min: number;
  /** Highest major version that works; undefined means no known upper bound. */
  max?: number;
}

export interface Jdk {
  home: string;
  major: number;
  java: string;
  /** Present only when the installation is a full JDK (compiling the launcher's shims needs it). */
  javac?: string;
  jar?: string;
}

/** Where Debian packages, Temurin .debs and most container images put JDKs. */
const JDK_PARENT_DIRS = ['/usr/lib/jvm', '/opt/java', '/usr/local/lib/jvm'];

export class JavaNotFoundError extends Error {
  override readonly name = 'JavaNotFoundError';
}

export async function findJdk(range: JavaRange, options: { javaHome?: string; needCompiler?: boolean }): Promise<Jdk> {
  const wanted = describeRange(range);
  if (options.javaHome !== undefined) {
    const jdk = await inspectJavaHome(options.javaHome);
    if (jdk === undefined) throw new JavaNotFoundError(`javaHome ${options.javaHome} has no bin/java or release file`);
    if (!fits(jdk, range, options.needCompiler))
      throw new JavaNotFoundError(`javaHome ${options.javaHome} is Java ${jdk.major}${jdk.javac ? '' : ' (no javac)'}; this engine needs ${wanted}`);
    return jdk;
  }
  const candidates = await listInstalledJdks();
  // Highest suitable version first: newer JDKs start the engines slightly faster.
  const match = candidates.filter((jdk) => fits(jdk, range, options.needCompiler)).sort((a, b) => b.major - a.major)[0];
  if (match !== undefined) return match;
  const seen = candidates.map((jdk) => `${jdk.home} (Java ${jdk.major})`).join(', ') || 'none';
  throw new JavaNotFoundError(
    `no ${wanted}${options.needCompiler ? ' JDK (with javac)' : ''} found under ${JDK_PARENT_DIRS.join(', ')}; found: ${seen}. ` +
      'Install one (e.g. apt-get install openjdk-21-jdk-headless) or pass javaHome.',
  );
}

function fits(jdk: Jdk, range: JavaRange, needCompiler: boolean | undefined): boolean {
  if (needCompiler === true && (jdk.javac === undefined || jdk.jar === undefined)) return false;
  return jdk.major >= range.min && (range.max === undefined || jdk.major <= range.max);
}

function describeRange(range: JavaRange): string {
  return range.max === undefined ? `Java ${range.min}+` : `Java ${range.min} to ${range.max}`;
}

async function listInstalledJdks(): Promise<Jdk[]> {
  const homes = new Set<string>();
  for (const parent of JDK_PARENT_DIRS) {
    const entries = await readdir(parent).catch(() => [] as string[]);
    for (const entry of entries) {
      // Debian adds alias symlinks (java-1.17.0-openjdk-amd64 -> java-17-openjdk-amd64): count each JDK once.
      const resolved = await realpath(path.join(parent, entry)).catch(() => undefined);
      if (resolved !== undefined) homes.add(resolved);
    }
  }
  const jdks = await Promise.all([...homes].map((home) => inspectJavaHome(home)));
  return jdks.filter((jdk): jdk is Jdk => jdk !== undefined);
}

async function inspectJavaHome(home: string): Promise<Jdk | undefined> {
  const java = path.join(home, 'bin', 'java');
  if (!existsSync(java)) return undefined;
  const release = await readFile(path.join(home, 'release'), 'utf8').catch(() => '');
  const version = /^JAVA_VERSION="([^"]+)"/m.exec(release)?.[1];
  if (version === undefined) return undefined;
  // "1.8.0_392" is Java 8; "17.0.15" and "25" are 17 and 25.
  const parts = version.split('.');
  const major = Number(parts[0] === '1' ? parts[1] : parts[0]);
  if (!Number.isInteger(major)) return undefined;
  const javac = path.join(home, 'bin', 'javac');
  const jar = path.join(home, 'bin', 'jar');
  return {
    home,
    major,
    java,
    ...(existsSync(javac) ? { javac } : {}),
    ...(existsSync(jar) ? { jar } : {}),
  };
}
