// Calibrated surprise: the online, per-entity half of the anomaly score.
//
// Every channel of every entity (a site's OSNR, a server's CPU, one column
// of a CSV) keeps its own small state, learned from its own stream:
//
//   level     an exponentially weighted level (the prediction), time
//             constant in SECONDS of the entity's clock, never in samples;
//   scale     the typical size of its residuals (robust, clipped);
//   tail      how often |z| exceeds U and how heavy the tail beyond it is
//             (a Pareto peaks-over-threshold model, learned from every
//             sample; the far tail beyond 8 U learned apart), so a channel
//             whose residuals are heavy-tailed learns that a big |z| is
//             ordinary for it;
//   mean      a second test: a short mean of z (60 s) with its own scale and
//             tail, for drifts and collective shifts no single sample shows.
//
// A sample's evidence is -ln p, p = P(|z| at least this large | this
// channel's normal behaviour). The entity's evidence is the largest over
// its channels; the score head (anomaly-head.ts, served with onnxruntime)
// turns it into 0..1 with the number of samples and channels an entity has
// per day, so 0.8 is the same false-alarm RATE on a 1 s site with 7
// channels as on a 5-minute server with 38.
//
// One alarm episode per change: a run of surprising samples that lasts
// `confirmS` is a new normal; the level is moved to it (the old state is
// remembered), so the score falls back within confirmS of the onset.
// Persistent bad states are the threshold alerts' job (OSNR, BER, power,
// link down), not the anomaly score's. A return to the remembered normal
// restores it silently. A change that keeps moving after it was adopted (a
// ramp after a step) is the same episode while it is no more surprising
// than its onset (settleS).
//
// Gaps: a sample arriving more than max(gapMinS, gapFactor x the usual
// interval) after the previous one re-anchors the level without evidence.
// Missing values (NaN) are skipped: no evidence, no learning.

export interface SurpriseConfig {
  /** Level time constant (s); never shorter than levelMinSamples intervals. */
  levelTauS: number;
  levelMinSamples: number;
  /** Scale and tail-model time constants (s), likewise bounded below in samples. */
  scaleTauS: number;
  tailTauS: number;
  statMinSamples: number;
  /** A surprising run that lasts this long (s, at least confirmMinSamples) becomes the new level. */
  confirmS: number;
  confirmMinSamples: number;
  /** No evidence until a channel has learned this many samples. */
  warmupSamples: number;
  /** Prior weight (samples) of the tail model's starting values. */
  tailPrior: number;
  /** Tail threshold in scale units, the tail model's prior, and its bounds. */
  tailU: number;
  /**
   * A sample expected fewer than this many times per entity-day by chance
   * (evidence >= ln(R / rejectPerDay), R the score head's chances per day) is
   * not part of the normal: the level and scale do not learn it, a run of
   * such samples counts towards adopting a new level, and a run that reached
   * it teaches the tails with alarmLearnWeight. 80 a day is a score of about
   * 0.0025, far below the alarm (0.05 a day at 0.8): a fault must not drag
   * the normal towards it while it is still building up.
   */
  rejectPerDay: number;
  /** Relative weight with which a run that reached the reject level teaches a tail model. */
  alarmLearnWeight: number;
  /**
   * Whether a run that became a new level (an adopted change) teaches the
   * tails' shape (h) as well as their rate (pU). Generic columns: yes (a
   * server's regime changes recur with its workload and must become normal).
   * Site channels: no (see SITE_SURPRISE).
   */
  changesTeachShape: boolean;
  /** Tail threshold of an entity's joint evidence (nats summed over its channels). */
  jointU: number;
  tailP0: number;
  /** Prior mean log-excess (1/tail index) and its floor (the lightest tail believed). */
  tailHill0: number;
  tailHillMin: number;
  /** Residuals are clipped to +-clip scale units before they update the scale. */
  clip: number;
  /** A gap longer than max(gapMinS, gapFactor x usual interval) re-anchors the level. */
  gapFactor: number;
  gapMinS: number;
  /** Evidence cap (nats): beyond it every value is equally impossible. */
  maxEvidence: number;
  /**
   * Time constant (s, at least meanMinSamples intervals) of the short mean of
   * clipped residuals, a second test per channel for sustained deviations
   * (drifts, collective shifts) too small to surprise sample by sample. 0 = off.
   */
  meanTauS: number;
  meanMinSamples: number;
  /**
   * The far tail starts at farFactor x tailU scales: beyond it a tail model
   * also uses the rate and index it learned there, and believes whichever
   * says "less surprising" (see TailModel).
   */
  farFactor: number;
  /**
   * After a change is adopted, the channel is settling for settleS (s, at
   * least settleMinSamples intervals; restarted by every further adoption):
   * a run that is not more surprising than the change's own peak is the same
   * change still moving (a ramp after a step, a staircase of levels) and is
   * adopted without a new episode. A bigger one pages.
   */
  settleS: number;
  settleMinSamples: number;
}

