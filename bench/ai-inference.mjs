#!/usr/bin/env node
// The AI stage per tick at 4, 1,000 and 10,000 sites, medians ->
// bench/results/ai-inference.json. Measured in the same run:
//   stage_heap_mb    heap the stage allocates per tick (short-lived: it is what makes
//                    a tick scavenge the tick's samples; see docs/ai.md, Serving cost)
//   stage            the whole served stage, wall time and CPU time of this process
//                    (CPU time is what the stage costs when the machine is shared) (online evidence per site and channel,
//                    one batched onnxruntime run of the score head, forecast
//                    features + one batched forecast run + conformal bands);
//   head_onnx        the batched score-head run alone, and its TypeScript twin;
//   v1_forest_onnx   the previous model's batched Isolation Forest run on the same
//                    number of rows (the "before" baseline the target was set on).
// Target: the whole stage <= 50 ms median at 10,000 sites. Needs tsc -b exporter training.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'exporter/dist/ai');
const { AnomalyModel } = await import(join(dist, 'runtime.js'));
const { createAiStage } = await import(join(dist, 'stage.js'));
const { runSim } = await import(join(root, 'exporter/dist/sim/trace.js'));
const { N_SITE_COLUMNS } = await import(join(dist, 'features.js'));
const { N_ANOMALY_FEATURES: V1_F, scoreV1 } = await import(join(root, 'training/dist/legacy/v1.js'));
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

// real simulator samples of 16 sites, replicated to n sites (own names); each
// tick advances every site's clock by one second in NEW sample objects, as the
// sampler's snapshot makes them: they are what fills the young generation, so
// what the stage allocates on top decides how often a tick scavenges them
const template = [];
runSim({ seed: 77, nsites: 16, ticks: 1, timeScale: 1, faultRate: 0 }, (_t, pts) => pts.forEach((p) => template.push(p)));
function tickSource(n) {
  let k = 0;
  /** @type {any[]} */
  let sites = [];
  /** @param {boolean} fresh new sample objects (the sampler's way), else the last tick's, updated in place */
  return (fresh = true) => {
    k++;
    if (fresh || !sites.length) sites = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = template[i % template.length];
      const osnrDb = p.sample.osnrDb + 0.01 * Math.sin(i * 7 + k);
      const simTimeS = p.sample.simTimeS + k;
      if (sites[i]) Object.assign(sites[i].sample, { simTimeS, osnrDb }).inference = {};
      else sites[i] = { sample: { ...p.sample, name: `S${i}`, simTimeS, osnrDb }, rates: p.rates, utilization: 0.5, inference: {} };
    }
    return { seq: k, takenAtMs: k * 1000, durationSeconds: 0, source: { kind: 'file', path: 'bench', up: true }, invalid: [], sites };
  };
}

// Heap the stage allocates per tick, measured in a child process of its own
// (`--heap N`): a full GC before each tick and a young generation of 64 MB
// (so no GC runs inside one), heapUsed after - before. The sample objects are
// reused there (next(false)): what is counted is the stage's own allocation.
async function heapChild(n) {
  const flags = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];
  return Number(execFileSync(process.execPath, [...flags, fileURLToPath(import.meta.url), '--heap', String(n)], { encoding: 'utf8' }).trim());
}
if (process.argv[2] === '--heap') {
  const n = Number(process.argv[3]);
  const next = tickSource(n);
  const ai = await createAiStage({});
  for (let i = 0; i < 100; i++) await ai.stage(next(false)); // every hot function optimized
  const mb = [];
  for (let i = 0; i < 15; i++) {
    const tick = next(false);
    globalThis.gc();
    const h0 = process.memoryUsage().heapUsed;
    await ai.stage(tick);
    mb.push((process.memoryUsage().heapUsed - h0) / 1e6);
  }
  console.log(median(mb).toFixed(3));
  process.exit(0);
}

const results = { generated_by: 'bench/ai-inference.mjs', machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg_1m_at_start: os.loadavg()[0] }, unit: 'ms per tick (median)', intraOpNumThreads: 1, sites: {} };
for (const n of [4, 1000, 10000]) {
  const reps = n >= 10000 ? 31 : 61;
  const next = tickSource(n);
  const ai = await createAiStage({});
  for (let i = 0; i < 40; i++) await ai.stage(next()); // past every site's warm-up
  const cpu = [];
  const stage = await time(async () => {
    const c0 = process.cpuUsage();
    await ai.stage(next());
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }, reps);
  const stageCpu = median(cpu);
  const stageHeap = await heapChild(n);
  const E = Float32Array.from({ length: n * N_SITE_COLUMNS }, (_, i) => (i * 7919) % 23);
  const lnR = Float32Array.from({ length: n }, () => 13);
  await anomaly.score(E, N_SITE_COLUMNS, lnR);
  const head = await time(() => anomaly.score(E, N_SITE_COLUMNS, lnR), reps);
  const headTs = await time(() => anomaly.scoreReference(E, N_SITE_COLUMNS, lnR), reps);
  const X = Float32Array.from({ length: n * V1_F }, (_, i) => ((i * 31) % 7) - 3);
  const v1 = await time(() => scoreV1(join(root, 'exporter/models/legacy/anomaly-v1.onnx'), X), n >= 10000 ? 5 : 9);
  results.sites[n] = { stage, stage_cpu: stageCpu, stage_heap_mb: stageHeap, head_onnx: head, head_typescript: headTs, v1_forest_onnx: v1 };
  console.log(`${String(n).padStart(6)} sites: stage ${stage.toFixed(2)} ms (CPU ${stageCpu.toFixed(2)} ms, heap ${stageHeap.toFixed(2)} MB), head ONNX ${head.toFixed(3)} ms (TS ${headTs.toFixed(3)} ms), v1 forest run ${v1.toFixed(2)} ms`);
}
results.target = { sites: 10000, stage_ms_max: 50, met: results.sites[10000].stage <= 50 };
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/ai-inference.json'), JSON.stringify(results, null, 2) + '\n');
