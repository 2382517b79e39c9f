#!/usr/bin/env node
// The AI stage per tick at 4, 1,000 and 10,000 sites, medians ->
// bench/results/ai-inference.json. Measured in the same run:
//   stage            the whole served stage (online evidence per site and channel,
//                    one batched onnxruntime run of the score head, forecast
//                    features + one batched forecast run + conformal bands);
//   head_onnx        the batched score-head run alone, and its TypeScript twin;
//   v1_forest_onnx   the previous model's batched Isolation Forest run on the same
//                    number of rows (the "before" baseline the target was set on).
// Target: the whole stage <= 50 ms median at 10,000 sites. Needs tsc -b exporter.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'exporter/dist/ai');
const { AnomalyModel } = await import(join(dist, 'runtime.js'));
const { createAiStage } = await import(join(dist, 'stage.js'));
const { runSim } = await import(join(dist, 'sim-data.js'));
const { N_SITE_COLUMNS } = await import(join(dist, 'features.js'));
const { N_ANOMALY_FEATURES: V1_F, scoreV1 } = await import(join(dist, 'legacy', 'v1.js'));
const anomaly = await AnomalyModel.load(join(root, 'exporter/models/anomaly.onnx'));

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
async function time(fn, reps) {
  const t = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(t);
}

// real simulator samples of 16 sites, replicated (with their own names and a
// little jitter) to n sites; each tick advances every site by one second
const template = [];
runSim({ seed: 77, nsites: 16, ticks: 1, timeScale: 1, faultRate: 0 }, (_t, pts) => pts.forEach((p) => template.push(p)));
function ticksFor(n, count) {
  const out = [];
  for (let k = 0; k < count; k++) {
    const sites = [];
    for (let i = 0; i < n; i++) {
      const p = template[i % template.length];
      const j = 1 + 0.001 * Math.sin(i * 7 + k);
      sites.push({ sample: { ...p.sample, name: `S${i}`, simTimeS: p.sample.simTimeS + k, throughputBps: p.sample.throughputBps * j, osnrDb: p.sample.osnrDb * j }, rates: p.rates, utilization: 0.5, inference: {} });
    }
    out.push({ seq: k + 1, takenAtMs: k * 1000, durationSeconds: 0, source: { kind: 'file', path: 'bench', up: true }, invalid: [], sites });
  }
  return out;
}

const results = { generated_by: 'bench/ai-inference.mjs', machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model }, unit: 'ms per tick (median)', intraOpNumThreads: 1, sites: {} };
for (const n of [4, 1000, 10000]) {
  const reps = n >= 10000 ? 15 : 41;
  const ticks = ticksFor(n, reps + 40);
  const ai = await createAiStage({});
  for (const t of ticks.slice(0, 40)) await ai.stage(t); // warm the per-site state past its warm-up
  const stage = await time((i) => ai.stage(ticks[40 + i]), reps);
  const E = Float32Array.from({ length: n * N_SITE_COLUMNS }, (_, i) => (i * 7919) % 23);
  const lnR = Float32Array.from({ length: n }, () => 13);
  await anomaly.score(E, N_SITE_COLUMNS, lnR);
  const head = await time(() => anomaly.score(E, N_SITE_COLUMNS, lnR), reps);
  const headTs = await time(() => anomaly.scoreReference(E, N_SITE_COLUMNS, lnR), reps);
  const X = Float32Array.from({ length: n * V1_F }, (_, i) => ((i * 31) % 7) - 3);
  const v1 = await time(() => scoreV1(join(root, 'exporter/models/legacy/anomaly-v1.onnx'), X), n >= 10000 ? 5 : 9);
  results.sites[n] = { stage, head_onnx: head, head_typescript: headTs, v1_forest_onnx: v1 };
  console.log(`${String(n).padStart(6)} sites: stage ${stage.toFixed(2)} ms, head ONNX ${head.toFixed(3)} ms (TS ${headTs.toFixed(3)} ms), v1 forest run ${v1.toFixed(2)} ms`);
}
results.target = { sites: 10000, stage_ms_max: 50, met: results.sites[10000].stage <= 50 };
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/ai-inference.json'), JSON.stringify(results, null, 2) + '\n');
