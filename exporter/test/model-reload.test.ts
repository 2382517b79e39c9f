/**
 * @jest-environment ./exporter/test/ai-environment.cjs
 */
// F7 (issue 12): a failed model reload (SIGHUP with a corrupt or half-copied
// file) keeps the model that works, and says so in
// optifiber_model_last_reload_successful.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAiStage } from '../src/ai/stage.js';
import { defaultModelDir } from '../src/ai/model-dir.js';
import { runSim } from '../src/sim/trace.js';
import { ModelCollector } from '../src/metrics/collectors/models.js';
import type { Tick } from '../src/sampler/types.js';

function simTicks(ticks: number): Tick[] {
  const out: Tick[] = [];
  runSim({ seed: 3, nsites: 2, ticks, timeScale: 60, faultRate: 0 }, (t, pts) => {
    out.push({
      seq: t + 1,
      takenAtMs: t * 1000,
      durationSeconds: 0.001,
      source: { kind: 'file', path: 'x', up: true },
      invalid: [],
      sites: pts.map((p) => ({ sample: p.sample, rates: p.rates, utilization: p.sample.throughputBps / p.sample.capacityBps, inference: {} })),
    });
  });
  return out;
}

function render(c: ModelCollector): string {
  const lines: string[] = [];
  c.collect({ header: () => {}, sample: (name: string, labels: string, v: number) => void lines.push(`${name}${labels} ${v}`) } as never, {} as never);
  return lines.join('\n');
}

test('F7 a corrupt model file on reload: the last good model keeps scoring; last_reload_successful 0, then 1 when fixed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ofreload-'));
  const errors: string[] = [];
  const log = { info: () => {}, warn: () => {}, error: (_f: Record<string, unknown>, m: string) => void errors.push(m) };
  try {
    for (const m of ['anomaly.onnx', 'forecast.onnx']) copyFileSync(join(defaultModelDir(), m), join(dir, m));
    const ai = await createAiStage({ modelDir: dir, log });
    const metrics = new ModelCollector();
    metrics.attach(() => ai.status());
    const sha = ai.status()[0]!.sha256;
    expect(render(metrics)).toMatch(/optifiber_model_last_reload_successful\{model="anomaly"\} 1/);

    writeFileSync(join(dir, 'anomaly.onnx'), 'half a model');
    await ai.reload();
    const st = ai.status()[0]!;
    expect({ up: st.up, sha256: st.sha256, ok: st.lastReloadSuccessful }).toEqual({ up: true, sha256: sha, ok: false });
    expect(errors.some((e) => /reload failed .*last good model/.test(e))).toBe(true);
    expect(render(metrics)).toMatch(/optifiber_model_last_reload_successful\{model="anomaly"\} 0/);
    expect(render(metrics)).toMatch(/optifiber_model_up\{model="anomaly"\} 1/);
    const ticks = simTicks(3);
    for (const t of ticks) await ai.stage(t);
    expect(ticks[2]!.sites[0]!.inference.anomalyScore).toBeGreaterThanOrEqual(0);

    copyFileSync(join(defaultModelDir(), 'anomaly.onnx'), join(dir, 'anomaly.onnx'));
    await ai.reload();
    expect(ai.status()[0]!.lastReloadSuccessful).toBe(true);
    expect(render(metrics)).toMatch(/optifiber_model_last_reload_successful\{model="anomaly"\} 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
