// 15-minute forecaster: ridge regression of the log change over the horizon
// on recent log changes and on what the same window did one day earlier,
// with p10/p90 from residual quantiles on held-out data. Exported as
// MatMul/Add/Exp: forecast[q] = exp(ln_level + X.w + b_q), q = p10, p50, p90.
// When the ridge model does not beat persistence on the validation data the
// trainer ships w = 0 (persistence with an interval).
import { decodeModel, encodeModel } from './onnx-proto.js';

export interface LinearForecaster {
  w: number[]; // F weights
  b: [number, number, number]; // intercepts for p10, p50, p90
  kind: 'ridge' | 'persistence';
}

/** Solve (A) x = y for a small dense SPD system (Gaussian elimination, partial pivot). */
function solve(A: number[][], y: number[]): number[] {
  const n = y.length;
  const M = A.map((r, i) => [...r, y[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const piv = M[c]![c]!;
    if (Math.abs(piv) < 1e-15) continue;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / piv;
      if (f === 0) continue;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return M.map((r, i) => (Math.abs(r[i]!) < 1e-15 ? 0 : r[n]! / r[i]!));
}

/** Ridge fit of y on X (rows of F) with an unpenalized intercept. */
export function fitRidge(X: number[][], y: number[], lambda: number): { w: number[]; b: number } {
  const F = X[0]?.length ?? 0;
  const n = X.length;
  const mx = new Array<number>(F).fill(0);
  let my = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < F; j++) mx[j]! += X[i]![j]! / n;
    my += y[i]! / n;
  }
  const A = Array.from({ length: F }, () => new Array<number>(F).fill(0));
  const v = new Array<number>(F).fill(0);
  for (let i = 0; i < n; i++) {
    const xi = X[i]!;
    const yi = y[i]! - my;
    for (let j = 0; j < F; j++) {
      const a = xi[j]! - mx[j]!;
      v[j]! += a * yi;
      for (let k = j; k < F; k++) A[j]![k]! += a * (xi[k]! - mx[k]!);
    }
  }
  for (let j = 0; j < F; j++) {
    for (let k = 0; k < j; k++) A[j]![k] = A[k]![j]!;
    A[j]![j]! += lambda * n;
  }
  const w = solve(A, v);
  let b = my;
  for (let j = 0; j < F; j++) b -= w[j]! * mx[j]!;
  return { w, b };
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

export interface ForecastDataset {
  X: number[][];
  y: number[]; // log change over the horizon
  base: number[]; // ln level at forecast time
}

export interface ForecastErrors {
  mape: number;
  smape: number;
}

export function errors(actual: number[], pred: number[]): ForecastErrors {
  let m = 0;
  let s = 0;
  let n = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const p = pred[i]!;
    if (!(Math.abs(a) > 0)) continue;
    m += Math.abs((a - p) / a);
    s += (2 * Math.abs(a - p)) / (Math.abs(a) + Math.abs(p));
    n++;
  }
  return { mape: (100 * m) / n, smape: (100 * s) / n };
}

/**
 * Fit on `fit`, choose between ridge and persistence on `val`, then set the
 * interval from the chosen model's residual quantiles on `val`.
 */
export function trainForecaster(fit: ForecastDataset, val: ForecastDataset, lambda = 1e-3): {
  model: LinearForecaster;
  val: { ridge: ForecastErrors; persistence: ForecastErrors; coverage80: number };
} {
  const { w, b } = fitRidge(fit.X, fit.y, lambda);
  const actual = val.y.map((d, i) => Math.exp(val.base[i]! + d));
  const persist = val.base.map((l) => Math.exp(l));
  const ridgePred = val.X.map((x, i) => Math.exp(val.base[i]! + dot(w, x) + b));
  const eR = errors(actual, ridgePred);
  const eP = errors(actual, persist);
  const useRidge = eR.mape < eP.mape;
  const W = useRidge ? w : w.map(() => 0);
  const B = useRidge ? b : 0;
  const resid = val.X.map((x, i) => val.y[i]! - (dot(W, x) + B)).sort((a, c) => a - c);
  const q10 = quantile(resid, 0.1);
  const q50 = quantile(resid, 0.5);
  const q90 = quantile(resid, 0.9);
  // p50 stays the point forecast (mean of the log change); the band is the residual spread around it
  void q50;
  const model: LinearForecaster = { w: W, b: [B + q10, B, B + q90], kind: useRidge ? 'ridge' : 'persistence' };
  let inside = 0;
  for (let i = 0; i < val.y.length; i++) {
    const p = dot(W, val.X[i]!) + B;
    if (val.y[i]! >= p + q10 && val.y[i]! <= p + q90) inside++;
  }
  return { model, val: { ridge: eR, persistence: eP, coverage80: inside / Math.max(1, val.y.length) } };
}

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
