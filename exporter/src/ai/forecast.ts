// 15-minute forecaster, as served: forecast[q] = exp(ln_level + X.w + b_q),
// q = p10, p50, p90, exported as MatMul/Add/Exp. Its weights are fitted by
// @optifiber/training (fit.ts: ridge regression of the log change, or
// persistence with an interval when ridge does not beat it); this file holds
// what both sides share: the model type, its ONNX encoding and decoding, the
// TypeScript reference and the conformal band.
import { decodeModel, encodeModel } from './onnx-proto.js';

export interface LinearForecaster {
  w: number[]; // F weights
  b: [number, number, number]; // intercepts for p10, p50, p90
  kind: 'ridge' | 'persistence';
}

/** Linear-interpolated quantile of a sorted array. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const dot = (w: ArrayLike<number>, x: ArrayLike<number>, off = 0): number => {
  let s = 0;
  for (let j = 0; j < w.length; j++) s += w[j]! * x[off + j]!;
  return s;
};

const f32 = Math.fround;

/** TypeScript reference: [p10, p50, p90] for features x and ln level (float32 semantics). */
export function predictForecast(m: LinearForecaster, x: ArrayLike<number>, lnLevel: number, off = 0): [number, number, number] {
  let s = 0;
  for (let j = 0; j < m.w.length; j++) s += f32(m.w[j]!) * f32(x[off + j]!);
  const base = f32(lnLevel) + s;
  return [Math.exp(base + f32(m.b[0])), Math.exp(base + f32(m.b[1])), Math.exp(base + f32(m.b[2]))];
}

/** ONNX: X [N,F], ln_level [N,1] -> throughput [N,3] (p10, p50, p90). */
export function forecasterToOnnx(m: LinearForecaster, metadata: Record<string, string>): Uint8Array {
  const F = m.w.length;
  const W: number[] = [];
  for (let j = 0; j < F; j++) W.push(m.w[j]!, m.w[j]!, m.w[j]!);
  return encodeModel({
    graphName: 'optifiber_forecast_linear',
    docString: 'OptiFiber 15-minute forecast: exp(ln_level + X.W + b) for p10, p50, p90',
    modelVersion: 1,
    opsets: [{ domain: '', version: 13 }],
    inputs: [
      { name: 'X', dims: ['N', F] },
      { name: 'ln_level', dims: ['N', 1] },
    ],
    outputs: [{ name: 'forecast', dims: ['N', 3] }],
    initializers: [
      { name: 'W', dims: [F, 3], data: W },
      { name: 'B', dims: [3], data: m.b },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['X', 'W'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'B'], outputs: ['delta'] },
      { op: 'Add', inputs: ['delta', 'ln_level'], outputs: ['ln_forecast'] },
      { op: 'Exp', inputs: ['ln_forecast'], outputs: ['forecast'] },
    ],
    metadata,
  });
}

export function forecasterFromOnnx(bytes: Uint8Array): { model: LinearForecaster; metadata: Record<string, string> } {
  const d = decodeModel(bytes);
  const W = d.initializers.get('W');
  const B = d.initializers.get('B');
  if (!W || !B || W.dims.length !== 2 || W.dims[1] !== 3) throw new Error('not an optifiber forecast model');
  const F = W.dims[0]!;
  const w: number[] = [];
  for (let j = 0; j < F; j++) w.push(W.data[j * 3 + 1]!);
  return {
    model: { w, b: [B.data[0]!, B.data[1]!, B.data[2]!], kind: (d.metadata['kind'] as 'ridge' | 'persistence') ?? 'ridge' },
    metadata: d.metadata,
  };
}

/**
 * Out-of-sample p10/p90 for one entity (split-conformal, online): every
 * forecast the entity was served is kept until its target bucket closes,
 * then its log error joins a ring of the last `size` errors; the band is
 * that ring's 10 % and 90 % quantiles around the served p50. Until
 * `minResiduals` errors have matured, the model's own band is used.
 * Forecasts are keyed by the bucket they were issued in; the one issued
 * last in a bucket (the freshest) is the one that is checked.
 */
export class ConformalBand {
  private readonly ring: Float32Array;
  private count = 0;
  private readonly pending = new Map<number, { base: number; delta: number }>();
  private q: [number, number] | undefined;
  constructor(
    readonly horizonBuckets: number,
    readonly size = 288,
    readonly minResiduals = 48,
  ) {
    this.ring = new Float32Array(size);
  }

  /** The forecast served in `bucket`: ln level then, predicted log change (p50). */
  issued(bucket: number, base: number, delta: number): void {
    this.pending.set(bucket + this.horizonBuckets, { base, delta });
    if (this.pending.size > 4 * this.horizonBuckets + 8) {
      for (const k of this.pending.keys()) if (k < bucket) this.pending.delete(k);
    }
  }

  /** Bucket `bucket` closed with mean `value`: mature the forecast that targeted it. */
  closed(bucket: number, value: number): void {
    const p = this.pending.get(bucket);
    if (!p) return;
    this.pending.delete(bucket);
    if (!(value > 0)) return;
    this.ring[this.count % this.size] = Math.log(value) - (p.base + p.delta);
    this.count++;
    this.q = undefined;
  }

  get matured(): number {
    return this.count;
  }

  /** [q10, q90] of the matured log errors, or undefined before minResiduals. */
  quantiles(): [number, number] | undefined {
    if (this.count < this.minResiduals) return undefined;
    if (!this.q) {
      const r = Array.from(this.ring.subarray(0, Math.min(this.count, this.size))).sort((a, b) => a - b);
      this.q = [quantile(r, 0.1), quantile(r, 0.9)];
    }
    return this.q;
  }
}
