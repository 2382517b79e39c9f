// The forecast's conformal band, as served: the evaluation's forecast numbers
// in bench/results/ai.json (training/src/eval) are only as good as this.
import { ConformalBand } from '../src/ai/forecast.js';
import { ForecastTrack } from '../src/ai/forecast-track.js';

describe('conformal forecast band', () => {
  test('errors mature only when their target bucket closes, then give the band', () => {
    const b = new ConformalBand(3, 100, 10);
    for (let k = 0; k < 20; k++) b.issued(k, Math.log(100), 0);
    expect(b.matured).toBe(0);
    for (let k = 3; k < 23; k++) b.closed(k, 100 * Math.exp(((k % 10) - 4.5) / 100));
    expect(b.matured).toBe(20);
    const [q10, q90] = b.quantiles()!;
    expect(q10).toBeLessThan(0);
    expect(q90).toBeGreaterThan(0);
  });

  test('a served track covers about 80 % of outcomes out of sample on a noisy series', () => {
    let s = 7;
    const g = (): number => ((s = (s * 69069 + 1) >>> 0) / 2 ** 32 - 0.5) * 2;
    const tr = new ForecastTrack(3);
    const x = new Float32Array(8);
    const served: { t: number; p10: number; p90: number }[] = [];
    const value = new Map<number, number>();
    for (let i = 0; i < 5000; i++) {
      const t = 1.7e9 + i * 300;
      const v = 1000 * (1 + 0.3 * Math.sin((2 * Math.PI * i) / 288)) * (1 + 0.05 * g());
      value.set(t, v);
      const l0 = tr.push(t, v, x);
      if (!Number.isFinite(l0)) continue;
      const p50 = Math.exp(l0); // persistence as the model: the band must still be calibrated
      const band = tr.serve(l0, p50 * 0.9, p50, p50 * 1.1);
      if (i > 1000) served.push({ t: t + 900, p10: band.p10, p90: band.p90 });
    }
    const inside = served.filter((f) => value.has(f.t) && value.get(f.t)! >= f.p10 && value.get(f.t)! <= f.p90).length;
    const cov = inside / served.filter((f) => value.has(f.t)).length;
    expect(cov).toBeGreaterThan(0.7);
    expect(cov).toBeLessThan(0.9);
  });
});