/** Frozen, like every config a channel uses: its EW weights are memoized per config object (weightsFor). */
export const DEFAULT_SURPRISE: Readonly<SurpriseConfig> = Object.freeze({
  levelTauS: 600,
  levelMinSamples: 4,
  scaleTauS: 6 * 3600,
  tailTauS: 24 * 3600,
  statMinSamples: 200,
  confirmS: 120,
  confirmMinSamples: 4,
  warmupSamples: 30,
  tailPrior: 100,
  tailU: 2,
  jointU: 3,
  rejectPerDay: 80,
  alarmLearnWeight: 0.3,
  changesTeachShape: true,
  tailP0: 0.05,
  tailHill0: 0.15,
  tailHillMin: 0.1,
  clip: 4,
  gapFactor: 20,
  gapMinS: 600,
  maxEvidence: 60,
  meanTauS: 60,
  meanMinSamples: 4,
  farFactor: 8,
  settleS: 600,
  settleMinSamples: 10,
});

/**
 * The site channels (and the optical testbed's devices): physical measures of
 * one optical link. A change on them that lasts long enough to be adopted is
 * a fault state or a reprovisioning, not a fluctuation: it must not make the
 * link's noise model heavier-tailed, or a site's second fiber cut of the day
 * is less surprising than its first. Changes still teach how often runs
 * start (pU, at alarmLearnWeight). The joint column (no level of its own)
 * counts every run that reached the reject level as such a change: the
 * link's channels moving together that much is a fault candidate (a BER
 * creep's early runs had taught it to ignore the creep; a short fault every
 * hour faded to 0.66 by the fifth).
 */
export const SITE_SURPRISE: Readonly<SurpriseConfig> = Object.freeze({ ...DEFAULT_SURPRISE, changesTeachShape: false });

/** Floors of a channel's scale in its own units: absolute and relative to |level|. */
export interface ScaleFloor {
  abs: number;
  rel: number;
}

/**
 * Peaks over threshold, declustered, with a Pareto tail: how often a
 * quantity exceeds U and how heavy its tail beyond U is, learned online.
 * A run of samples beyond U is ONE exceedance whose size is the run's peak,
 * learned when the run ends: a burst or a long fault teaches the tail once,
 * while isolated spikes (the heavy tail of a bursty metric) are all learned.
 *   P(a run peaking at >= a starts at a sample) = pU (a/U)^(-1/h)
 * pU is that rate per sample; h the mean log-excess ln(peak/U) (the Hill
 * estimator), clipped at 6 h per peak (bounded influence). A power-law tail
 * is what real metrics need; on Gaussian noise it is conservative.
 *
 * One index rarely fits both the body and the far tail: a server metric
 * that crosses 2 scales every few minutes in small steps (a light tail at
 * U) and jumps 20 scales a few times a day was paged on by every jump. So
 * runs beyond U2 = farFactor x U also learn a rate p2 and an index of their
 * own, starting from the near model's extrapolation, and beyond U2 the
 * evidence is the smaller of the two: a heavier far tail, once seen, is
 * believed; a lighter one never adds surprise.
 */
