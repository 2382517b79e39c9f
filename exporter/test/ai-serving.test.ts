/**
 * @jest-environment ./exporter/test/ai-environment.cjs
 */
// The AI tick stage. (The backtest CLI, which replays the same pipeline
// offline: training/test/backtest.test.ts.)
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestRows, createAiStage } from '../src/ai/stage.js';
import { defaultModelDir } from '../src/ai/model-dir.js';
import { simTicks as simSiteTicks } from './helpers/samples.js';
import type { Tick } from '../src/sampler/types.js';

const logs: string[] = [];
const log = { info: (_f: Record<string, unknown>, m: string) => logs.push(m), warn: (_f: Record<string, unknown>, m: string) => logs.push(m), error: (_f: Record<string, unknown>, m: string) => logs.push(m) };

const simTicks = (ticks: number, faultRate = 0): Tick[] => simSiteTicks(ticks, 3, faultRate);

describe('AI stage', () => {
  test('serves scores and forecasts with the committed models', async () => {
    const durations: string[] = [];
    const ai = await createAiStage({ log, observeDuration: (m) => durations.push(m) });
    expect(ai.status().map((s) => s.up)).toEqual([true, true]);
    const ticks = simTicks(120);
    for (const t of ticks) await ai.stage(t);
    const last = ticks.at(-1)!;
    for (const s of last.sites) {
      expect(s.inference.anomalyScore).toBeGreaterThanOrEqual(0);
      expect(s.inference.anomalyScore).toBeLessThanOrEqual(1);
      const f = s.inference.forecast!;
      expect(f.horizonSeconds).toBe(900);
      expect(f.throughputBps.p10).toBeLessThanOrEqual(f.throughputBps.p50);
      expect(f.throughputBps.p50).toBeLessThanOrEqual(f.throughputBps.p90);
      expect(f.utilization.p50).toBeGreaterThanOrEqual(0);
      expect(f.utilization.p50).toBeLessThanOrEqual(1);
    }
    expect(durations).toContain('anomaly');
    expect(ai.status()[0]!.lastInferenceTimestampSeconds).toBeGreaterThan(0);
  });

  test('a fiber cut scores >= 0.8 with bounded contributions', async () => {
    const ai = await createAiStage({ log });
    const ticks = simTicks(200);
    for (const t of ticks.slice(0, 199)) await ai.stage(t);
    const t = ticks[199]!;
    const s = t.sites[0]!;
    s.sample = { ...s.sample, linkState: 'down', throughputBps: 0 };
    await ai.stage(t);
    expect(s.inference.anomalyScore).toBeGreaterThanOrEqual(0.8);
    expect(s.inference.contributions!.length).toBeGreaterThan(0);
    expect(s.inference.contributions!.length).toBeLessThanOrEqual(3);
  });

  test('samples published between ticks are learned and scored: the same scores as seeing every sample, and a spike only they saw pages', async () => {
    const every = await createAiStage({ log });
    const thinned = await createAiStage({ log });
    const ticks = simTicks(240);
    const copy = (t: Tick): Tick => ({ ...t, sites: t.sites.map((s) => ({ ...s, inference: {} })) });
    // the cut: site 0's sample 231 only, the middle of the three the thinned reader gets at 232
    const cut = ticks[231]!.sites[0]!;
    cut.sample = { ...cut.sample, linkState: 'down', throughputBps: 0 };
    const maxSeen: number[] = [];
    for (let k = 0; k < ticks.length; k++) {
      const a = copy(ticks[k]!);
      await every.stage(a);
      a.sites.forEach((s, i) => (maxSeen[i] = Math.max(maxSeen[i] ?? 0, s.inference.anomalyScore!)));
      if (k % 3 !== 2) continue; // the thinned reader sees ticks 2, 5, 8, ... with the two before in its ring
      const b = copy(ticks[k]!);
      b.sites.forEach((s, i) => (s.earlier = [ticks[k - 2]!, ticks[k - 1]!].map((t) => ({ sample: t.sites[i]!.sample, rates: t.sites[i]!.rates }))));
      await thinned.stage(b);
      b.sites.forEach((s, i) => expect([k, i, s.inference.anomalyScore]).toEqual([k, i, maxSeen[i]]));
      if (k === 232) {
        expect(b.sites[0]!.inference.anomalyScore).toBeGreaterThanOrEqual(0.8);
        expect(b.sites[0]!.inference.contributions!.length).toBeGreaterThan(0);
      }
      maxSeen.fill(0);
    }
    expect(ticks[232]!.sites[0]!.sample.linkState).not.toBe('down'); // the page at that tick shows no cut ...
  });

  test('past the row budget a site keeps its newest samples, and the others are counted', async () => {
    const ai = await createAiStage({ log, maxRowsPerTick: (n) => 2 * n }); // one earlier sample per site
    const ticks = simTicks(200);
    for (const t of ticks.slice(0, 196)) await ai.stage(t);
    // tick 199 arrives with 196..198 in its ring: site 0 lost its link at 196 only (skipped), site 1 at 198 (kept)
    const b: Tick = {
      ...ticks[199]!,
      sites: ticks[199]!.sites.map((s, i) => ({ ...s, inference: {}, earlier: [196, 197, 198].map((k) => ({ sample: ticks[k]!.sites[i]!.sample, rates: ticks[k]!.sites[i]!.rates })) })),
    };
    const cut = (e: { sample: Tick['sites'][number]['sample'] }) => (e.sample = { ...e.sample, linkState: 'down', throughputBps: 0 });
    cut(b.sites[0]!.earlier![0]!);
    cut(b.sites[1]!.earlier![2]!);
    await ai.stage(b);
    expect(ai.status().map((s) => s.samplesSkippedTotal)).toEqual([6, 6]);
    expect(b.sites[0]!.inference.anomalyScore).toBeLessThan(0.8);
    expect(b.sites[1]!.inference.anomalyScore).toBeGreaterThanOrEqual(0.8);
  });

  test('a site scores the highest of its rows, wherever it lies; a tie goes to the page sample', () => {
    // site 0: rows 0..3, site 1: row 4, site 2: rows 5..7
    const scores = Float32Array.of(0.5, 0.1, 0.9, 0.2, 0.3, 0.4, 0.4, 0.4);
    expect([...bestRows(scores, Int32Array.of(0, 4, 5, 8), 3)]).toEqual([2, 4, 7]);
  });

  test('missing and corrupt models: model_up 0, one log line each, ticks still flow; reload recovers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofai-'));
    try {
      writeFileSync(join(dir, 'anomaly.onnx'), 'not a model');
      logs.length = 0;
      const ai = await createAiStage({ modelDir: dir, log });
      expect(ai.status().map((s) => s.up)).toEqual([false, false]);
      expect(logs.filter((l) => l.includes('unavailable')).length).toBe(2);
      const ticks = simTicks(3);
      for (const t of ticks) await ai.stage(t);
      expect(ticks[2]!.sites[0]!.inference).toEqual({});
      copyFileSync(join(defaultModelDir(), 'anomaly.onnx'), join(dir, 'anomaly.onnx'));
      copyFileSync(join(defaultModelDir(), 'forecast.onnx'), join(dir, 'forecast.onnx'));
      await ai.reload();
      expect(ai.status().map((s) => s.up)).toEqual([true, true]);
      expect(ai.status()[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
