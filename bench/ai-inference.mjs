#!/usr/bin/env node
// Anomaly inference per tick for 4, 1,000 and 10,000 sites: one batched
// onnxruntime call vs one call per site vs the TypeScript reference, in the
// same run; medians -> bench/results/ai-inference.json. Needs tsc -b exporter.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { AnomalyModel, ForecastModel } = await import(join(root, 'exporter/dist/ai/runtime.js'));
const { N_ANOMALY_FEATURES: F, N_FORECAST_FEATURES: FF } = await import(join(root, 'exporter/dist/ai/features.js'));
const anomaly = await AnomalyModel.load(join(root, 'exporter/models/anomaly.onnx'));
const forecast = await ForecastModel.load(join(root, 'exporter/models/forecast.onnx'));

let s = 12345;
const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296) * 2 - 1;
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
async function time(fn, reps) {
  const t = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(t);
}
const results = { generated_by: 'bench/ai-inference.mjs', unit: 'ms per tick (median)', intraOpNumThreads: 1, sites: {} };
for (const n of [4, 1000, 10000]) {
  const X = Float32Array.from({ length: n * F }, () => rnd() * 3);
  const FX = Float32Array.from({ length: n * FF }, () => rnd() * 0.05);
  const L = Float32Array.from({ length: n }, () => 20 + rnd());
  const reps = n >= 10000 ? 9 : 21;
  await anomaly.score(X); // warm-up
  const batched = await time(() => anomaly.score(X), reps);
  const perSite = await time(async () => {
    for (let i = 0; i < n; i++) await anomaly.score(X.subarray(i * F, i * F + F));
  }, n >= 10000 ? 3 : reps);
  const reference = await time(() => anomaly.scoreReference(X), reps);
  const fcBatched = await time(() => forecast.predict(FX, L), reps);
  results.sites[n] = { anomaly_batched_onnx: batched, anomaly_one_run_per_site: perSite, anomaly_typescript_reference: reference, forecast_batched_onnx: fcBatched };
  console.log(`${String(n).padStart(6)} sites: batched ${batched.toFixed(2)} ms, per-site ${perSite.toFixed(2)} ms, TS reference ${reference.toFixed(2)} ms, forecast batched ${fcBatched.toFixed(3)} ms`);
}
results.target = { sites: 10000, batched_ms_max: 50, met: results.sites[10000].anomaly_batched_onnx <= 50 };
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/ai-inference.json'), JSON.stringify(results, null, 2) + '\n');
