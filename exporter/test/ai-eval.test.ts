// The evaluation's scorer and the forecast's conformal band: the numbers in
// bench/results/ai.json are only as good as these.
import { PROFILES, bestThreshold, eventStats, nabScore, windowsOf, type ScoredEntity } from '../src/ai/eval/events.js';
import { ConformalBand } from '../src/ai/forecast.js';
import { ForecastTrack } from '../src/ai/forecast-track.js';

const std = PROFILES[0]!;
const entity = (n: number, segs: [number, number][], alarms: number[]): ScoredEntity => {
  const label = new Array<number>(n).fill(0);
  for (const [a, b] of segs) for (let i = a; i <= b; i++) label[i] = 1;
  const score = new Array<number>(n).fill(0);
  for (const i of alarms) score[i] = 1;
  return { t: Array.from({ length: n }, (_, i) => i * 60), label, score };
};

describe('NAB-style windowed score', () => {
  test('windows open 10 % of the segment early and never overlap the previous one', () => {
    expect(windowsOf(entity(100, [[20, 29], [31, 40]], []).label)).toEqual([
      { start: 19, end: 29, segStart: 20 },
      { start: 30, end: 40, segStart: 31 },
    ]);
  });

  test('null detector scores 0, a detector at every window start 100', () => {
    const e = entity(1000, [[100, 199], [500, 599]], []);
    expect(nabScore([e], 0.5, std)).toBeCloseTo(0, 9);
    const perfect = entity(1000, [[100, 199], [500, 599]], [90, 490]);
    expect(nabScore([perfect], 0.5, std)).toBeCloseTo(100, 6);
  });

  test('late detection earns less, and every sample outside a window costs', () => {
    const early = nabScore([entity(1000, [[100, 199]], [95])], 0.5, std);
    const late = nabScore([entity(1000, [[100, 199]], [190])], 0.5, std);
    const withFp = nabScore([entity(1000, [[100, 199]], [95, 700, 701, 702])], 0.5, std);
    expect(early).toBeGreaterThan(late);
    expect(late).toBeGreaterThan(0);
    expect(withFp).toBeLessThan(early);
    // low-FP profile punishes the same false positives harder
    const lowFp = PROFILES.find((p) => p.name === 'reward_low_fp')!;
    expect(early - nabScore([entity(1000, [[100, 199]], [95, 700, 701, 702])], 0.5, lowFp)).toBeGreaterThan(early - withFp);
  });

  test('the threshold is optimised per detector; "never alarm" is always a candidate', () => {
    const noisy: ScoredEntity = { ...entity(1000, [[100, 199]], []), score: Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? 0.9 : 0.1)) };
    // alarming on every third sample costs more than the one window earns: never alarming wins
    const b = bestThreshold([noisy], std);
    expect(b.score).toBe(0);
    expect(b.threshold).toBeGreaterThan(0.9); // above every score it gives: silence
    // a detector that alarms only at the window start is found at its own threshold
    const good: ScoredEntity = { ...noisy, score: noisy.score.map((_, i) => (i === 95 ? 0.6 : 0.1)) };
    const g = bestThreshold([good], std);
    expect(g.threshold).toBeGreaterThan(0.1);
    expect(g.threshold).toBeLessThanOrEqual(0.6);
    expect(g.score).toBeGreaterThan(90);
  });

  test('event statistics: episodes, precision, recall, delay and false alarms per entity-day', () => {
    // one day at 1-minute samples; one segment found 2 samples late; two false episodes
    const e = entity(1440, [[600, 659]], [602, 603, 100, 900, 901]);
    const s = eventStats([e], 0.5);
    expect(s.windows).toBe(1);
    expect(s.detected).toBe(1);
    expect(s.episodes).toBe(3);
    expect(s.true_episodes).toBe(1);
    expect(s.false_alarm_episodes).toBe(2);
    expect(s.median_delay_s).toBe(120);
    expect(s.normal_days).toBeGreaterThan(0.9);
    expect(s.false_alarms_per_entity_day).toBeCloseTo(2 / s.normal_days, 6);
  });
});

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
