// The workspace split (issue 15 item 1) as checks: each package imports only
// what its package.json declares, the exporter's runtime dependencies are
// exactly what its sources run, and the exporter imports none of the packages
// built on it (reports, training, cli).
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const sources = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));

/** Package names a source imports: static and dynamic imports, and require.resolve('x') for files read from a package. */
function importedPackages(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|(?:\brequire|\))\.resolve\(\s*)'([^'./][^']*)'/g)) {
    const spec = m[1]!;
    if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return names;
}

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
}

const manifest = (pkg: string): Manifest => JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')) as Manifest;

function importsOf(pkg: string): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const f of sources(join(root, pkg, 'src'))) {
    for (const n of importedPackages(readFileSync(f, 'utf8'))) by.set(n, [...(by.get(n) ?? []), f.slice(root.length + 1)]);
  }
  return by;
}

/** Imports of `pkg`'s sources that its `dependencies` do not declare (itself excepted). */
function undeclared(m: Manifest, imports: Map<string, string[]>): string[] {
  return [...imports.keys()].filter((n) => n !== m.name && !(n in (m.dependencies ?? {})));
}

describe('package boundaries', () => {
  test.each(['exporter', 'reports', 'training', 'cli'])('%s: every package its sources import is a declared runtime dependency', (pkg) => {
    expect(undeclared(manifest(pkg), importsOf(pkg))).toEqual([]);
  });

  test('the exporter runs every runtime dependency it declares, and none of playwright, SQLite, ajv or prom-client', () => {
    const deps = Object.keys(manifest('exporter').dependencies ?? {});
    const used = importsOf('exporter');
    expect(deps.filter((d) => !used.has(d))).toEqual([]);
    for (const d of ['playwright-core', 'better-sqlite3', 'ajv', 'ajv-formats', 'prom-client']) expect(deps).not.toContain(d);
  });

  test('the exporter imports none of the packages built on it', () => {
    const built = ['reports', 'training', 'cli'].map((p) => manifest(p).name);
    expect([...importsOf('exporter').keys()].filter((n) => built.includes(n))).toEqual([]);
  });

  test('control: the scan finds static, dynamic and resolve() imports, scoped names, and flags an undeclared one', () => {
    const text = "import a from 'express';\nconst { chromium } = await import('playwright-core');\nimport { x } from '@optifiber/exporter/ai/features';\ncreateRequire(import.meta.url).resolve('bcryptjs');\nPromise.resolve('busy');\nimport { y } from './local.js';\nimport fs from 'node:fs';";
    const found = importedPackages(text);
    expect([...found].sort()).toEqual(['@optifiber/exporter', 'bcryptjs', 'express', 'playwright-core']);
    expect(undeclared({ name: 'x', dependencies: { express: '1', bcryptjs: '1', '@optifiber/exporter': '1' } }, new Map([...found].map((n) => [n, []])))).toEqual(['playwright-core']);
  });
});
