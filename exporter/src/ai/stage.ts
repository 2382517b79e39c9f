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
// its own, from the same evidence. Forecast: the served model's p50, with a
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
  return { model, up: false, version: '', sha256: '', path, lastLoadTimestampSeconds: 0, lastInferenceTimestampSeconds: 0, lastReloadSuccessful: false };
}

/** Per-site state and the batch inputs of this tick. */
function featurize(tick: Tick, sites: Map<string, SiteAi>, vals: Float64Array) {
  const list = tick.sites;
  const n = list.length;
  const C = N_SITE_COLUMNS;
  const E = new Float32Array(n * C);
  const lnR = new Float32Array(n);
  const FX = new Float32Array(n * N_FORECAST_FEATURES);
  const lnLevel = new Float32Array(n);
  const fIdx: number[] = [];
  const tracks: ForecastTrack[] = [];
  list.forEach((s: SiteState, i) => {
    let a = sites.get(s.sample.name);
    if (!a) sites.set(s.sample.name, (a = { anomaly: EntitySurprise.site(), forecast: new ForecastTrack(), lastSeq: 0 }));
    a.lastSeq = tick.seq;
    lnR[i] = a.anomaly.push(s.sample.simTimeS, siteValues(s.sample, s.rates, vals), E, i * C);
    const l0 = a.forecast.push(s.sample.simTimeS, s.sample.throughputBps, FX, fIdx.length * N_FORECAST_FEATURES);
    if (Number.isFinite(l0)) {
      lnLevel[fIdx.length] = l0;
      fIdx.push(i);
      tracks.push(a.forecast);
    }
  });
  if (sites.size > 2 * n + 16) for (const [k, v] of sites) if (v.lastSeq !== tick.seq) sites.delete(k);
  return { E, lnR, FX, lnLevel, fIdx, tracks };
}

/** Top channels of the hottest sites: the score each channel reaches on its own. */
function contributions(list: SiteState[], scores: Float32Array, E: Float32Array, lnR: Float32Array, am: AnomalyModel, lim: { minScore: number; maxSites: number; topK: number }): void {
  const C = N_SITE_COLUMNS;
  const hot = list
    .map((_, i) => i)
    .filter((i) => scores[i]! >= lim.minScore)
    .sort((p, q) => scores[q]! - scores[p]!)
    .slice(0, lim.maxSites);
  for (const i of hot) {
    const base = headScore(am.head, 0, lnR[i]!);
    list[i]!.inference.contributions = SITE_COLUMNS.map((feature, j) => ({ feature, value: headScore(am.head, E[i * C + j]!, lnR[i]!) - base }))
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
    const { E, lnR, FX, lnLevel, fIdx, tracks } = featurize(tick, sites, vals);
    const am = models.anomaly;
    if (am) {
      const scores = await timed('anomaly', () => am.score(E, C, lnR));
      if (scores) {
        list.forEach((s, i) => (s.inference.anomalyScore = scores[i]!));
        contributions(list, scores, E, lnR, am, { minScore: minContrib, maxSites: maxContrib, topK });
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