const P2_MIN = 1e-7;

export class TailModel {
  // The learned numbers start as numbers, set in the constructor: a field
  // declared without a value starts undefined, and V8 then boxes every later
  // store into it (a heap number per tail per sample, megabytes a tick).
  pU = NaN;
  hill = NaN;
  /** The far tail beyond U2 = farFactor x U: its own rate and index (see evidence()). */
  readonly U2: number;
  p2 = NaN;
  hill2 = NaN;
  private over2 = 0;
  private n = 0;
  private over = 0;
  /** Peak of the run beyond U in progress (0 = none). */
  private peak = 0;
  /** The run in progress became a new level (see SurpriseConfig.changesTeachShape). */
  private change = false;
  /**
   * @param alarmIsChange a run that reached the reject level counts as an
   *   adopted change (for a column with no level of its own: the joint one)
   */
  constructor(
    private readonly cfg: SurpriseConfig,
    readonly U: number,
    private readonly alarmIsChange = false,
  ) {
    this.pU = cfg.tailP0;
    this.hill = cfg.tailHill0;
    // the far tail starts where the prior's Pareto puts it: no evidence changes until learned
    this.U2 = U * cfg.farFactor;
    this.p2 = Math.max(P2_MIN, cfg.tailP0 * cfg.farFactor ** (-1 / cfg.tailHill0));
    this.hill2 = cfg.tailHill0;
  }

  /** The run in progress was adopted as a new level. */
  markChange(): void {
    if (this.peak > 0) this.change = true;
  }

  /** -ln P(a run peaking at >= a), 0 inside the body. */
  evidence(a: number): number {
    if (!(a > this.U)) return 0;
    let e = -Math.log(this.pU) + Math.log(a / this.U) / this.hill;
    if (a > this.U2) e = Math.min(e, -Math.log(this.p2) + Math.log(a / this.U2) / this.hill2);
    return Math.min(this.cfg.maxEvidence, e);
  }

  /**
   * Learn one sample's value; w = the sample's time weight (EW, seconds-based).
   * A run whose peak reached `alarmEvidence` teaches the tail only
   * cfg.alarmLearnWeight as much: bursts that recur many times a day still
   * become normal within days, a fault that recurs every few minutes stays
   * visible for many recurrences. `far` = false: the far tail does not learn
   * from it.
   */
  learn(a: number, w: number, alarmEvidence = Infinity, far = true): void {
    if (a > this.U) {
      this.peak = Math.max(this.peak, a);
      return;
    }
    this.n++;
    if (this.peak > 0) return this.learnRun(w, alarmEvidence, far);
    // The usual sample (no run ended): the rates decay, nothing else. Kept this
    // small so that V8 inlines it into the per-sample update, whose doubles then
    // stay unboxed (10,000 sites x 15 tails a tick of heap numbers otherwise).
    const wt = Math.max(w, 1 / (this.n + this.cfg.tailPrior));
    this.pU = Math.min(0.5, Math.max(1e-5, this.pU - wt * this.pU));
    if (far) this.p2 = Math.min(this.pU, Math.max(P2_MIN, this.p2 - wt * this.p2));
  }

