// Fitting the 15-minute forecaster (training only; the exporter serves the
// result through @optifiber/exporter/ai/forecast): ridge regression of the
// log change over the horizon on recent log changes and on what the same
// window did one day earlier, with p10/p90 from residual quantiles on
// held-out data. When ridge does not beat persistence on the validation data
// the trainer ships w = 0 (persistence with an interval).
import { dot, quantile, type LinearForecaster } from '@optifiber/exporter/ai/forecast';

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
