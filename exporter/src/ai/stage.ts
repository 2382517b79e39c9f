// The AI tick stage: anomaly scores, top contributions and 15-minute
// forecasts for every site, one batched onnxruntime call per model per
// tick. Runs in the sampler's tick (never on a scrape). Without models, or
// with a corrupt one, the stage leaves SiteInference empty for that model,
// reports it down and logs one clear line; raw metrics are unaffected. A
// reload that fails keeps the model that was serving (last good) and says so
// in status().lastReloadSuccessful.
//
// Anomaly: each site's EntitySurprise learns its channels online (time
// constants in seconds of the site's clock) and hands the score head its
// per-channel evidence; contributions are the score each channel reaches on
// its own, from the same evidence. Samples the writer published between two
// ticks (SiteState.earlier) are learned and scored too, in the same batch:
// a site's score is the highest since the last tick, so a replay at speed or
// a stalled tick neither teaches the model a thinned stream nor hides a spike. Forecast: the served model's p50, with a
// per-site conformal band from the errors of the forecasts it was served.
//
// Wiring: const ai = await createAiStage({ modelDir, log });
//   sampler stages: [ai.stage]; SIGHUP: ai.reload(); metrics: ai.status(),
//   and pass observeDuration to feed optifiber_model_inference_duration_seconds.
import type { SiteState, Tick, TickStage } from '../sampler/types.js';
import type { EventLogger as Logger } from '../log/logger.js';
import { EntitySurprise, N_FORECAST_FEATURES, N_SITE_CHANNELS, N_SITE_COLUMNS, SITE_COLUMNS, siteValues } from './features.js';
import { headScore } from './anomaly-head.js';
import { ForecastTrack } from './forecast-track.js';
import { AnomalyModel, ForecastModel, defaultModelPaths, type ModelName, type ModelStatus } from './runtime.js';
import { defaultModelDir } from './model-dir.js';

export interface AiStageOptions {
  modelDir?: string;
  log?: Logger;
  /** Called after every batched run, for the inference-duration histogram. */
  observeDuration?: (model: ModelName, seconds: number) => void;
  /** Contributions are computed for at most this many sites per tick (highest scores first). */
  maxContributionSites?: number;
  /** Score from which contributions are computed. */
  contributionMinScore?: number;
  /** Top channels reported per site. */
  topFeatures?: number;
  /**
   * Rows (samples) one tick may learn and score, for sites * (1 + earlier
   * samples). A writer faster than the sampler hands each site several
   * samples per tick (the recent ring); past this budget a site keeps its
   * newest ones and the others are skipped and counted
   * (optifiber_model_samples_skipped_total). Default 4 per site + 256: the
   * few sites of a fast replay keep all 16 the ring holds, 10,000 sites at
   * most 4 each, 4x a tick's usual inference time.
   */
  maxRowsPerTick?: (sites: number) => number;
  now?: () => number;
}

export interface AiStage {
  stage: TickStage;
  /** Reload both models from disk (SIGHUP). Never throws; a failed load keeps the last good model. */
  reload(): Promise<void>;
  status(): ModelStatus[];
}

interface SiteAi {
  anomaly: EntitySurprise;
  forecast: ForecastTrack;
  lastSeq: number;
}

type Models = { anomaly?: AnomalyModel; forecast?: ForecastModel };

function newStatus(model: ModelName, path: string): ModelStatus {
  return { model, up: false, version: '', sha256: '', path, lastLoadTimestampSeconds: 0, lastInferenceTimestampSeconds: 0, lastReloadSuccessful: false, samplesSkippedTotal: 0 };
}

const FX_SCRATCH = new Float32Array(N_FORECAST_FEATURES); // features of samples not forecast from

/**
 * Per-site state and the batch inputs of this tick: one anomaly row per
 * sample (site i owns rows first[i] .. first[i + 1] - 1, its page's sample
 * last), one forecast row per site that has a level.
 */
