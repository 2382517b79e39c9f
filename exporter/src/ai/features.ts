// The one feature pipeline of the edge models: training (optifiber train),
// serving (the tick stage) and backtesting all go through these classes, so
// a model never sees features computed differently from how it was fitted.
//
// Anomaly features: every entity (a site, a device or amplifier of the
// optical testbed, a server, a CSV file) is a set of channels; each channel
// learns its own normal online (surprise.ts) and reports evidence -ln p;
// the score head (anomaly-head.ts) turns the entity's evidence into 0..1.
// A site's channels are fixed (CHANNELS); a wide CSV's are its columns.
//
// Forecast features: per-entity 5-minute buckets in the entity's own clock
// (simulated time for the simulator), log-differences of recent buckets and
// of the same window one day earlier.
import type { SiteSample } from '../source/types.js';
import type { SiteRates } from '../sampler/types.js';
import { ChannelSurprise, DEFAULT_SURPRISE, SITE_SURPRISE, TailModel, type ScaleFloor, type SurpriseConfig } from './surprise.js';
import { lnRate } from './anomaly-head.js';

// ---------------------------------------------------------------- anomaly

/** Channels of a site (and of the optical testbed's devices), in domain units. */
export const CHANNELS = ['throughput', 'ber', 'osnr', 'rx_power', 'tx_power', 'errors', 'link_down'] as const;
export type Channel = (typeof CHANNELS)[number];
export const N_SITE_CHANNELS = CHANNELS.length;
/** Evidence columns of a site: its channels and the joint column. */
export const SITE_COLUMNS = [...CHANNELS, 'joint'] as const;
export const N_SITE_COLUMNS = SITE_COLUMNS.length;

/**
 * Scale floors in domain units: the smallest change worth a page divided by
 * ~6 (about 1 decade of BER, 2 dB of OSNR or power, 30 % of traffic). They
 * only stop a channel that sits perfectly still from calling its first
 * wobble a fault; the tail model does the calibration. Generic columns have
 * no floor but their own resolution (the smallest step they take).
 */
export const SITE_FLOORS: Record<Channel, ScaleFloor> = {
  throughput: { abs: 1e-9, rel: 0.05 },
  ber: { abs: 0.15, rel: 0 }, // decades
  osnr: { abs: 0.3, rel: 0 }, // dB
  rx_power: { abs: 0.3, rel: 0 }, // dB
  tx_power: { abs: 0.3, rel: 0 }, // dB
  errors: { abs: 0.1, rel: 0 }, // decades
  link_down: { abs: 0.01, rel: 0 }, // 0/1: any change is news
};

/** One observation of an entity on the site channels; NaN = not measured. */
export interface ChannelObs {
  level: number;
  ber: number;
  osnr: number;
  rx_power: number;
  tx_power: number;
  errors: number;
  /** undefined = the input has no link state (the testbed format): absent, not "up". */
  linkDown: boolean | undefined;
}

export const emptyObs = (): ChannelObs => ({
  level: NaN,
  ber: NaN,
  osnr: NaN,
  rx_power: NaN,
  tx_power: NaN,
  errors: NaN,
  linkDown: undefined,
});

const log10Ber = (ber: number): number => Math.log10(Math.max(ber, 1e-18));

/** A row of the optical testbed format (Devices: BER, OSNR; amplifiers: powers). */
export function obsFromOpticalRow(ber: number, osnr: number, inPower: number, outPower: number): ChannelObs {
  const o = emptyObs();
  o.ber = Number.isFinite(ber) ? log10Ber(ber) : NaN;
  o.osnr = osnr;
  o.rx_power = inPower;
  o.tx_power = outPower;
  return o;
}

/** A single `timestamp,value` series. */
export function obsFromValue(value: number): ChannelObs {
  const o = emptyObs();
  o.level = value;
  return o;
}

/** A site sample's channels (CHANNELS order) straight into out: the one mapping, no object per site per tick. */
export function siteValues(sample: SiteSample, rates: SiteRates | null, out: Float64Array): Float64Array {
  const down = sample.linkState === 'down';
  out[0] = sample.throughputBps;
  out[1] = down ? NaN : log10Ber(sample.preFecBer);
  out[2] = down ? NaN : sample.osnrDb;
  out[3] = down ? NaN : sample.rxPowerDbm;
  out[4] = sample.txPowerDbm;
  out[5] = rates ? Math.log10(1 + rates.crcErrorsPerSecond + rates.fecUncorrectableBlocksPerSecond) : NaN;
  // 'unknown' = the source has no link state (a replayed recording): absent, not "up"
  out[6] = sample.linkState === 'unknown' ? NaN : down ? 1 : 0;
  return out;
}

