// The detectors `npm run eval` compares, all online (a sample's score uses
// only samples up to it), all on the same entity streams:
//   optifiber   the served score: EntitySurprise per entity + the score head
//   gaussian    a windowed Gaussian: per channel |x - mean| / sd over the
//               previous 600 samples, two-sided tail probability, max over
//               channels, score = 1 - p (the classic NAB baseline's shape)
//   v1          the previous model ("before"), each column as its level channel
//   null        never alarms
import { EntitySurprise, obsFromValue, type ChannelObs } from '@optifiber/exporter/ai/features';
import type { AnomalyModel } from '@optifiber/exporter/ai/runtime';
import { AnomalyFeaturizer as V1Featurizer, N_ANOMALY_FEATURES as V1_F, scoreV1 } from '../legacy/v1.js';

/** One entity: optional warm-up rows (a deployment's history), then the rows scored. */
export interface EntityStream {
  name: string;
  channels: string[];
  warm?: { t: number[]; values: number[][] };
  t: number[];
  values: number[][];
  label: number[];
}

export type Detector = (e: EntityStream) => Promise<Float32Array>;

function allRows(e: EntityStream): { t: number[]; values: number[][]; skip: number } {
  const wt = e.warm?.t ?? [];
  return { t: [...wt, ...e.t], values: [...(e.warm?.values ?? []), ...e.values], skip: wt.length };
}

export function optifiberDetector(model: AnomalyModel, make?: (e: EntityStream) => EntitySurprise): Detector {
  return async (e) => {
    const { t, values, skip } = allRows(e);
    const ent = make ? make(e) : new EntitySurprise(e.channels);
    const C = ent.width;
    const E = new Float32Array(t.length * C);
    const lnR = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) lnR[i] = ent.push(t[i]!, values[i]!, E, i * C);
    const s = await model.score(E.subarray(skip * C), C, lnR.subarray(skip));
    return Float32Array.from(s);
  };
}

/** erfc, Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * z);
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-z * z);
  return x >= 0 ? y : 2 - y;
}

export function gaussianDetector(window = 600): Detector {
  return async (e) => {
    const { values, skip } = allRows(e);
    const C = e.channels.length;
    const ring = values.map(() => 0);
    void ring;
    const buf = Array.from({ length: C }, () => [] as number[]);
    const sum = new Float64Array(C);
    const sq = new Float64Array(C);
    const out = new Float32Array(values.length - skip);
    for (let i = 0; i < values.length; i++) {
      let pmin = 1;
      for (let c = 0; c < C; c++) {
        const x = values[i]![c]!;
        if (!Number.isFinite(x)) continue;
        const b = buf[c]!;
        if (b.length >= 30) {
          const m = sum[c]! / b.length;
          const sd = Math.sqrt(Math.max(0, sq[c]! / b.length - m * m));
          const z = sd > 0 ? Math.abs(x - m) / sd : x === m ? 0 : 40;
          pmin = Math.min(pmin, erfc(z / Math.SQRT2));
        }
        b.push(x);
        sum[c]! += x;
        sq[c]! += x * x;
        if (b.length > window) {
          const o = b.shift()!;
          sum[c]! -= o;
          sq[c]! -= o * o;
        }
      }
      if (i >= skip) out[i - skip] = 1 - pmin;
    }
    return out;
  };
}

/** The v1 model: every column its own entity on the level channel, the max over columns. */
export function v1Detector(modelPath: string): Detector {
  return async (e) => {
    const { values, skip } = allRows(e);
    const C = e.channels.length;
    const n = values.length - skip;
    const X = new Float32Array(n * C * V1_F);
    const row = new Float32Array(V1_F);
    const feats = Array.from({ length: C }, () => new V1Featurizer());
    for (let i = 0; i < values.length; i++) {
      for (let c = 0; c < C; c++) {
        const o: ChannelObs = obsFromValue(values[i]![c]!);
        feats[c]!.push(o, row);
        if (i >= skip) X.set(row, ((i - skip) * C + c) * V1_F);
      }
    }
    const s = await scoreV1(modelPath, X);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let c = 0; c < C; c++) m = Math.max(m, s[i * C + c]!);
      out[i] = m;
    }
    return out;
  };
}

export const nullDetector: Detector = async (e) => new Float32Array(e.t.length);