function featurize(tick: Tick, sites: Map<string, SiteAi>, vals: Float64Array, maxRows: number) {
  const list = tick.sites;
  const n = list.length;
  const C = N_SITE_COLUMNS;
  const cap = Math.max(0, Math.floor((maxRows - n) / Math.max(1, n))); // earlier samples per site
  let rows = n;
  let skipped = 0;
  for (const s of list) if (s.earlier) rows += Math.min(cap, s.earlier.length);
  const E = new Float32Array(rows * C);
  const lnR = new Float32Array(rows);
  const first = new Int32Array(n + 1);
  const FX = new Float32Array(n * N_FORECAST_FEATURES);
  const lnLevel = new Float32Array(n);
  const fIdx: number[] = [];
  const tracks: ForecastTrack[] = [];
  let r = 0;
  list.forEach((s: SiteState, i) => {
    let a = sites.get(s.sample.name);
    if (!a) sites.set(s.sample.name, (a = { anomaly: EntitySurprise.site(), forecast: new ForecastTrack(), lastSeq: 0 }));
    a.lastSeq = tick.seq;
    first[i] = r;
    const earlier = s.earlier;
    if (earlier) {
      const from = Math.max(0, earlier.length - cap); // over the budget: the newest
      skipped += from;
      for (let j = from; j < earlier.length; j++) {
        const e = earlier[j]!;
        lnR[r] = a.anomaly.push(e.sample.simTimeS, siteValues(e.sample, e.rates, vals), E, r * C);
        r++;
        a.forecast.push(e.sample.simTimeS, e.sample.throughputBps, FX_SCRATCH, 0);
      }
    }
    lnR[r] = a.anomaly.push(s.sample.simTimeS, siteValues(s.sample, s.rates, vals), E, r * C);
    r++;
    const l0 = a.forecast.push(s.sample.simTimeS, s.sample.throughputBps, FX, fIdx.length * N_FORECAST_FEATURES);
    if (Number.isFinite(l0)) {
      lnLevel[fIdx.length] = l0;
      fIdx.push(i);
      tracks.push(a.forecast);
    }
  });
  first[n] = r;
  if (sites.size > 2 * n + 16) for (const [k, v] of sites) if (v.lastSeq !== tick.seq) sites.delete(k);
  return { E, lnR, first, FX, lnLevel, fIdx, tracks, skipped };
}

/** Each site's highest-scoring row of this tick (on a tie, the latest: its page's sample). Exported for its test. */
export function bestRows(scores: Float32Array, first: Int32Array, n: number): Int32Array {
  const best = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const last = first[i + 1]! - 1;
    let b = last;
    for (let r = first[i]!; r < last; r++) if (scores[r]! > scores[b]!) b = r;
    best[i] = b;
  }
  return best;
}

/** Top channels of the hottest sites: the score each channel reaches on its own, in the site's scored row. */
function contributions(list: SiteState[], scores: Float32Array, best: Int32Array, E: Float32Array, lnR: Float32Array, am: AnomalyModel, lim: { minScore: number; maxSites: number; topK: number }): void {
  const C = N_SITE_COLUMNS;
  const hot = list
    .map((_, i) => i)
    .filter((i) => scores[best[i]!]! >= lim.minScore)
    .sort((p, q) => scores[best[q]!]! - scores[best[p]!]!)
    .slice(0, lim.maxSites);
  for (const i of hot) {
    const r = best[i]!;
    const base = headScore(am.head, 0, lnR[r]!);
    list[i]!.inference.contributions = SITE_COLUMNS.map((feature, j) => ({ feature, value: headScore(am.head, E[r * C + j]!, lnR[r]!) - base }))
      .filter((x) => x.value > 1e-4)
      .sort((p, q) => q.value - p.value)
      .slice(0, lim.topK);
  }
}

/** The forecast rows of this tick's batch onto their sites: each track's calibrated band, and utilization of capacity. */
function applyForecast(list: SiteState[], fIdx: number[], tracks: ForecastTrack[], lnLevel: Float32Array, out: Float32Array, horizonSeconds: number): void {
  fIdx.forEach((i, r) => {
    const s = list[i]!;
    const cap = s.sample.capacityBps;
    const band = tracks[r]!.serve(lnLevel[r]!, out[r * 3]!, out[r * 3 + 1]!, out[r * 3 + 2]!);
    const u = (v: number): number => (cap > 0 ? Math.min(1, Math.max(0, v / cap)) : 0);
    s.inference.forecast = {
      horizonSeconds,
      throughputBps: band,
      utilization: { p10: u(band.p10), p50: u(band.p50), p90: u(band.p90) },
    };
  });
}