  /**
   * A run beyond U ended: it teaches the rate (at alarmLearnWeight if it
   * reached the reject level), the shape unless it counts as a change on a
   * site, and the far tail unless it reached the reject level on a site.
   */
  private learnRun(w: number, alarmEvidence: number, far: boolean): void {
    const c = this.cfg;
    const peak = this.peak;
    this.peak = 0;
    const k = this.evidence(peak) >= alarmEvidence ? c.alarmLearnWeight : 1;
    const change = this.change;
    this.change = false;
    const wt = k * Math.max(w, 1 / (this.n + c.tailPrior));
    this.pU = Math.min(0.5, Math.max(1e-5, this.pU + wt * (1 - this.pU)));
    const shape = c.changesTeachShape || !(change || (this.alarmIsChange && k !== 1));
    // On a site, a run that reached the reject level is a fault candidate: if it
    // taught the far tail, a link's recurring faults would make their own size normal.
    if (far && (c.changesTeachShape || (shape && k === 1))) this.learnFar(peak, wt, k);
    if (!shape) return;
    this.over++;
    const le = Math.min(Math.log(peak / this.U), 6 * this.hill);
    const wh = k * Math.max(wt / k / Math.max(this.pU, 1e-3), 1 / (this.over + c.tailPrior * c.tailP0));
    this.hill = Math.max(c.tailHillMin, this.hill + Math.min(1, wh) * (le - this.hill));
  }

  /** The far tail learns like the near one, from the same samples and runs, beyond U2. */
  private learnFar(peak: number, wt: number, k: number): void {
    const c = this.cfg;
    this.p2 = Math.min(this.pU, Math.max(P2_MIN, this.p2 + wt * ((peak > this.U2 ? 1 : 0) - this.p2)));
    if (!(peak > this.U2)) return;
    this.over2++;
    const le = Math.min(Math.log(peak / this.U2), 6 * this.hill2);
    // far runs are rare: one run weighs at most as much as the prior's runs together,
    // or a single adopted step would set the far index alone
    const n0 = c.tailPrior * c.tailP0;
    const wh = k * Math.min(1 / (1 + n0), Math.max(wt / k / Math.max(this.p2, 1e-4), 1 / (this.over2 + n0)));
    this.hill2 = Math.max(c.tailHillMin, this.hill2 + wh * (le - this.hill2));
  }
}

/** Slots of a weights memo: the key (step, usual interval), then one EW weight per time constant. */
const W_STEP = 0;
const W_DT = 1;
const W_LEVEL = 2;
const W_SCALE = 3;
const W_TAIL = 4;
const W_MEAN = 5;
const WEIGHTS = new WeakMap<SurpriseConfig, Float64Array>();

/**
 * The EW weights of a sample (1 - exp(-step / tau), tau in seconds but at
 * least a number of usual intervals) depend only on the config, the step and
 * the channel's usual interval. So every channel of a config shares one memo
 * of the last (step, interval) asked: a fleet of sites ticking every second
 * computes them once, not five exp() per channel and sample, and the numbers
 * live in a typed array, neither heap objects for the GC to mark (10,000
 * sites x 7 channels) nor allocations to scavenge. A channel checks the key
 * before it uses them (update()); nothing else runs in between. A config must
 * not change once a channel uses it (the exported ones are frozen; variants
 * are new objects: { ...DEFAULT_SURPRISE, x }).
 */
function weightsFor(cfg: SurpriseConfig): Float64Array {
  let w = WEIGHTS.get(cfg);
  if (!w) WEIGHTS.set(cfg, (w = new Float64Array(6).fill(NaN)));
  return w;
}

interface Remembered {
  level: number;
  scale: number;
}

/**
 * One channel of one entity. `update(t, x)` returns the sample's evidence
 * (-ln p, >= 0) against the state before it, then learns the sample.
 */
