/**
 * @jest-environment ./exporter/test/ai-environment.cjs
 */
// The anomaly score's required properties (issue: "a score with a meaning
// that transfers"), each on synthetic streams whose truth is known. Scores
// are computed exactly as served: EntitySurprise + the committed head
// (onnxruntime), in seconds of the stream's own clock.
import { join } from 'node:path';
import { EntitySurprise } from '../src/ai/features.js';
import { AnomalyModel } from '../src/ai/runtime.js';
import { DEFAULT_SURPRISE } from '../src/ai/surprise.js';
import { defaultModelDir } from '../src/ai/model-dir.js';
import { evidenceForScore, headScore } from '../src/ai/anomaly-head.js';

let model: AnomalyModel;
beforeAll(async () => {
  model = await AnomalyModel.load(join(defaultModelDir(), 'anomaly.onnx'));
});

/** Deterministic normal noise. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  const u = (): number => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Scores of one entity (generic columns `names`, or a site) over a stream of (t, values) through the served head. */
async function scores(names: string[] | EntitySurprise, t: number[], values: number[][]): Promise<Float32Array> {
  const e = Array.isArray(names) ? new EntitySurprise(names) : names;
  const W = e.width;
  const E = new Float32Array(t.length * W);
  const lnR = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) lnR[i] = e.push(t[i]!, values[i]!, E, i * W);
  return model.score(E, W, lnR);
}

/** Runs of score >= thr: [start index, end index]. */
function episodes(s: ArrayLike<number>, thr = 0.8): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < s.length; i++) {
    if (!(s[i]! >= thr)) continue;
    let j = i;
    while (j + 1 < s.length && s[j + 1]! >= thr) j++;
    out.push([i, j]);
    i = j;
  }
  return out;
}

const series = (n: number, dt: number, f: (i: number, t: number) => number, t0 = 1.7e9): { t: number[]; v: number[][] } => {
  const t = Array.from({ length: n }, (_, i) => t0 + i * dt);
  return { t, v: t.map((tt, i) => [f(i, tt)]) };
};

