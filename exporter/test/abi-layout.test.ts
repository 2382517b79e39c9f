// Parity of exporter/src/abi/layout.ts with the C header, as gcc lays it out.
// Both directions: a member or constant present on one side only fails.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ABI_CONSTANTS, DIR_FIELDS, DIR_SIZE, SITE_FIELDS, SITE_SIZE, type AbiField } from '../src/abi/layout.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const headerPath = join(repoRoot, 'kernel/include/uapi/linux/optifiber.h');

interface CLayout {
  structs: Record<string, { size: number; fields: AbiField[] }>;
  constants: Record<string, number>;
}

let dumped: CLayout;
let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'abi-layout-'));
  const binary = join(workDir, 'abi_layout_dump');
  execFileSync('gcc', [
    '-std=c11', '-Wall', '-Wextra', '-Werror',
    '-I', join(repoRoot, 'kernel/include/uapi'),
    '-o', binary, join(repoRoot, 'kernel/tests/abi_layout_dump.c'),
  ]);
  dumped = JSON.parse(execFileSync(binary, { encoding: 'utf8' })) as CLayout;
});

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Member names of `struct name { ... };` as written in the header. */
function headerMembers(structName: string): string[] {
  const source = readFileSync(headerPath, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const body = new RegExp(`struct ${structName} \\{([\\s\\S]*?)\\};`).exec(source)?.[1];
  if (body === undefined) throw new Error(`struct ${structName} not found in ${headerPath}`);
  return body
    .split(';')
    .map((decl) => /(\w+)\s*(?:\[[^\]]*\])*\s*$/.exec(decl.trim())?.[1])
    .filter((name): name is string => name !== undefined);
}

function headerConstants(): string[] {
  const source = readFileSync(headerPath, 'utf8');
  return [...source.matchAll(/^#define\s+(OPTIFIBER_\w+)\s+\S/gm)].map((m) => m[1] ?? '');
}

function compare(structName: string, tsFields: readonly AbiField[], tsSize: number): void {
  const c = dumped.structs[structName];
  expect(c).toBeDefined();
  if (c === undefined) return;
  expect(tsSize).toBe(c.size);
  // The dump lists what the header declares: same names, same order.
  expect(c.fields.map((f) => f.name)).toEqual(headerMembers(structName));
  // Field by field, each direction, so the failure names the field.
  const tsByName = new Map(tsFields.map((f) => [f.name, f]));
  const cByName = new Map(c.fields.map((f) => [f.name, f]));
  for (const cf of c.fields) expect({ field: cf.name, ts: tsByName.get(cf.name) }).toEqual({ field: cf.name, ts: cf });
  for (const tf of tsFields) expect({ field: tf.name, c: cByName.get(tf.name) }).toEqual({ field: tf.name, c: { ...tf } });
  expect(tsFields.map((f) => f.name)).toEqual(c.fields.map((f) => f.name));
  // The members tile the struct: no hole the table does not name.
  let end = 0;
  for (const f of tsFields) {
    expect({ field: f.name, offset: f.offset }).toEqual({ field: f.name, offset: end });
    end = f.offset + f.size;
  }
  expect(end).toBe(c.size);
}

test('struct optifiber_dir matches the header', () => compare('optifiber_dir', DIR_FIELDS, DIR_SIZE));
test('struct optifiber_site matches the header', () => compare('optifiber_site', SITE_FIELDS, SITE_SIZE));

test('constants match the header, both ways', () => {
  expect(Object.keys(dumped.constants).sort()).toEqual(headerConstants().sort());
  expect(Object.keys(ABI_CONSTANTS).sort()).toEqual(Object.keys(dumped.constants).sort());
  for (const [name, value] of Object.entries(dumped.constants)) {
    expect({ name, value: ABI_CONSTANTS[name] }).toEqual({ name, value });
  }
});