export async function createAiStage(opts: AiStageOptions = {}): Promise<AiStage> {
  const dir = opts.modelDir ?? defaultModelDir();
  const paths = defaultModelPaths(dir);
  const log = opts.log;
  const now = opts.now ?? Date.now;
  const maxContrib = opts.maxContributionSites ?? 64;
  const minContrib = opts.contributionMinScore ?? 0.5;
  const topK = opts.topFeatures ?? 3;
  const maxRows = opts.maxRowsPerTick ?? ((n: number) => 4 * n + 256);
  const models: Models = {};
  const st: Record<ModelName, ModelStatus> = { anomaly: newStatus('anomaly', paths.anomaly), forecast: newStatus('forecast', paths.forecast) };
  const sites = new Map<string, SiteAi>();
  const runErrorLogged: Record<ModelName, boolean> = { anomaly: false, forecast: false };

  async function loadOne(name: ModelName): Promise<void> {
    try {
      const m = name === 'anomaly' ? await AnomalyModel.load(paths.anomaly) : await ForecastModel.load(paths.forecast);
      if (name === 'anomaly') models.anomaly = m as AnomalyModel;
      else models.forecast = m as ForecastModel;
      Object.assign(st[name], { up: true, version: m.metadata['version'] ?? '', sha256: m.sha256, lastLoadTimestampSeconds: now() / 1000, lastReloadSuccessful: true });
      delete st[name].error;
      runErrorLogged[name] = false;
      log?.info({ model: name, path: st[name].path, sha256: m.sha256, version: st[name].version }, `ai: ${name} model loaded`);
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0] ?? String(e);
      st[name].lastReloadSuccessful = false;
      st[name].error = msg;
      if (models[name]) {
        log?.error({ model: name, path: st[name].path, err: msg }, `ai: ${name} model reload failed (${msg}); still serving the last good model ${st[name].sha256.slice(0, 12)}`);
        return;
      }
      Object.assign(st[name], { up: false, version: '', sha256: '' });
      log?.error({ model: name, path: st[name].path, err: msg }, `ai: ${name} model unavailable (${msg}); raw metrics continue without ${name} outputs`);
    }
  }
  const load = async (): Promise<void> => {
    await loadOne('anomaly');
    await loadOne('forecast');
  };
  await load();

  const timed = async <T>(name: ModelName, fn: () => Promise<T>): Promise<T | undefined> => {
    const t0 = process.hrtime.bigint();
    try {
      const r = await fn();
      opts.observeDuration?.(name, Number(process.hrtime.bigint() - t0) / 1e9);
      st[name].lastInferenceTimestampSeconds = now() / 1000;
      return r;
    } catch (e) {
      if (!runErrorLogged[name]) log?.error({ model: name, err: (e as Error).message }, `ai: ${name} inference failed; outputs omitted until it succeeds`);
      runErrorLogged[name] = true;
      return undefined;
    }
  };

  const C = N_SITE_COLUMNS; // evidence columns: the site channels and the joint one
  const vals = new Float64Array(N_SITE_CHANNELS);

  const stage: TickStage = async (tick: Tick) => {
    const list = tick.sites;
    if (!list.length) return;
    const { E, lnR, first, FX, lnLevel, fIdx, tracks, skipped } = featurize(tick, sites, vals, maxRows(list.length));
    st.anomaly.samplesSkippedTotal += skipped;
    st.forecast.samplesSkippedTotal += skipped;
    const am = models.anomaly;
    if (am) {
      const scores = await timed('anomaly', () => am.score(E, C, lnR));
      if (scores) {
        const best = bestRows(scores, first, list.length);
        list.forEach((s, i) => (s.inference.anomalyScore = scores[best[i]!]!));
        contributions(list, scores, best, E, lnR, am, { minScore: minContrib, maxSites: maxContrib, topK });
      }
    }
    const fm = models.forecast;
    if (fm && fIdx.length) {
      const k = fIdx.length;
      const out = await timed('forecast', () => fm.predict(FX.subarray(0, k * N_FORECAST_FEATURES), lnLevel.subarray(0, k)));
      if (out) applyForecast(list, fIdx, tracks, lnLevel, out, fm.horizonSeconds);
    }
  };

  return {
    stage,
    reload: async () => {
      log?.info({ dir }, 'ai: reloading models');
      await load();
    },
    status: () => [{ ...st.anomaly }, { ...st.forecast }],
  };
}
