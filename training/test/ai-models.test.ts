/**
 * @jest-environment ./exporter/test/ai-environment.cjs
 */
// The committed edge models: they load in onnxruntime, agree with their
// TypeScript references, and `optifiber train` reproduces them.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnomalyModel, ForecastModel } from '@optifiber/exporter/ai/runtime';
import { N_FORECAST_FEATURES } from '@optifiber/exporter/ai/features';
import { predictForecast } from '@optifiber/exporter/ai/forecast';
import { DEFAULT_HEAD } from '@optifiber/exporter/ai/anomaly-head';
import { DEFAULT_SURPRISE, SITE_SURPRISE } from '@optifiber/exporter/ai/surprise';
import { repoRoot } from '@optifiber/exporter/sim/trace';
import { runTrain, defaultModelDir, UK_TRAFFIC } from '../src/train.js';

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
    expect(JSON.parse(m.metadata['surprise_site']!)).toEqual(SITE_SURPRISE);
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
