// The AI tick stage: anomaly scores, top contributions and 15-minute
// forecasts for every site, one batched onnxruntime call per model per
// tick. Runs in the sampler's tick (never on a scrape). Without models, or
// with a corrupt one, the stage leaves SiteInference empty for that model,
// reports it down and logs one clear line; raw metrics are unaffected.
//
// Wiring (H4a): const ai = await createAiStage({ modelDir, log });
//   sampler stages: [ai.stage]; SIGHUP: ai.reload(); metrics: ai.status(),
//   and pass observeDuration to feed optifiber_model_inference_duration_seconds.
import type { SiteState, Tick, TickStage } from '../sampler/types.js';
import type { Logger } from '../api/deps.js';
import {
  ANOMALY_FEATURES,
  AnomalyFeaturizer,
  ForecastHistory,
  N_ANOMALY_FEATURES,
  N_FORECAST_FEATURES,
  obsFromSite,
} from './features.js';
import { AnomalyModel, ForecastModel, defaultModelPaths, type ModelName, type ModelStatus } from './runtime.js';
import { defaultModelDir } from './train.js';

export interface AiStageOptions {
  modelDir?: string;
  log?: Logger;
  /** Called after every batched run, for the inference-duration histogram. */
  observeDuration?: (model: ModelName, seconds: number) => void;
  /** Contributions are computed for at most this many sites per tick (highest scores first). */
  maxContributionSites?: number;
  /** Score from which contributions are computed. */
  contributionMinScore?: number;
  /** Top features reported per site. */
  topFeatures?: number;
  now?: () => number;
}

export interface AiStage {
  stage: TickStage;
  /** Reload both models from disk (SIGHUP). Never throws. */
  reload(): Promise<void>;
  status(): ModelStatus[];
}

interface SiteAi {
  anomaly: AnomalyFeaturizer;
  forecast: ForecastHistory;
  lastSeq: number;
}

