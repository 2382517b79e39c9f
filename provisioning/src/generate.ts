#!/usr/bin/env node
// npm run generate -w provisioning   writes provisioning/dashboards/*.json
// npm run check -w provisioning      exits 1 when a checked-in JSON is stale
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderAll } from './render.js';

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dashboards');
const check = process.argv.includes('--check');
const files = renderAll();
let stale = 0;
for (const [name, text] of files) {
  const path = join(OUT, name);
  const old = existsSync(path) ? readFileSync(path, 'utf8') : null;
  if (old === text) continue;
  if (check) {
    process.stderr.write(`stale: provisioning/dashboards/${name} (run npm run generate -w provisioning)\n`);
    stale++;
  } else {
    writeFileSync(path, text);
    process.stdout.write(`wrote provisioning/dashboards/${name}\n`);
  }
}
for (const f of readdirSync(OUT).filter((f) => f.endsWith('.json') && !files.has(f))) {
  if (check) {
    process.stderr.write(`unexpected: provisioning/dashboards/${f} (not generated)\n`);
    stale++;
  } else {
    unlinkSync(join(OUT, f));
    process.stdout.write(`removed provisioning/dashboards/${f}\n`);
  }
}
process.exit(stale ? 1 : 0);