export class ChannelSurprise {
  level = NaN;
  scale = 0;
  /** Learned samples since the last (re)start. */
  n = 0;
  /** The per-sample test's evidence of the last update (what the joint column sums). */
  sampleEvidence = 0;
  /** Samples the level has averaged since it was last anchored (start or gap). */
  private levelN = 0;
  /** The tail of |z|: how surprising a residual of this size is for this channel. */
  readonly tail: TailModel;
  /** Smallest positive step seen: the signal's resolution (a scale floor of its own). */
  quantum = Infinity;
  private steps = 0;
  /** The resolution as a scale floor: quantum once the signal has shown it 10 times, else 0. */
  private res = 0;
  private lastT = NaN;
  private lastX = NaN;
  /** Typical sampling interval (s): EW of the observed intervals. */
  dt = NaN;
  private runS = 0;
  private runLevel = NaN;
  private runN = 0;
  private runPeak = 0;
  /** Peak evidence of the change being settled, and until when (s) it is settling. */
  private settlePeak = 0;
  private settleUntil = -Infinity;
  private prev: Remembered | undefined;
  /** Short mean of clipped z (the sustained-deviation test), its scale and tail. */
  private m = 0;
  private mScale = 0;
  private mN = 0;
  /**
   * The last sample's residual z, the scale sc it was measured in, and m in
   * its scale units (zm). The steps of update() hand numbers to each other in
   * these fields, not as arguments or results: V8 does not always inline
   * them, and then every number crossing a call is a heap allocation (an
   * object per sample: 150,000 a tick at 10,000 sites).
   */
  private z = 0;
  private sc = 0;
  private zm = 0;
  /** This sample's EW weights (a memo shared with every channel of this config: weightsFor). */
  private readonly w: Float64Array;
  readonly meanTail: TailModel;

  constructor(
    private readonly cfg: SurpriseConfig,
    private readonly floor: ScaleFloor = { abs: 0, rel: 0 },
  ) {
    this.w = weightsFor(cfg);
    this.tail = new TailModel(cfg, cfg.tailU);
    this.meanTail = new TailModel(cfg, cfg.tailU);
  }

  /** Tests per sample this channel makes (the score head's Bonferroni count). */
  get tests(): number {
    return this.cfg.meanTauS > 0 ? 2 : 1;
  }

  effectiveScale(level: number, scale: number): number {
    return Math.max(scale, this.floor.abs, this.floor.rel * Math.abs(level), this.res, 1e-12);
  }

  /** Samples per day at the channel's usual interval (1 before it is known). */
  samplesPerDay(): number {
    return Number.isFinite(this.dt) && this.dt > 0 ? 86400 / this.dt : 1;
  }

  /** This sample's EW weights into the memo, for its step and the usual interval (see weightsFor). */
  private setWeights(step: number): void {
    const c = this.cfg;
    const w = this.w;
    const d = this.dt > 0 ? this.dt : step > 0 ? step : 1; // (not `||`: that boxes the number it picks)
    const s = -Math.max(step, 1e-9);
    w[W_STEP] = step;
    w[W_DT] = this.dt;
    w[W_LEVEL] = 1 - Math.exp(s / Math.max(c.levelTauS, c.levelMinSamples * d));
    w[W_SCALE] = 1 - Math.exp(s / Math.max(c.scaleTauS, c.statMinSamples * d));
    w[W_TAIL] = 1 - Math.exp(s / Math.max(c.tailTauS, c.statMinSamples * d));
    w[W_MEAN] = 1 - Math.exp(s / Math.max(c.meanTauS, c.meanMinSamples * d));
  }

