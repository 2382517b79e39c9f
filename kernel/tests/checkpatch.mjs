#!/usr/bin/env node
// The kernel's own style check on the module and the simulation core:
// scripts/checkpatch.pl from Debian's linux-source-6.1 (extracted once into
// .cache/checkpatch/; the tarball must be decompressed up to the file, ~40 s).
//
// Every file must report 0 errors and 0 warnings, except a warning whose line
// (or one of the 3 lines above it) carries a comment "checkpatch: TYPE ...:
// why", naming the checkpatch type (--show-types) it answers.
//
// Output: "PASS checkpatch: <file>" / "FAIL checkpatch: <file>: <problem>",
// then "N passed, N failed".
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const kernelDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(kernelDir, '..');
const cache = path.join(repo, '.cache', 'checkpatch');
const TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const MEMBERS = ['scripts/checkpatch.pl', 'scripts/spelling.txt', 'scripts/const_structs.checkpatch'];
const FILES = [
  'include/uapi/linux/optifiber.h',
  ...['module', 'sim', 'common', 'tests/kunit', 'tests/ofnic'].flatMap((d) => fs.readdirSync(path.join(kernelDir, d))
    .filter((f) => /\.[ch]$/.test(f)).sort().map((f) => `${d}/${f}`)),
];

function checkpatchPath() {
  const script = path.join(cache, 'linux-source-6.1', 'scripts', 'checkpatch.pl');
  if (fs.existsSync(script)) return script;
  if (!fs.existsSync(TARBALL)) {
    if (process.getuid() !== 0) throw new Error(`${TARBALL} missing: apt-get install linux-source-6.1`);
    const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'linux-source-6.1'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('apt-get install linux-source-6.1 failed');
  }
  fs.mkdirSync(cache, { recursive: true });
  const r = spawnSync('tar', ['-xJf', TARBALL, '-C', cache, ...MEMBERS.map((m) => `linux-source-6.1/${m}`)], { encoding: 'utf8' });
  if (r.status !== 0 || !fs.existsSync(script)) throw new Error(`tar -xJf ${TARBALL}: ${r.stderr}`);
  return script;
}

function main() {
  const script = checkpatchPath();
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