describe('anomaly score properties', () => {
  test.each([1, 60])('a step to a new stable level: one episode at its onset, below 0.5 within confirmS (dt = %i s)', async (dt) => {
    const g = rng(1);
    const n = 3000;
    const at = 2000;
    const { t, v } = series(n, dt, (i) => 100 + g() + (i >= at ? 40 : 0));
    const s = await scores(['x'], t, v);
    const ep = episodes(s);
    expect(ep.length).toBe(1);
    expect(ep[0]![0]).toBe(at);
    // documented bound: confirmS (or confirmMinSamples intervals) after the onset, plus one sample
    const bound = Math.max(DEFAULT_SURPRISE.confirmS, DEFAULT_SURPRISE.confirmMinSamples * dt) + dt;
    const below = Array.from(s.slice(at)).findIndex((x) => x < 0.5);
    expect(below * dt).toBeLessThanOrEqual(bound);
    expect(Math.max(...s.slice(at + Math.ceil(bound / dt) + 1))).toBeLessThan(0.5);
  });

  test.each([8, 12, 15, 20, 30])('any step (%i sigma at 1 s) is at most one episode: no flicker around 0.8', async (k) => {
    const g = rng(11 + k);
    const { t, v } = series(2600, 1, (i) => 100 + g() + (i >= 2000 ? k : 0));
    expect(episodes(await scores(['x'], t, v)).length).toBeLessThanOrEqual(1);
  });

  test('a single spike: one short episode', async () => {
    const g = rng(2);
    const { t, v } = series(2000, 1, (i) => 50 + g() + (i === 1500 ? 40 : 0));
    const s = await scores(['x'], t, v);
    const ep = episodes(s);
    expect(ep).toEqual([[1500, 1500]]);
  });

  test('a return to the level from before an adopted change is not a second episode', async () => {
    const g = rng(3);
    const { t, v } = series(3000, 1, (i) => 10 + 0.1 * g() + (i >= 1000 && i < 2000 ? 3 : 0));
    const ep = episodes(await scores(['x'], t, v));
    expect(ep.length).toBe(1);
    expect(ep[0]![0]).toBe(1000);
  });

  test('a change that keeps moving after its onset (a step, then a ramp) is one episode; a bigger change while it settles pages again', async () => {
    // 1-minute samples, 3 days of normal; then a drop of 30 sigma that recovers
    // half-way in a ramp of 15 minutes (the shape of a server metric after a restart)
    const g = rng(21);
    const at = 3 * 1440;
    const ramp = (i: number): number => (i < at ? 0 : i < at + 5 ? -30 : i < at + 20 ? -30 + 1 * (i - at - 5) : -15);
    const { t, v } = series(at + 200, 60, (i) => 100 + g() + ramp(i));
    const ep = episodes(await scores(['x'], t, v));
    expect(ep.length).toBe(1);
    expect(ep[0]![0]).toBe(at);
    // the same onset, then a fall ten times bigger six minutes later: a new episode
    const worse = (i: number): number => (i < at ? 0 : i < at + 6 ? -30 : -300);
    const w = series(at + 200, 60, (i) => 100 + g() + worse(i));
    const ew = episodes(await scores(['x'], w.t, w.v));
    expect(ew.map((e) => e[0])).toEqual([at, at + 6]);
  }, 60000);

  test('a change that ended (back to the old normal) does not silence the next one as its settling', async () => {
    // a step held long enough to be adopted, a return to the old normal, and the same step
    // again within settleS of the adoption: a new change, a new episode
    const g = rng(22);
    const on = (i: number): boolean => (i >= 2000 && i < 2200) || i >= 2400;
    const { t, v } = series(3000, 1, (i) => 100 + g() + (on(i) ? 40 : 0));
    expect(2400 - (2000 + DEFAULT_SURPRISE.confirmS)).toBeLessThan(DEFAULT_SURPRISE.settleS);
    const starts = episodes(await scores(['x'], t, v)).map((e) => e[0]);
    // (a generic column's tail learned the first change's size, so the second may take the
    // short-mean test a few seconds; before, it was never paged)
    expect(starts.length).toBe(2);
    expect(starts[0]).toBe(2000);
    expect(starts[1]).toBeGreaterThanOrEqual(2400);
    expect(starts[1]).toBeLessThan(2400 + 60);
  });

  test('a far tail that recurs is learned (a metric that jumps 25 sigma four times a day); on a channel that never jumped, the same jump pages', async () => {
    const days = 7;
    const g = rng(22);
    const jumps = (i: number): boolean => i % 360 === 180; // every 6 hours, one sample
    const { t, v } = series(days * 1440, 60, (i) => 50 + g() + (jumps(i) ? 25 : 0));
    const s = await scores(['x'], t, v);
    // after two days of it, the jumps are this metric's normal: at most one page in five days
    expect(episodes(s.slice(2 * 1440)).length).toBeLessThanOrEqual(1);
    const clean = series(days * 1440, 60, (i) => 50 + g() + (i === 6 * 1440 + 180 ? 25 : 0));
    const ec = episodes(await scores(['x'], clean.t, clean.v));
    expect(ec.map((e) => e[0])).toEqual([6 * 1440 + 180]);
  }, 60000);

  test.each([60, 300])('a daily traffic cycle never alarms (7 days at %i s)', async (dt) => {
    const g = rng(4);
    const n = (7 * 86400) / dt;
    const { t, v } = series(n, dt, (_, tt) => 1e11 * (1 + 0.4 * Math.sin((2 * Math.PI * tt) / 86400)) * (1 + 0.02 * g()));
    const s = await scores(['traffic'], t, v);
    expect(episodes(s.slice(60)).length).toBe(0);
    expect(Math.max(...s.slice(60))).toBeLessThan(0.8);
  });

  test('time constants are in seconds: irregular sampling of the same process scores alike', async () => {
    const g = rng(5);
    const u = rng(6);
    const t: number[] = [];
    let tt = 1.7e9;
    for (let i = 0; i < 6000; i++) t.push((tt += 0.5 + 2.5 * Math.abs(u()) / 2));
    const step = t[4000]!;
    const s = await scores(['x'], t, t.map((x) => [20 + g() + (x >= step ? 12 : 0)]));
    const ep = episodes(s);
    expect(ep.length).toBe(1);
    // at the onset: within a few seconds of site time (a 12-sigma step needs one or two
    // samples of evidence at this entity's rate of chances)
    expect(ep[0]![0]).toBeGreaterThanOrEqual(4000);
    expect(t[ep[0]![0]]! - step).toBeLessThanOrEqual(5);
    // the fall below 0.5 is bounded in seconds, whatever the sample count
    const k = Array.from(s.slice(4000)).findIndex((x) => x < 0.5);
    expect(t[4000 + k]! - step).toBeLessThanOrEqual(DEFAULT_SURPRISE.confirmS + 10);
  });

  test('entities sharing a config learn exactly as alone, whatever cadence runs in between (the EW weights memo is per config)', () => {
    const g = rng(8);
    const u = rng(9);
    const n = 3000;
    // A: 1 s ticks with a step; B: irregular 0.5-5 s, a ramp
    const a = series(n, 1, (i) => 50 + g() + (i >= 2000 ? 9 : 0));
    const tb: number[] = [];
    let tt = 1.7e9;
    for (let i = 0; i < n; i++) tb.push((tt += 0.5 + Math.min(4.5, Math.abs(u()) * 2)));
    const vb = tb.map((_, i) => [7 + 0.1 * g() + (i >= 1500 ? (i - 1500) * 0.01 : 0), 3 + g()]);
    const run = (ea: EntitySurprise | undefined, eb: EntitySurprise | undefined): [Float32Array, Float32Array] => {
      const EA = new Float32Array(n * 1);
      const EB = new Float32Array(n * 3);
      for (let i = 0; i < n; i++) {
        ea?.push(a.t[i]!, a.v[i]!, EA, i);
        eb?.push(tb[i]!, vb[i]!, EB, i * 3);
      }
      return [EA, EB];
    };
    const [aloneA] = run(new EntitySurprise(['x'], [], { ...DEFAULT_SURPRISE }), undefined);
    const [, aloneB] = run(undefined, new EntitySurprise(['y', 'z'], [], { ...DEFAULT_SURPRISE }));
    const shared = { ...DEFAULT_SURPRISE };
    const [togetherA, togetherB] = run(new EntitySurprise(['x'], [], shared), new EntitySurprise(['y', 'z'], [], shared));
    expect(Math.max(...aloneA)).toBeGreaterThan(5); // the step is evidence: the comparison is not of zeros
    expect(togetherA).toEqual(aloneA);
    expect(togetherB).toEqual(aloneB);
  });

  test('a sustained shift too small to surprise sample by sample is found within 5 min (the short-mean test); without it, never', async () => {
    // a lasting 1.5-sigma shift after 2 days of white noise at 5 s: no single sample is
    // unusual (|z| mostly < 2), their run is
    const dt = 5;
    const n = (2 * 86400) / dt + 480;
    const at = (2 * 86400) / dt;
    const mk = () => {
      const g = rng(11);
      return series(n, dt, (i) => 50 + g() + (i >= at ? 1.5 : 0));
    };
    const { t, v } = mk();
    const ep = episodes(await scores(['x'], t, v));
    // found, and nothing in the two normal days before it. (A shift this small can
    // flicker into 2-3 episodes: the old normal's body overlaps the new one, so a
    // noise sample restores it; docs/ai.md, Known misses.)
    expect(ep.length).toBeGreaterThanOrEqual(1);
    expect(ep[0]![0]).toBeGreaterThanOrEqual(at);
    expect(t[ep[0]![0]]! - t[at]!).toBeLessThanOrEqual(300);
    // the same stream through the per-sample test alone misses it: the property
    // comes from the short mean, not from noise of the series
    const e = new EntitySurprise(['x'], [], { ...DEFAULT_SURPRISE, meanTauS: 0 });
    const E = new Float32Array(n);
    const lnR = new Float32Array(n);
    const m = mk();
    for (let i = 0; i < n; i++) lnR[i] = e.push(m.t[i]!, m.v[i]!, E, i);
    expect(episodes(await model.score(E, 1, lnR)).length).toBe(0);
  });

  test('a held observation republished every tick is one observation (a replay at 1 s ticks of 3 s rows)', async () => {
    // rows every 3 s, each published on three 1 s ticks with the row's own time (as a
    // replayed site's page carries it): the score of every tick is the score of its row
    const g = rng(12);
    const rows = series(4000, 3, (i) => 20 + g() + (i >= 3000 && i < 3020 ? 4 : 0));
    const once = await scores(['x'], rows.t, rows.v);
    const ticks = rows.t.flatMap((t, i) => [0, 1, 2].map(() => [t, rows.v[i]![0]!] as const));
    const held = await scores(['x'], ticks.map(([t]) => t), ticks.map(([, x]) => [x]));
    expect(Array.from(held)).toEqual(Array.from(once).flatMap((x) => [x, x, x]));
    expect(episodes(once).length).toBe(1); // the case is not trivial: the shift is found
  });

  test('a gap re-anchors: a level that moved while unobserved is not an alarm', async () => {
    const g = rng(7);
    const t = [...Array.from({ length: 1000 }, (_, i) => 1.7e9 + i), ...Array.from({ length: 1000 }, (_, i) => 1.7e9 + 1000 + 7200 + i)];
    const s = await scores(['x'], t, t.map((_, i) => [5 + 0.1 * g() + (i >= 1000 ? 2 : 0)]));
    expect(episodes(s).length).toBe(0);
  });

  test('missing values are gaps, never zeros', async () => {
    const g = rng(8);
    const { t, v } = series(2000, 60, (i) => (i % 97 === 0 && i > 100 ? NaN : 1000 + 5 * g()));
    const s = await scores(['x'], t, v);
    expect(episodes(s).length).toBe(0);
  });

  test('more channels do not mean more false alarms; heavy tails are learned', async () => {
    // 20 entity-days of 1-minute noise: Gaussian channels and Student-t(2) channels (bursty)
    const perDay = 1440;
    const runs = async (channels: number, heavy: boolean): Promise<number> => {
      let eps = 0;
      for (let e = 0; e < 4; e++) {
        const g = rng(100 + e * 7 + channels);
        const draw = (): number => (heavy ? g() / Math.sqrt((g() ** 2 + g() ** 2) / 2) : g());
        const n = 2 * perDay;
        const t = Array.from({ length: n }, (_, i) => 1.7e9 + 60 * i);
        const v = t.map(() => Array.from({ length: channels }, () => 50 + draw()));
        const names = Array.from({ length: channels }, (_, c) => `m${c}`);
        eps += episodes((await scores(names, t, v)).slice(perDay / 2)).length;
      }
      return eps / 6; // entity-days after the first half day (4 x 1.5)
    };
    for (const heavy of [false, true]) {
      const one = await runs(1, heavy);
      const many = await runs(12, heavy);
      expect(one).toBeLessThanOrEqual(1);
      expect(many).toBeLessThanOrEqual(1);
    }
  }, 240000);

  test("a site's fifth fault in five hours pages like its first; a generic column learns recurring changes", async () => {
    // a hard optical fault (OSNR -8 dB, BER +4 decades, rx power -7 dB for 10 min) every hour
    const g = rng(11);
    const faults = [2, 3, 4, 5, 6].map((h) => h * 3600);
    const t = Array.from({ length: 7 * 3600 }, (_, i) => 1.7e9 + i);
    const inFault = (i: number): number => faults.findIndex((f) => i >= f && i < f + 600);
    const v = t.map((_, i) => {
      const f = inFault(i) >= 0;
      return [1e9 * (1 + 0.02 * g()), (f ? -5 : -9) + 0.05 * g(), (f ? 17 : 25) + 0.1 * g(), (f ? -12 : -5) + 0.1 * g(), 0.05 * g(), 0, 0];
    });
    const onset = async (e: EntitySurprise): Promise<number[]> => {
      const s = await scores(e, t, v);
      return faults.map((f) => s[f]!);
    };
    // site channels: a change does not make the link's noise model heavier (SITE_SURPRISE)
    for (const s of await onset(EntitySurprise.site())) expect(s).toBeGreaterThanOrEqual(0.8);
    // the same columns as generic ones: each adopted change teaches the tail, so recurrences fade
    const generic = await onset(EntitySurprise.site(DEFAULT_SURPRISE));
    expect(generic[0]).toBeGreaterThanOrEqual(0.8);
    expect(generic[4]).toBeLessThan(0.8);
  });

  test("a site's short faults (60 s, never adopted) page the fifth time like the first (the joint column's alarm runs teach no shape on a site)", async () => {
    // before: 1.00, 0.98, 0.97, 0.87, 0.66 (each fault made the joint column's tail heavier)
    const g = rng(12);
    const faults = [2, 3, 4, 5, 6].map((h) => h * 3600);
    const t = Array.from({ length: 7 * 3600 }, (_, i) => 1.7e9 + i);
    const v = t.map((_, i) => {
      const f = faults.some((s) => i >= s && i < s + 60);
      return [1e9 * (1 + 0.02 * g()), (f ? -5 : -9) + 0.05 * g(), (f ? 17 : 25) + 0.1 * g(), (f ? -12 : -5) + 0.1 * g(), 0.05 * g(), 0, 0];
    });
    const s = await scores(EntitySurprise.site(), t, v);
    for (const f of faults) expect(s[f]).toBeGreaterThanOrEqual(0.8);
  });

  test('the ONNX head and its TypeScript reference agree; the file carries a real version', async () => {
    const n = 200;
    const W = 8;
    const E = Float32Array.from({ length: n * W }, (_, i) => (i * 7919) % 41);
    const lnR = Float32Array.from({ length: n }, (_, i) => 5 + (i % 11));
    const a = await model.score(E, W, lnR);
    const b = model.scoreReference(E, W, lnR);
    for (let i = 0; i < n; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5);
    expect(model.metadata['version']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(model.metadata['kind']).toBe('anomaly_head');
    // 0.8 sits exactly where the expected chance surprises per day equal e80
    expect(headScore(model.head, Math.log(1e4 / model.head.e80), Math.log(1e4))).toBeCloseTo(0.8, 6);
    // evidenceForScore is the head's inverse (it was off by 2 ln(1/e80) once, unnoticed
    // because its only caller then was the reject level, now SurpriseConfig.rejectPerDay)
    for (const head of [model.head, { e80: 0.2, k: 0.5 }])
      for (const lnR of [3, 14.07, 20])
        for (const s of [0.01, 0.5, 0.8, 0.99]) expect(headScore(head, evidenceForScore(head, lnR, s), lnR)).toBeCloseTo(s, 9);
  });
});
