#!/usr/bin/env node
// The kernel's own style check on the module and the simulation core:
// scripts/checkpatch.pl from Debian's linux-source-6.1 (extracted once into
// .cache/checkpatch/; the tarball must be decompressed up to the file, ~40 s).
//
// Every file must report 0 errors and 0 warnings, except a warning whose line
// (or one of the 3 lines above it) carries a comment "checkpatch: TYPE ...:
// why", naming the checkpatch type (--show-types) it answers.
//
// Then scripts/kernel-doc of the same tree over the same files: no warning
// (a /** comment whose @args or Return: do not match its function), and
// every function the simulation core's API header declares has a kernel-doc
// comment (KDOC_API).
//
// Output: "PASS checkpatch: <file>" / "FAIL checkpatch: <file>: <problem>",
// "PASS kernel-doc: ..." / "FAIL kernel-doc: ...", then "N passed, N failed".
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const kernelDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(kernelDir, '..');
const cache = path.join(repo, '.cache', 'checkpatch');
const TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const MEMBERS = ['scripts/checkpatch.pl', 'scripts/spelling.txt', 'scripts/const_structs.checkpatch', 'scripts/kernel-doc'];
const FILES = [
  'include/uapi/linux/optifiber.h',
  ...['module', 'sim', 'common', 'tests/kunit', 'tests/ofnic'].flatMap((d) => fs.readdirSync(path.join(kernelDir, d))
    .filter((f) => /\.[ch]$/.test(f)).sort().map((f) => `${d}/${f}`)),
];
// The simulation core's API, shared by the module and the user-space hosts.
const KDOC_API = ['sim/ofsim.h'];

/** The scripts directory of linux-source-6.1 with every member extracted. */
function scriptsDir() {
  const dir = path.join(cache, 'linux-source-6.1', 'scripts');
  const script = path.join(dir, 'checkpatch.pl');
  if (MEMBERS.every((m) => fs.existsSync(path.join(cache, 'linux-source-6.1', m)))) return dir;
  if (!fs.existsSync(TARBALL)) {
    if (process.getuid() !== 0) throw new Error(`${TARBALL} missing: apt-get install linux-source-6.1`);
    const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'linux-source-6.1'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('apt-get install linux-source-6.1 failed');
  }
  fs.mkdirSync(cache, { recursive: true });
  const r = spawnSync('tar', ['-xJf', TARBALL, '-C', cache, ...MEMBERS.map((m) => `linux-source-6.1/${m}`)], { encoding: 'utf8' });
  if (r.status !== 0 || !fs.existsSync(script)) throw new Error(`tar -xJf ${TARBALL}: ${r.stderr}`);
  return dir;
}

/** Names of the functions a header declares or defines at file scope. */
function declaredFunctions(file) {
  const text = fs.readFileSync(path.join(kernelDir, file), 'utf8');
  return [...text.matchAll(/^(?!#|typedef\b)[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\(/gm)].map((m) => m[1]);
}

/**
 * The kernel-doc cases, as [name, problems]: no warning over FILES (one run),
 * and each KDOC_API header documents every function it declares.
 */
function kernelDocCases(script) {
  const lint = spawnSync('perl', [script, '-none', ...FILES], { cwd: kernelDir, encoding: 'utf8' });
  const lintProblems = lint.stderr.split('\n').filter((l) => /\b(warning|error)\b/i.test(l));
  if (lint.error || lint.status !== 0) lintProblems.push(`kernel-doc did not run (exit ${lint.status}): ${(lint.error?.message || lint.stderr).trim().split('\n')[0]}`);
  const cases = [[`${FILES.length} files without warnings`, lintProblems]];
  for (const file of KDOC_API) {
    const rst = spawnSync('perl', [script, '-rst', file], { cwd: kernelDir, encoding: 'utf8' });
    const documented = new Set([...rst.stdout.matchAll(/^\.\. c:function:: .*?(\w+) \(/gm)].map((m) => m[1]));
    const declared = declaredFunctions(file);
    const missing = declared.filter((f) => !documented.has(f));
    cases.push([`${file}: every function documented`,
      !declared.length ? ['no function found'] : missing.map((f) => `${f}() has no kernel-doc comment`)]);
  }
  return cases;
}

function main() {
  const dir = scriptsDir();
  const script = path.join(dir, 'checkpatch.pl');
  let pass = 0;
  let fail = 0;
  for (const file of FILES) {
    const r = spawnSync('perl', [script, '--no-tree', '--terse', '--show-types', '-f', file],
      { cwd: kernelDir, encoding: 'utf8' });
    const src = fs.readFileSync(path.join(kernelDir, file), 'utf8').split('\n');
    const problems = [];
    let justified = 0;
    for (const line of r.stdout.split('\n')) {
      const m = /^(.+?):(\d+): (ERROR|WARNING|CHECK):(\w+): (.*)$/.exec(line);
      if (!m) continue;
      const [, , ln, level, type, msg] = m;
      const n = Number(ln);
      const near = src.slice(Math.max(0, n - 4), n).join('\n');
      if (level === 'WARNING' && new RegExp(`checkpatch:[^\\n]*\\b${type}\\b`).test(near)) justified++;
      else if (level !== 'CHECK') problems.push(`${ln}: ${level}:${type}: ${msg}`);
    }
    // exit 0: clean (terse mode prints nothing), 1: problems listed above
    if (r.error || (r.status !== 0 && r.status !== 1) || (r.status === 1 && !/total: \d+ errors/.test(r.stdout))) problems.push(`checkpatch did not run (exit ${r.status}): ${(r.error?.message || r.stderr || r.stdout).trim().split('\n')[0]}`);
    if (problems.length) {
      fail++;
      console.log(`FAIL checkpatch: ${file}: ${problems.join(' | ')}`);
    } else {
      pass++;
      console.log(`PASS checkpatch: ${file}${justified ? ` (${justified} warnings justified in place)` : ''}`);
    }
  }
  for (const [name, problems] of kernelDocCases(path.join(dir, 'kernel-doc'))) {
    if (problems.length) {
      fail++;
      console.log(`FAIL kernel-doc: ${name}: ${problems.join(' | ')}`);
    } else {
      pass++;
      console.log(`PASS kernel-doc: ${name}`);
    }
  }
  console.log(`${pass} passed, ${fail} failed`);
  process.exitCode = fail ? 1 : 0;
}

try {
  main();
} catch (e) {
  console.log(`FAIL checkpatch: harness: ${e.message}`);
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
}
