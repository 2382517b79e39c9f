#!/usr/bin/env node
// Cost of one simulation tick (the work the kernel module does every second),
// for 4, 1,000 and 10,000 sites. Target: the design's "< 2 % CPU" at 1 Hz,
// i.e. at most 20 ms per tick at 10,000 sites.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize, writeResult } from './lib/stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync('make', ['-s', '-C', join(root, 'kernel'), 'build/sim-test'], { stdio: 'inherit' });

const rows = [];
for (const sites of [4, 1000, 10000]) {
  const out = execFileSync(join(root, 'kernel/build/sim-test'), ['--bench', String(sites)], { encoding: 'utf8' });
  const { tick_ns: ticks } = JSON.parse(out);
  const perTick = summarize(ticks.map((ns) => ns / 1e6));
  rows.push({ sites, tickMs: perTick, nsPerSiteMedian: (perTick.median * 1e6) / sites });
  console.log(`${String(sites).padStart(6)} sites: tick median ${perTick.median.toFixed(3)} ms (p90 ${perTick.p90.toFixed(3)}), ${((perTick.median * 1e6) / sites).toFixed(0)} ns/site`);
}
const at10k = rows.find((r) => r.sites === 10000);
const target = { tickMsAt10000Sites: 20, met: at10k.tickMs.median <= 20 };
console.log(`target: 10,000-site tick <= 20 ms: ${target.met ? 'met' : 'MISSED'}`);
console.log(`wrote ${writeResult('sim-tick', { rows, target })}`);
