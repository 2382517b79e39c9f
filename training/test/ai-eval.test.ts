// The evaluation's scorer: the numbers in bench/results/ai.json are only as
// good as these. (The forecast's conformal band, which the evaluation also
// relies on, is served code: exporter/test/ai-forecast-band.test.ts.)
import { PROFILES, bestThreshold, eventStats, nabScore, windowsOf, type ScoredEntity } from '../src/eval/events.js';
import { SIM_SEEDS } from '../src/eval/corpora.js';
import { faultTable, type SimFault } from '../src/eval/run.js';

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

describe('simulator section', () => {
  test('dev and test seeds are disjoint (the simulator has a split like the corpora)', () => {
    const all = (s: 'dev' | 'test'): number[] => [...SIM_SEEDS[s].faults, ...SIM_SEEDS[s].faultFree];
    expect(all('dev').filter((x) => all('test').includes(x))).toEqual([]);
  });

  test('a fault that began before scoring is counted apart, not timed; targets 60 s, BER creep 120 s', () => {
    const f = (type: string, delay: number | null, first = false, beforeScoring = false): SimFault => ({ type, delay, first, beforeScoring });
    const t = faultTable([f('fiber_cut', 0, true), f('fiber_cut', null, true, true), f('fiber_cut', 61), f('ber_creep', 120, true), f('ber_creep', 121), f('ber_creep', null)]) as Record<string, Record<string, unknown>>;
    expect(t['fiber_cut']).toEqual({ faults: 2, within_target: 1, target_s: 60, detected_ever: 2, median_delay_s: 61, first_of_site: 1, first_of_site_within_target: 1, onset_before_scoring: 1 });
    expect(t['ber_creep']).toMatchObject({ faults: 3, within_target: 1, target_s: 120, detected_ever: 2, first_of_site_within_target: 1, onset_before_scoring: 0 });
  });
});
