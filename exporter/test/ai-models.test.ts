/**
 * @jest-environment ./exporter/test/ai-environment.cjs
 */
// The committed edge models: they load in onnxruntime, agree with their
// TypeScript references, and `optifiber train` reproduces them.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnomalyModel, ForecastModel } from '../src/ai/runtime.js';
import { N_FORECAST_FEATURES } from '../src/ai/features.js';
import { predictForecast } from '../src/ai/forecast.js';
import { runTrain, defaultModelDir, UK_TRAFFIC } from '../src/ai/train.js';
import { DEFAULT_HEAD } from '../src/ai/anomaly-head.js';
import { DEFAULT_SURPRISE } from '../src/ai/surprise.js';
import { buildSimTrace, repoRoot } from '../src/ai/sim-data.js';
import { spawn, spawnSync } from 'node:child_process';

const dir = defaultModelDir();

const datasets = join(repoRoot(), '..', 'shared', 'datasets');
const haveTraffic = existsSync(join(datasets, UK_TRAFFIC));
if (!haveTraffic) console.log(`ai-models.test: ${join(datasets, UK_TRAFFIC)} absent, skipping the training reproduction cases`);

describe('committed models', () => {
  test('anomaly head: loads, carries its design constants and a semantic version', async () => {
    const m = await AnomalyModel.load(join(dir, 'anomaly.onnx'));
    expect(m.metadata['version']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(m.head.e80).toBeCloseTo(DEFAULT_HEAD.e80, 6);
    expect(m.head.k).toBeCloseTo(DEFAULT_HEAD.k, 6);
    expect(JSON.parse(m.metadata['surprise']!)).toEqual(DEFAULT_SURPRISE);
  });

  test('forecast model: onnxruntime agrees with the TypeScript reference to 1e-5 (relative)', async () => {
    const m = await ForecastModel.load(join(dir, 'forecast.onnx'));
    const n = 50;
    const X = Float32Array.from({ length: n * N_FORECAST_FEATURES }, (_, i) => Math.sin(i) * 0.1);
    const L = Float32Array.from({ length: n }, (_, i) => 20 + Math.cos(i));
    const out = await m.predict(X, L);
    for (let r = 0; r < n; r++) {
      const ref = predictForecast(m.linear, X, L[r]!, r * N_FORECAST_FEATURES);
      for (let q = 0; q < 3; q++) expect(Math.abs(out[r * 3 + q]! - ref[q]!) / ref[q]!).toBeLessThan(1e-5);
      expect(out[r * 3]!).toBeLessThanOrEqual(out[r * 3 + 1]!);
      expect(out[r * 3 + 1]!).toBeLessThanOrEqual(out[r * 3 + 2]!);
    }
    expect(m.metadata['trained_on']).toContain(UK_TRAFFIC);
  });

  (haveTraffic ? test : test.skip)('optifiber train reproduces the committed bytes (forecast fitted on real traffic only)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ofai-'));
    try {
      const logs: string[] = [];
      expect(await runTrain(['--out', out], (s) => logs.push(s))).toBe(0);
      for (const f of ['anomaly.onnx', 'forecast.onnx', 'MODEL_CARD.md'])
        expect(Buffer.compare(readFileSync(join(out, f)), readFileSync(join(dir, f)))).toBe(0);
      expect(logs.join('\n')).toMatch(/forecast_chosen/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120000);

  test('optifiber train without the real-traffic data fails with a clear error', async () => {
    const logs: string[] = [];
    expect(await runTrain(['--datasets', join(tmpdir(), 'no-such-datasets'), '--out', join(tmpdir(), 'ofai-none')], (s) => logs.push(s))).toBe(1);
    expect(logs.join('\n')).toMatch(/uk-backbone-5m\.csv is absent/);
  });

  test('the model card names both sha256 values', () => {
    const card = readFileSync(join(dir, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/anomaly\.onnx \| `[0-9a-f]{64}`/);
    expect(card).toMatch(/forecast\.onnx \| `[0-9a-f]{64}`/);
  });
});

describe('training data source', () => {
  const sim = join(repoRoot(), 'kernel', 'build', 'optifiber-sim');
  if (!existsSync(sim)) console.log(`ai-models.test: ${sim} not built (make -C kernel sim), skipping the parity case`);
  (existsSync(sim) ? test : test.skip)('sim-trace pages are byte-identical to optifiber-sim --fast --max-ticks N', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ofsim-'));
    const N = 300;
    const args = ['--nsites', '3', '--seed', '11', '--time-scale', '1', '--fault-rate', '50000', '--sim-start', '1767225600'];
    const child = spawn(sim, ['run', '--fast', '--max-ticks', String(N), ...args, '--dir', d], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const pages = join(d, 'myinfo');
      let buf: Buffer | undefined;
      for (let i = 0; i < 200 && !buf; i++) {
        await new Promise((r) => setTimeout(r, 25));
        if (existsSync(pages)) {
          const b = readFileSync(pages);
          if (b.length >= 4096 && Number(b.readBigUInt64LE(40)) === N) buf = b;
        }
      }
      expect(buf).toBeDefined();
      const tr = spawnSync(buildSimTrace(), ['11', '3', String(N), '1', '50000', '1767225600'], { maxBuffer: 1 << 26 });
      expect(tr.status).toBe(0);
      for (let i = 0; i < 3; i++) {
        const page = buf!.subarray(4096 * (1 + i), 4096 * (1 + i) + 248);
        const rec = (tr.stdout as Buffer).subarray(((N - 1) * 3 + i) * 248, ((N - 1) * 3 + i + 1) * 248);
        // compare all but seq (0..4), update_time_ns (32..40) and the name (48..80)
        for (const [a, b] of [[4, 32], [40, 48], [80, 248]] as const) expect(Buffer.compare(page.subarray(a, b), rec.subarray(a, b))).toBe(0);
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(d, { recursive: true, force: true });
    }
  });
});