export async function createAiStage(opts: AiStageOptions = {}): Promise<AiStage> {
  const dir = opts.modelDir ?? defaultModelDir();
  const paths = defaultModelPaths(dir);
  const log = opts.log;
  const now = opts.now ?? Date.now;
  const maxContrib = opts.maxContributionSites ?? 64;
  const minContrib = opts.contributionMinScore ?? 0.5;
  const topK = opts.topFeatures ?? 3;
  let anomaly: AnomalyModel | undefined;
  let forecast: ForecastModel | undefined;
  const st: Record<ModelName, ModelStatus> = {
    anomaly: { model: 'anomaly', up: false, version: '', sha256: '', path: paths.anomaly, lastLoadTimestampSeconds: 0, lastInferenceTimestampSeconds: 0 },
    forecast: { model: 'forecast', up: false, version: '', sha256: '', path: paths.forecast, lastLoadTimestampSeconds: 0, lastInferenceTimestampSeconds: 0 },
  };
  const sites = new Map<string, SiteAi>();
  const runErrorLogged: Record<ModelName, boolean> = { anomaly: false, forecast: false };

  async function load(): Promise<void> {
    for (const name of ['anomaly', 'forecast'] as const) {
      try {
        const m = name === 'anomaly' ? await AnomalyModel.load(paths.anomaly) : await ForecastModel.load(paths.forecast);
        if (name === 'anomaly') anomaly = m as AnomalyModel;
        else forecast = m as ForecastModel;
        Object.assign(st[name], { up: true, version: m.metadata['version'] ?? '', sha256: m.sha256, lastLoadTimestampSeconds: now() / 1000 });
        delete st[name].error;
        st[name].lastReloadSuccessful = true;
        runErrorLogged[name] = false;
        log?.info({ model: name, path: st[name].path, sha256: m.sha256, version: st[name].version }, `ai: ${name} model loaded`);
      } catch (e) {
        const msg = (e as Error).message.split('\n')[0] ?? String(e);
        st[name].lastReloadSuccessful = false;
        st[name].error = msg;
        // A failed reload keeps the model that works (SIGHUP with a half-copied or corrupt file).
        if ((name === 'anomaly' ? anomaly : forecast) !== undefined) {
          log?.error({ model: name, path: st[name].path, err: msg, keptSha256: st[name].sha256 }, `ai: ${name} model reload failed (${msg}); keeping the last good model`);
          continue;
        }
        Object.assign(st[name], { up: false, version: '', sha256: '' });
        log?.error({ model: name, path: st[name].path, err: msg }, `ai: ${name} model unavailable (${msg}); raw metrics continue without ${name} outputs`);
      }
    }
  }
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

  const stage: TickStage = async (tick: Tick) => {
    const list = tick.sites;
    const n = list.length;
    if (!n) return;
    const F = N_ANOMALY_FEATURES;
    const X = new Float32Array(n * F);
    const FX = new Float32Array(n * N_FORECAST_FEATURES);
    const lnLevel = new Float32Array(n);
    const fIdx: number[] = [];
    const tmp = new Float32Array(N_FORECAST_FEATURES);
    list.forEach((s: SiteState, i) => {
      let a = sites.get(s.sample.name);
      if (!a) sites.set(s.sample.name, (a = { anomaly: new AnomalyFeaturizer(), forecast: new ForecastHistory(), lastSeq: 0 }));
      a.lastSeq = tick.seq;
      a.anomaly.push(obsFromSite(s.sample, s.rates), X, i * F);
      a.forecast.push(s.sample.simTimeS, s.sample.throughputBps);
      const l0 = a.forecast.features(tmp);
      if (Number.isFinite(l0)) {
        FX.set(tmp, fIdx.length * N_FORECAST_FEATURES);
        lnLevel[fIdx.length] = l0;
        fIdx.push(i);
      }
    });
    if (sites.size > 2 * n + 16) for (const [k, v] of sites) if (v.lastSeq !== tick.seq) sites.delete(k);

    const am = anomaly;
    if (am) {
      const scores = await timed('anomaly', () => am.score(X));
      if (scores) {
        list.forEach((s, i) => (s.inference.anomalyScore = scores[i]!));
        // contributions: the score each feature reaches on its own (the others at their
        // normal value 0) above the all-normal score; robust when several features saturate
        const hot = list
          .map((_, i) => i)
          .filter((i) => scores[i]! >= minContrib)
          .sort((p, q) => scores[q]! - scores[p]!)
          .slice(0, maxContrib);
        if (hot.length) {
          const O = new Float32Array((hot.length * F + 1) * F); // last row: all zeros (baseline)
          hot.forEach((i, h) => {
            for (let j = 0; j < F; j++) O[(h * F + j) * F + j] = X[i * F + j]!;
          });
          const occ = await timed('anomaly', () => am.score(O));
          if (occ) {
            hot.forEach((i, h) => {
              const base = occ[hot.length * F]!;
              const c = ANOMALY_FEATURES.map((feature, j) => ({ feature, value: occ[h * F + j]! - base }))
                .filter((x) => x.value > 1e-4)
                .sort((p, q) => q.value - p.value)
                .slice(0, topK);
              list[i]!.inference.contributions = c;
            });
          }
        }
      }
    }
    const fm = forecast;
    if (fm && fIdx.length) {
      const k = fIdx.length;
      const out = await timed('forecast', () => fm.predict(FX.subarray(0, k * N_FORECAST_FEATURES), lnLevel.subarray(0, k)));
      if (out) {
        fIdx.forEach((i, r) => {
          const s = list[i]!;
          const cap = s.sample.capacityBps;
          const p10 = out[r * 3]!;
          const p50 = out[r * 3 + 1]!;
          const p90 = out[r * 3 + 2]!;
          const u = (v: number): number => (cap > 0 ? Math.min(1, Math.max(0, v / cap)) : 0);
          s.inference.forecast = {
            horizonSeconds: fm.horizonSeconds,
            throughputBps: { p10, p50, p90 },
            utilization: { p10: u(p10), p50: u(p50), p90: u(p90) },
          };
        });
      }
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
