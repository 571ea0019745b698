/**
 * The layers and what each may import: an allow-list, so that anything new fails until it is
 * placed. Internal imports are resolved to the layer they land in; packages are checked by name.
 *
 *   functions/        -> lib/runtime (a handler assembles one use-case; no SQL, no clients)
 *   lib/runtime/      -> lib/core, lib/adapters, lib/transforms, lib/runtime
 *   lib/adapters/     -> lib/core, lib/adapters
 *   lib/transforms/   -> lib/core, lib/transforms, zod, jsonata
 *   lib/core/         -> lib/core, zod (no I/O library, not even node:*)
 *   lib/db/           -> lib/db (migrations runner)
 *
 * Every folder of lib/ and functions/ must be named here, and neither ever imports the local
 * tooling (tools/): the product runs in Lambda, where tools/ is not deployed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve('.');

interface Rule {
  layer: string;
  internal: string[];
  /** Packages allowed (prefix match); `true` allows any package. */
  packages: string[] | true;
}

const rules: Rule[] = [
  { layer: 'functions', internal: ['lib/runtime'], packages: [] },
  { layer: 'lib/runtime', internal: ['lib/core', 'lib/adapters', 'lib/transforms', 'lib/runtime'], packages: true },
  { layer: 'lib/adapters', internal: ['lib/core', 'lib/adapters'], packages: true },
  { layer: 'lib/transforms', internal: ['lib/core', 'lib/transforms'], packages: ['zod', 'jsonata'] },
  { layer: 'lib/core', internal: ['lib/core'], packages: ['zod'] },
  { layer: 'lib/db', internal: ['lib/db'], packages: true },
];

const productRoots = ['lib', 'functions'];
const TOOLING = 'tools';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : /\.(ts|mts)$/.test(name) ? [full] : [];
  });
}

/** Every module specifier of static imports, re-exports and dynamic imports. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s+'([^']+)'/g)) {
    found.push((match[1] ?? match[2] ?? match[3])!);
  }
  return found;
}

/** Where a relative import of `file` lands, relative to the repository root. */
const landsIn = (file: string, spec: string) => path.relative(root, path.resolve(path.dirname(file), spec));

/** Imports from `file` (given its source) that land in the local tooling. */
function toolingImports(file: string, source: string): string[] {
  return specifiers(source)
    .filter((spec) => spec.startsWith('.'))
    .filter((spec) => {
      const target = landsIn(file, spec);
      return target === TOOLING || target.startsWith(`${TOOLING}/`);
    });
}

function violations(rule: Rule): string[] {
  const problems: string[] = [];
  for (const file of filesUnder(path.join(root, rule.layer))) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const where = `${path.relative(root, file)} imports '${spec}'`;
      if (spec.startsWith('.')) {
        const target = landsIn(file, spec);
        if (!rule.internal.some((allowed) => target === allowed || target.startsWith(`${allowed}/`))) problems.push(where);
      } else if (rule.packages !== true && !rule.packages.some((name) => spec === name || spec.startsWith(`${name}/`))) {
        problems.push(where);
      }
    }
  }
  return problems;
}

describe('architecture: each layer imports only what its allow-list names', () => {
  for (const rule of rules) {
    it(`${rule.layer} imports only ${[...rule.internal, ...(rule.packages === true ? ['any package'] : rule.packages)].join(', ')}`, () => {
      expect(filesUnder(path.join(root, rule.layer)).length).toBeGreaterThan(0);
      expect(violations(rule)).toEqual([]);
    });
  }

  it('names every folder of lib/ and functions/ in a rule, so nothing escapes the allow-list', () => {
    const layers = rules.map((rule) => rule.layer);
    const covered = (folder: string) => layers.some((layer) => folder === layer || folder.startsWith(`${layer}/`));
    const folders = productRoots.flatMap((top) =>
      readdirSync(path.join(root, top))
        .filter((name) => statSync(path.join(root, top, name)).isDirectory())
        .map((name) => `${top}/${name}`),
    );
    expect(folders.length).toBeGreaterThan(0);
    expect(folders.filter((folder) => !covered(folder))).toEqual([]);
  });

  it('lib/ and functions/ never import the local tooling (tools/)', () => {
    const files = productRoots.flatMap((top) => filesUnder(path.join(root, top)));
    expect(files.length).toBeGreaterThan(0);
    expect(files.flatMap((file) => toolingImports(file, readFileSync(file, 'utf8')).map((spec) => `${path.relative(root, file)} imports '${spec}'`))).toEqual([]);
  });

  it('sees an import of tools/ from product code, whatever its form (the check itself can fail)', () => {
    const file = path.join(root, 'lib/adapters/pg/example.ts');
    const source = "import { freePort } from '../../../tools/local/processes.ts';\nconst stack = await import('../../../tools/local/stack.ts');\nimport { ok } from './ok.ts';";
    expect(toolingImports(file, source)).toEqual(['../../../tools/local/processes.ts', '../../../tools/local/stack.ts']);
  });

  it('finds imports of every form it checks (the check itself can fail)', () => {
    const source = "import a from './x.ts';\nimport type { B } from '../y.ts';\nexport { c } from 'pkg/sub';\nconst d = await import('node:fs');\nimport 'side-effect';";
    expect(specifiers(source)).toEqual(['./x.ts', '../y.ts', 'pkg/sub', 'node:fs', 'side-effect']);
  });
});
