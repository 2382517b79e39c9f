#!/usr/bin/env node
// `npm run eval [-- --split dev|test|all] [--only optical,uk,skab,asd,smd,sim] [--out FILE]`:
// the served models on every dataset in ../shared/datasets and the simulator,
// with baselines measured in the same run (training/src/eval/run.ts).
// Writes bench/results/ai.json by default and prints a table.
// Needs `tsc -b training` first (npm run eval does it). Absent datasets are
// named and skipped, never silently.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { runEval } = await import(join(root, 'training', 'dist', 'eval', 'run.js'));
const { formatTable } = await import(join(root, 'training', 'dist', 'eval', 'table.js'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const split = opt('split', 'all');
if (!['dev', 'test', 'all'].includes(split)) {
  console.error('eval: --split must be dev, test or all');
  process.exit(2);
}
const only = opt('only', undefined)?.split(',');
const out = resolve(opt('out', join(root, 'bench', 'results', 'ai.json')));
const t0 = Date.now();
const res = await runEval({
  root,
  datasets: join(root, '..', 'shared', 'datasets'),
  splits: split === 'all' ? ['dev', 'test'] : [split],
  only,
  log: (s) => console.error(s),
});
res.seconds = Math.round((Date.now() - t0) / 1000);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
console.log(formatTable(res));
console.log(`\nwrote ${out}`);
