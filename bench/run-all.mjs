#!/usr/bin/env node
// `npm run bench`: every benchmark in this folder, one after the other (the
// machines have 2 cores; running them together would measure contention).
// Each writes bench/results/<name>.json; pass names to run a subset:
//   npm run bench -- page-reader exporter
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run-all.mjs')
  .map((f) => f.replace(/\.mjs$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name));

let failed = 0;
for (const name of benches) {
  console.log(`\n=== bench ${name}`);
  const r = spawnSync(process.execPath, [join(here, `${name}.mjs`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`bench ${name} exited with ${r.status}`);
  }
}
console.log(`\n${benches.length - failed} of ${benches.length} benchmarks ran; results in bench/results/`);
process.exit(failed ? 1 : 0);