  /**
   * @param t time of the sample (s), non-decreasing per channel
   * @param values the entity's sample; this channel's value is values[i] (NaN =
   *   missing: no evidence, nothing learned). An index, not the number: a
   *   number handed to a call V8 does not inline is a heap allocation.
   * @param i this channel's index in values
   * @param rejectEvidence evidence from which a sample is not learned and counts
   *   towards confirming a new level (ln(R / rejectPerDay) for this entity)
   */
  update(t: number, values: ArrayLike<number>, i: number, rejectEvidence: number): number {
    const x = values[i]!;
    this.sampleEvidence = 0;
    if (!Number.isFinite(x) || !Number.isFinite(t)) return 0;
    if (!Number.isFinite(this.level)) return this.start(t, x);
    const dt = t - this.lastT;
    if (dt > 0) this.dt = Number.isFinite(this.dt) ? this.dt + 0.05 * (Math.min(dt, 10 * this.dt) - this.dt) : dt;
    if (dt > Math.max(this.cfg.gapMinS, this.cfg.gapFactor * this.dt)) {
      // a gap: whatever happened meanwhile is unknown; re-anchor, keep scale and tail
      // (the first samples after it are averaged plainly, as at the start: one
      // noisy sample is not a level)
      this.level = x;
      this.levelN = 1;
      this.noteStep(x);
      this.lastT = t;
      this.runS = 0;
      this.m = 0;
      return 0;
    }
    this.lastT = t;
    // effectiveScale(this.level, this.scale) written out: a number returned by a
    // call V8 does not inline is a heap allocation, and this was one
    const sc = Math.max(this.scale, this.floor.abs, this.floor.rel * Math.abs(this.level), this.res, 1e-12);
    const z = (x - this.level) / sc;
    this.sc = sc;
    this.z = z;
    const warm = this.n >= this.cfg.warmupSamples;
    const evZ = warm ? this.tail.evidence(Math.abs(z)) : 0;
    this.sampleEvidence = evZ;
    this.noteStep(x);
    if (evZ > 0 && this.prev && Math.abs(x - this.prev.level) <= this.cfg.tailU * this.effectiveScale(this.prev.level, this.prev.scale)) {
      // back to the normal from before the last adopted change: restore it silently
      this.level = this.prev.level;
      this.scale = this.prev.scale;
      this.prev = undefined;
      this.runS = 0;
      this.m = 0;
      // and the change is over: what comes next is a new change, not it still settling
      // (a site's CRC burst 3 minutes after a BER creep ended was silenced as the creep's)
      this.settleUntil = -Infinity;
      this.settlePeak = 0;
      return 0;
    }
    const step = Math.max(dt, 0);
    const w = this.w;
    if (step !== w[W_STEP] || this.dt !== w[W_DT]) this.setWeights(step);
    const ev = Math.max(evZ, this.meanEvidence(warm));
    // The tail models learn from every sample (bounded influence): how often this
    // channel surprises is exactly what they must know, or a channel whose normal has
    // heavy tails would alarm forever. The level and scales skip surprising samples,
    // so a fault does not become the prediction. (The far tail only once warm: a
    // scale still settling makes big z of ordinary samples.)
    this.tail.learn(Math.abs(z), w[W_TAIL]!, rejectEvidence, warm);
    if (this.mScale > 0) this.meanTail.learn(Math.abs(this.zm), w[W_TAIL]!, rejectEvidence, warm);
    if (warm && ev >= rejectEvidence) return this.surprising(t, x, step, ev);
    this.runS = 0;
    this.learn();
    this.learnMean();
    return ev;
  }

  /**
   * A sample at or beyond the reject level: part of a run, which holds its
   * peak evidence until it ends (adopted or over), so one change is one
   * episode, not a flicker of noise around the threshold; and a run no
   * bigger than the change being settled is that change still moving.
   */
  private surprising(t: number, x: number, dt: number, ev: number): number {
    if (this.runS === 0) this.runPeak = 0;
    this.runPeak = Math.max(this.runPeak, ev);
    const peak = this.runPeak;
    const settling = t <= this.settleUntil && peak <= this.settlePeak;
    if (this.extendRun(x, dt)) this.settle(t, settling ? this.settlePeak : peak);
    if (!settling) return peak;
    this.sampleEvidence = 0;
    return 0;
  }