/** The site channels of an observation, in CHANNELS order (link state as 0/1). */
export function siteChannelValues(o: ChannelObs, out: Float64Array): Float64Array {
  out[0] = o.level;
  out[1] = o.ber;
  out[2] = o.osnr;
  out[3] = o.rx_power;
  out[4] = o.tx_power;
  out[5] = o.errors;
  out[6] = o.linkDown === undefined ? NaN : o.linkDown ? 1 : 0;
  return out;
}

/**
 * Per-entity evidence: one ChannelSurprise per channel, plus (with two or
 * more channels) a JOINT column: the sum of the channels' evidence, with a
 * tail model of its own, so several channels surprised a little at once
 * (a collective anomaly) is evidence too, calibrated on how often that
 * happens for this entity. `push` writes `width` evidences (-ln p) into
 * out[off..off+width) and returns the entity's ln(chances per day), the
 * score head's second input.
 */
export class EntitySurprise {
  readonly channels: ChannelSurprise[];
  /** Evidence columns per sample: the channels, then the joint one. */
  readonly width: number;
  readonly columns: string[];
  private readonly joint: TailModel | undefined;
  private active = 0;
  private lastT = NaN;
  private dt = NaN;
  /** The last sample's evidence columns and ln R, repeated for a held observation. */
  private readonly lastOut: Float32Array;
  private lastLnR = 0;
  constructor(
    readonly names: readonly string[],
    floors: readonly ScaleFloor[] = [],
    private readonly cfg: SurpriseConfig = DEFAULT_SURPRISE,
  ) {
    this.channels = names.map((_, i) => new ChannelSurprise(cfg, floors[i]));
    // the joint column has no level to adopt: its run that reached the reject level is its change
    this.joint = names.length >= 2 ? new TailModel(cfg, cfg.jointU, true) : undefined;
    this.width = names.length + (this.joint ? 1 : 0);
    this.columns = this.joint ? [...names, 'joint'] : [...names];
    this.lastOut = new Float32Array(this.width);
  }

  /** A site (or testbed device): the seven site channels with their floors. */
  static site(cfg: SurpriseConfig = SITE_SURPRISE): EntitySurprise {
    return new EntitySurprise(CHANNELS, CHANNELS.map((c) => SITE_FLOORS[c]), cfg);
  }

  push(t: number, values: ArrayLike<number>, out: Float32Array | number[], off = 0): number {
    // A sample with the time of the previous one is the same observation (a
    // replay republishing a held row every tick, a writer that ticks faster
    // than it measures): its evidence is repeated and nothing is learned, so
    // the model sees measurements, not ticks.
    if (t === this.lastT) {
      for (let i = 0; i < this.width; i++) out[off + i] = this.lastOut[i]!;
      return this.lastLnR;
    }
    const lnR = this.observe(t, values, out, off);
    for (let i = 0; i < this.width; i++) this.lastOut[i] = out[off + i]!;
    this.lastLnR = lnR;
    return lnR;
  }

  private observe(t: number, values: ArrayLike<number>, out: Float32Array | number[], off: number): number {
    let spd = 1;
    let active = 0;
    for (const c of this.channels) {
      if (c.n > 0) active += c.tests;
      spd = Math.max(spd, c.samplesPerDay());
    }
    this.active = Math.max(this.active, active);
    // chances per sample: one test per channel and the joint one
    const lnR = lnRate(spd, this.active + (this.joint ? 1 : 0));
    // a sample expected fewer than rejectPerDay times a day on this entity is not
    // part of its normal (see SurpriseConfig.rejectPerDay)
    const reject = lnR - Math.log(this.cfg.rejectPerDay);
    let sum = 0;
    for (let i = 0; i < this.channels.length; i++) {
      const c = this.channels[i]!;
      out[off + i] = c.update(t, values, i, reject);
      sum += c.sampleEvidence;
    }
    const dt = Number.isFinite(this.lastT) ? t - this.lastT : 0;
    this.lastT = t;
    if (this.joint) {
      out[off + this.channels.length] = this.joint.evidence(sum);
      if (dt > 0) this.dt = Number.isFinite(this.dt) ? this.dt + 0.05 * (Math.min(dt, 10 * this.dt) - this.dt) : dt;
      const tau = Math.max(this.cfg.tailTauS, this.cfg.statMinSamples * (this.dt || 1));
      this.joint.learn(sum, 1 - Math.exp(-Math.max(dt, 1e-9) / tau), reject);
    }
    return lnR;
  }
}

