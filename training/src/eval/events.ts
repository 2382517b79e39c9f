// Event-level scoring of an anomaly detector, as `npm run eval` reports it:
//
// - a windowed score in the style of the public Numenta Anomaly Benchmark
//   (NAB): one window per labelled segment; the first detection inside a
//   window earns A_TP x sigma(y) (y = -1 at the window start, 0 at its end:
//   earlier is better), a window without detection costs A_FN, and EVERY
//   detected sample outside the windows costs A_FP x sigma(y) (y measured
//   in window lengths after the last window that ended, -1 when none did).
//   Normalised so the null detector scores 0 and a perfect one 100, summed
//   over the corpus' entities before normalising (as NAB does);
// - event precision / recall / F1 over alarm episodes (runs of samples at
//   or above the threshold): an episode is true when it overlaps a window;
// - detection delay (seconds from the segment's start to its first alarm);
// - false-alarm episodes per entity-day: episodes that start in the normal
//   part (outside every window), over the normal part's duration.
//
// Windows: the labelled segment, opened early by 10 % of its length (at
// least one sample), so a detector that sees the onset coming is not
// punished for it. Fixed before any detector was scored.

export interface Profile {
  name: string;
  tp: number;
  fp: number;
  fn: number;
}

export const PROFILES: Profile[] = [
  { name: 'standard', tp: 1, fp: 0.11, fn: 1 },
  { name: 'reward_low_fp', tp: 1, fp: 0.22, fn: 1 },
  { name: 'reward_low_fn', tp: 1, fp: 0.11, fn: 2 },
];

/** One entity's stream, scored: times (s), labels 0/1, detector scores 0..1. */
export interface ScoredEntity {
  t: ArrayLike<number>;
  label: ArrayLike<number>;
  score: ArrayLike<number>;
}

interface Window {
  start: number; // first sample index inside the window
  end: number; // last sample index inside the window
  segStart: number; // first labelled sample
}

export function windowsOf(label: ArrayLike<number>): Window[] {
  const out: Window[] = [];
  let i = 0;
  const n = label.length;
  while (i < n) {
    if (!(label[i]! > 0)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < n && label[j + 1]! > 0) j++;
    const ext = Math.max(1, Math.round(0.1 * (j - i + 1)));
    out.push({ start: Math.max(0, i - ext, out.length ? out[out.length - 1]!.end + 1 : 0), end: j, segStart: i });
    i = j + 1;
  }
  return out;
}

const sigma = (y: number): number => 2 / (1 + Math.exp(5 * y)) - 1;

/** Raw NAB-style score of one entity at a threshold, with its null and perfect bounds. */
export function nabRaw(e: ScoredEntity, thr: number, p: Profile): { score: number; nul: number; perfect: number } {
  const w = windowsOf(e.label);
  let score = 0;
  let wi = 0;
  let lastEnded: Window | undefined;
  const detected = new Array<boolean>(w.length).fill(false);
  for (let i = 0; i < e.score.length; i++) {
    while (wi < w.length && i > w[wi]!.end) lastEnded = w[wi++];
    const inWin = wi < w.length && i >= w[wi]!.start && i <= w[wi]!.end;
    if (!(e.score[i]! >= thr)) continue;
    if (inWin) {
      const win = w[wi]!;
      if (!detected[wi]) {
        detected[wi] = true;
        const y = (i - win.end) / Math.max(1, win.end - win.start);
        score += p.tp * sigma(Math.max(-1, y));
      }
    } else if (lastEnded) {
      const y = (i - lastEnded.end) / Math.max(1, lastEnded.end - lastEnded.start);
      score += p.fp * sigma(y);
    } else score -= p.fp;
  }
  score -= p.fn * detected.filter((d) => !d).length;
  return { score, nul: -p.fn * w.length, perfect: p.tp * sigma(-1) * w.length };
}

/** Normalised corpus score (null 0, perfect 100) at a threshold. */
export function nabScore(entities: ScoredEntity[], thr: number, p: Profile): number {
  let s = 0;
  let nul = 0;
  let perf = 0;
  for (const e of entities) {
    const r = nabRaw(e, thr, p);
    s += r.score;
    nul += r.nul;
    perf += r.perfect;
  }
  return perf === nul ? 0 : (100 * (s - nul)) / (perf - nul);
}

/** Threshold grid shared by every detector: 0.05 steps, then 1 - 10^(-k/2) up to 1 - 1e-8 (tail-probability scores), then never. */
export const THRESHOLDS: number[] = [
  ...Array.from({ length: 19 }, (_, i) => Math.round(100 * 0.05 * (i + 1)) / 100),
  ...Array.from({ length: 14 }, (_, k) => 1 - 10 ** (-(k + 3) / 2)),
  1.01,
];

/** Best threshold of a detector for a profile (NAB optimises per detector). */
export function bestThreshold(entities: ScoredEntity[], p: Profile): { threshold: number; score: number } {
  let best = { threshold: 1.01, score: -Infinity };
  for (const thr of THRESHOLDS) {
    const s = nabScore(entities, thr, p);
    if (s > best.score) best = { threshold: thr, score: s };
  }
  return best;
}

export interface EventStats {
  windows: number;
  detected: number;
  episodes: number;
  true_episodes: number;
  precision: number;
  recall: number;
  f1: number;
  median_delay_s: number | null;
  false_alarm_episodes: number;
  normal_days: number;
  false_alarms_per_entity_day: number | null;
}

const median = (a: number[]): number | null => {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Event precision/recall/F1, delay and false alarms per entity-day at a threshold. */
export function eventStats(entities: ScoredEntity[], thr: number): EventStats {
  let windows = 0;
  let detected = 0;
  let episodes = 0;
  let trueEp = 0;
  let fa = 0;
  let normalS = 0;
  const delays: number[] = [];
  for (const e of entities) {
    const w = windowsOf(e.label);
    windows += w.length;
    const inWin = new Int32Array(e.score.length).fill(-1);
    w.forEach((win, k) => inWin.fill(k, win.start, win.end + 1));
    const first = new Array<number>(w.length).fill(-1);
    let i = 0;
    while (i < e.score.length) {
      if (inWin[i]! < 0 && i > 0) normalS += Math.max(0, e.t[i]! - e.t[i - 1]!);
      if (!(e.score[i]! >= thr)) {
        i++;
        continue;
      }
      let j = i;
      let hit = false;
      for (; j < e.score.length && e.score[j]! >= thr; j++) {
        const k = inWin[j]!;
        if (k >= 0) {
          hit = true;
          if (first[k]! < 0) first[k] = j;
        }
        if (j > i && inWin[j]! < 0) normalS += Math.max(0, e.t[j]! - e.t[j - 1]!);
      }
      episodes++;
      if (hit) trueEp++;
      else if (inWin[i]! < 0) fa++;
      i = j;
    }
    first.forEach((f, k) => {
      if (f < 0) return;
      detected++;
      delays.push(e.t[f]! - e.t[w[k]!.segStart]!);
    });
  }
  const precision = episodes ? trueEp / episodes : 0;
  const recall = windows ? detected / windows : 0;
  const days = normalS / 86400;
  return {
    windows,
    detected,
    episodes,
    true_episodes: trueEp,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    median_delay_s: median(delays),
    false_alarm_episodes: fa,
    normal_days: days,
    false_alarms_per_entity_day: days > 0 ? fa / days : null,
  };
}