  /**
   * The sustained-deviation test: m, a short EW mean of z clipped at +-clip
   * (one spike moves it little: spikes are the per-sample test's), against
   * its own learned scale, floored at what white noise of unit scale gives
   * (so m is never more surprising than it would be for independent samples).
   * Takes this.z; returns its evidence; m in scale units is left in this.zm.
   */
  private meanEvidence(warm: boolean): number {
    const c = this.cfg;
    const z = this.z;
    if (!(c.meanTauS > 0)) return 0; // zm stays 0
    const w = this.w[W_MEAN]!;
    this.m += w * (Math.max(-c.clip, Math.min(c.clip, z)) - this.m);
    const floor = Math.sqrt(w / (2 - w));
    const zm = this.m / Math.max(this.mScale, floor);
    // m's scale is a statistic of a slow, autocorrelated quantity: no evidence
    // until it has statMinSamples learned samples behind it
    const ready = warm && this.mN >= c.statMinSamples;
    this.zm = zm;
    return ready ? this.meanTail.evidence(Math.abs(zm)) : 0;
  }

  private learnMean(): void {
    const c = this.cfg;
    if (!(c.meanTauS > 0)) return;
    this.mN++;
    const a = Math.abs(this.m);
    const ws = Math.max(this.w[W_SCALE]!, 1 / Math.max(1, this.mN - 1)); // (as in learn())
    const ac = this.mScale > 0 ? Math.min(a, c.clip * this.mScale) : a;
    this.mScale = this.mN === 1 ? 1.2533 * ac : this.mScale + ws * (1.2533 * ac - this.mScale);
  }

  private start(t: number, x: number): number {
    this.level = x;
    this.lastT = t;
    this.lastX = x;
    this.n = 1;
    this.levelN = 1;
    return 0;
  }

  private noteStep(x: number): void {
    const d = Math.abs(x - this.lastX);
    if (d > 0) {
      this.steps++;
      if (d < this.quantum) this.quantum = d;
      // the resolution counts once the signal has shown it a few times (a 0/1 or
      // all-zero channel's first step is news, not its resolution)
      if (this.steps >= 10) this.res = this.quantum;
    }
    this.lastX = x;
  }

  /** A change was adopted with this peak: runs no bigger are its settling for a while. */
  private settle(t: number, peak: number): void {
    this.settlePeak = peak;
    this.settleUntil = t + Math.max(this.cfg.settleS, this.cfg.settleMinSamples * (this.dt || 0));
  }

  /**
   * A surprising sample: not learned; a run of them that lasts becomes the
   * new level. True when it did.
   */
  private extendRun(x: number, dt: number): boolean {
    if (this.runS === 0) {
      this.runLevel = x;
      this.runN = 1;
    } else {
      this.runN++;
      this.runLevel += (x - this.runLevel) / this.runN;
    }
    this.runS += Math.max(dt, 1e-9);
    const need = Math.max(this.cfg.confirmS, this.cfg.confirmMinSamples * (this.dt || dt));
    if (this.runS >= need && this.runN >= this.cfg.confirmMinSamples) {
      this.prev ??= { level: this.level, scale: this.scale };
      this.tail.markChange();
      this.meanTail.markChange();
      this.level = this.runLevel;
      this.runS = 0;
      this.m = 0; // residuals so far were against the old level
      return true;
    }
    return false;
  }

  /** The level and scale learn the sample just noted (lastX, judged against sc). */
  private learn(): void {
    const c = this.cfg;
    const w = this.w;
    const x = this.lastX;
    const sc = this.sc;
    this.n++;
    this.levelN++;
    const r = x - this.level;
    // EW in seconds, but a plain average over the first samples (a fast warm-up)
    this.level += Math.max(w[W_LEVEL]!, 1 / Math.max(1, this.levelN - 1)) * r;
    // no clipping while warming up: the scale has nothing to clip against yet
    const rc = this.n <= c.warmupSamples ? Math.abs(r) : Math.min(Math.abs(r), c.clip * sc);
    const ws = Math.max(w[W_SCALE]!, 1 / Math.max(1, this.n - 1));
    this.scale = this.n === 2 ? 1.2533 * rc : this.scale + ws * (1.2533 * rc - this.scale);
  }
}
