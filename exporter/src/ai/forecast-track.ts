// One entity's forecast state, shared by the exporter's tick stage and
// `optifiber backtest forecast` so that what we serve is what we measure:
// the bucketed history the features come from, and the conformal band
// built from the errors of the forecasts this entity was actually served.
import { FORECAST_BUCKET_S, ForecastHistory } from './features.js';
import { ConformalBand } from './forecast.js';

export class ForecastTrack {
  readonly hist: ForecastHistory;
  readonly band: ConformalBand;
  /** The forecast served last, and in which bucket (the freshest of that bucket is checked). */
  private last: { bucket: number; base: number; delta: number } | undefined;

  constructor(horizonBuckets = 3, bucketS = FORECAST_BUCKET_S) {
    this.hist = new ForecastHistory(bucketS, horizonBuckets);
    this.band = new ConformalBand(horizonBuckets);
  }

  /** Learn a sample; features into x[off..]; returns ln level, NaN while not ready. */
  push(timeS: number, value: number, x: Float32Array | number[], off = 0): number {
    const closed = this.hist.push(timeS, value);
    if (closed) {
      this.band.closed(closed.bucket, closed.value);
      if (this.last?.bucket === closed.bucket) this.band.issued(closed.bucket, this.last.base, this.last.delta);
    }
    return this.hist.features(x, off);
  }

  /**
   * Record the forecast served now and return its band: the matured
   * out-of-sample quantiles when there are enough, else the model's own.
   */
  serve(lnLevel: number, p10: number, p50: number, p90: number): { p10: number; p50: number; p90: number } {
    const delta = Math.log(Math.max(p50, 1e-12)) - lnLevel;
    this.last = { bucket: this.hist.bucket, base: lnLevel, delta };
    const q = this.band.quantiles();
    if (!q) return { p10: Math.min(p10, p50), p50, p90: Math.max(p90, p50) };
    return { p10: Math.min(p50, p50 * Math.exp(q[0])), p50, p90: Math.max(p50, p50 * Math.exp(q[1])) };
  }
}