// ---------------------------------------------------------------- forecast

export const FORECAST_BUCKET_S = 300; // 5 minutes
export const DAY_BUCKETS = 86400 / FORECAST_BUCKET_S; // 288
export const FORECAST_LAGS = [1, 2, 3, 6, 12] as const;
export const FORECAST_FEATURES = [
  ...FORECAST_LAGS.map((k) => `dlog_lag${k}`),
  'dlog_day_ahead', // l(t+h-1d) - l(t-1d): what the same window did yesterday
  'dlog_vs_day', // l(t) - l(t-1d)
  'has_day', // 1 when a day of history exists, else 0 (the day terms are 0)
] as const;
export const N_FORECAST_FEATURES = FORECAST_FEATURES.length;

/**
 * Per-entity bucketed history in the entity's clock. The latest bucket may
 * be partial (mean of the samples so far); lags refer to earlier buckets.
 * Gaps are forward-filled. Memory: DAY_BUCKETS + 16 floats.
 */
export class ForecastHistory {
  private readonly ring: Float64Array;
  private count = 0; // buckets seen, including the current one
  private cur = -1; // index of the current bucket
  private sum = 0;
  private k = 0;
  private lastT = NaN;
  constructor(
    private readonly bucketS = FORECAST_BUCKET_S,
    private readonly horizonBuckets = 3,
  ) {
    this.ring = new Float64Array(DAY_BUCKETS + 16);
  }

  /** Learn a sample; returns the bucket it closed (index and final mean), if any. */
  push(timeS: number, value: number): { bucket: number; value: number } | undefined {
    if (!Number.isFinite(value) || !Number.isFinite(timeS)) return undefined;
    // the same observation again (see EntitySurprise.push): a bucket is a mean of measurements
    if (timeS === this.lastT) return undefined;
    this.lastT = timeS;
    const b = Math.floor(timeS / this.bucketS);
    let closed: { bucket: number; value: number } | undefined;
    if (this.cur < 0) {
      this.cur = b;
      this.count = 1;
    } else if (b > this.cur) {
      const last = this.k ? this.sum / this.k : this.get(0);
      if (this.k) closed = { bucket: this.cur, value: last };
      const gap = Math.min(b - this.cur, this.ring.length);
      for (let g = 0; g < gap; g++) {
        this.ring[this.count % this.ring.length] = last; // provisional fill
        this.count++;
      }
      this.cur = b;
      this.sum = 0;
      this.k = 0;
    } else if (b < this.cur) return undefined; // out of order: ignore
    this.sum += value;
    this.k++;
    this.ring[(this.count - 1) % this.ring.length] = this.sum / this.k;
    return closed;
  }

  /** Index of the current (possibly partial) bucket, -1 before any sample. */
  get bucket(): number {
    return this.cur;
  }

  /** Value of the bucket `back` buckets before the current one. */
  get(back: number): number {
    return this.ring[(this.count - 1 - back + this.ring.length * 4) % this.ring.length]!;
  }

  get buckets(): number {
    return this.count;
  }

  /** Latest value (current bucket mean), NaN before any sample. */
  level(): number {
    return this.count ? this.get(0) : NaN;
  }

  /** Enough history for the lag terms. */
  ready(): boolean {
    return this.count > FORECAST_LAGS[FORECAST_LAGS.length - 1]!;
  }

  /** ln of the bucket `back` before the current one (floored: a zero bucket is not -Infinity). */
  private lnAt(back: number): number {
    return Math.log(Math.max(this.get(back), 1e-9));
  }

  /** Features into out[off..]; returns ln(level) (the model's base), NaN if not ready. */
  features(out: Float32Array | number[], off = 0): number {
    if (!this.ready()) return NaN;
    const l0 = this.lnAt(0);
    let j = off;
    for (let i = 0; i < FORECAST_LAGS.length; i++) out[j++] = l0 - this.lnAt(FORECAST_LAGS[i]!);
    const h = this.horizonBuckets;
    if (this.count > DAY_BUCKETS) {
      out[j++] = this.lnAt(DAY_BUCKETS - h) - this.lnAt(DAY_BUCKETS);
      out[j++] = l0 - this.lnAt(DAY_BUCKETS);
      out[j++] = 1;
    } else {
      out[j++] = 0;
      out[j++] = 0;
      out[j++] = 0;
    }
    return l0;
  }
}
