// `optifiber train`: build the two served models and their model card.
// Deterministic: same data, same bytes.
//
// anomaly.onnx  the score head (anomaly-head.ts). Nothing in it is fitted:
//               every entity learns its own normal online when served
//               (surprise.ts); the file carries the head's two design
//               constants and the version.
// forecast.onnx ridge regression of the 15-minute log change, fitted on
//               REAL traffic: the head (first two thirds) of the UK backbone
//               series in ../shared/datasets, the same split the evaluation
//               reports the last third of. The choice between the ridge fitted
//               on real traffic, the ridge fitted on the simulator and
//               persistence is made on the dev part only (fit on its first
//               75 %, compared on the rest), then the winner is refitted on the
//               whole dev part. Its own p10/p90 are only the start-up band: the
//               exporter replaces them per site with conformal quantiles of the
//               forecasts it served (forecast-track.ts).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_HEAD, HEAD_VERSION, headToOnnx } from '@optifiber/exporter/ai/anomaly-head';
import { DEFAULT_SURPRISE, SITE_SURPRISE } from '@optifiber/exporter/ai/surprise';
import { CHANNELS, DAY_BUCKETS, FORECAST_BUCKET_S, FORECAST_FEATURES, ForecastHistory, N_FORECAST_FEATURES, SITE_FLOORS } from '@optifiber/exporter/ai/features';
import { forecasterToOnnx, type LinearForecaster } from '@optifiber/exporter/ai/forecast';
import { errors, trainForecaster, type ForecastDataset } from './fit.js';
import { parseInput } from './csv.js';
import { repoRoot, runSim, type SimRunParams } from '@optifiber/exporter/sim/trace';
import { defaultModelDir } from '@optifiber/exporter/ai/model-dir';

export { defaultModelDir };

export const MODEL_VERSION = '2.4.0';

/** The real-traffic series and its fixed split (the evaluation reports the rows after it). */
export const UK_TRAFFIC = 'isp-traffic/uk-backbone-5m.csv';
export const TEST_FRACTION_START = 0.6667;

export interface TrainConfig {
  /** ../shared/datasets (the training data of the forecast). */
  datasets: string;
  /** Simulator traffic the real-traffic model is compared with. */
  sim: { seed: number; nsites: number; days: number; timeScale: number };
  lambda: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  datasets: join(repoRoot(), '..', 'shared', 'datasets'),
  sim: { seed: 4250, nsites: 8, days: 14, timeScale: 60 },
  lambda: 1e-3,
};

/** Forecast rows of one (time s, value) series, through the served ForecastHistory. */
export function datasetFromSeries(rows: [number, number][], horizonBuckets: number, bucketS = FORECAST_BUCKET_S): ForecastDataset & { idx: number[] } {
  const h = new ForecastHistory(bucketS, horizonBuckets);
  const X: number[][] = [];
  const y: number[] = [];
  const base: number[] = [];
  const idx: number[] = [];
  const x = new Array<number>(N_FORECAST_FEATURES).fill(0);
  for (let i = 0; i + horizonBuckets < rows.length; i++) {
    h.push(rows[i]![0], rows[i]![1]);
    const l0 = h.features(x);
    if (!Number.isFinite(l0)) continue;
    const target = rows[i + horizonBuckets]![1];
    if (!(target > 0)) continue;
    X.push([...x]);
    y.push(Math.log(target) - l0);
    base.push(l0);
    idx.push(i);
  }
  return { X, y, base, idx };
}

/** Per-site 5-minute bucket means of simulator throughput, as forecast rows. */
function simDataset(p: SimRunParams): ForecastDataset {
  const series: [number, number][][] = Array.from({ length: p.nsites }, () => []);
  const acc = Array.from({ length: p.nsites }, () => ({ b: -1, s: 0, k: 0 }));
  runSim(p, (_t, pts) => {
    pts.forEach((pt, i) => {
      const a = acc[i]!;
      const b = Math.floor(pt.sample.simTimeS / FORECAST_BUCKET_S);
      if (a.b >= 0 && b !== a.b) {
        series[i]!.push([a.b * FORECAST_BUCKET_S, a.s / a.k]);
        a.s = 0;
        a.k = 0;
      }
      a.b = b;
      a.s += pt.sample.throughputBps;
      a.k++;
    });
  });
  const ds = series.map((s) => datasetFromSeries(s, 3));
  return { X: ds.flatMap((d) => d.X), y: ds.flatMap((d) => d.y), base: ds.flatMap((d) => d.base) };
}

const slice = (d: ForecastDataset, a: number, b: number): ForecastDataset => ({ X: d.X.slice(a, b), y: d.y.slice(a, b), base: d.base.slice(a, b) });

/** MAPE of a linear forecaster (p50) on rows. */
function mapeOf(m: LinearForecaster, d: ForecastDataset): number {
  const actual = d.y.map((v, i) => Math.exp(d.base[i]! + v));
  const pred = d.X.map((x, i) => Math.exp(d.base[i]! + x.reduce((s, v, j) => s + v * m.w[j]!, 0) + m.b[1]));
  return errors(actual, pred).mape;
}

export interface TrainResult {
  anomalyOnnx: Uint8Array;
  forecastOnnx: Uint8Array;
  forecaster: LinearForecaster;
  metrics: Record<string, number | string>;
  card: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/** The real-traffic dev part: every row before the evaluation's test third. */
export function ukDevRows(datasets: string): [number, number][] {
  const path = join(datasets, UK_TRAFFIC);
  if (!existsSync(path)) throw new Error(`${path} is absent: the forecast is trained on real traffic (../shared/datasets beside the checkout)`);
  const inp = parseInput(readFileSync(path, 'utf8'));
  if (inp.kind !== 'series') throw new Error(`${path}: expected a time,value series`);
  const rows = inp.rows.map((r) => [r.t, r.value] as [number, number]);
  return rows.slice(0, Math.floor(rows.length * TEST_FRACTION_START));
}

export function train(cfg: TrainConfig = DEFAULT_TRAIN_CONFIG): TrainResult {
  const dev = datasetFromSeries(ukDevRows(cfg.datasets), 3);
  const k = Math.floor(dev.y.length * 0.75);
  const fit = slice(dev, 0, k);
  const val = slice(dev, k, dev.y.length);
  const s = cfg.sim;
  const simD = simDataset({ seed: s.seed, nsites: s.nsites, ticks: Math.round((s.days * 86400) / s.timeScale), timeScale: s.timeScale, faultRate: 0 });
  const real = trainForecaster(fit, val, cfg.lambda);
  const simM = trainForecaster(slice(simD, 0, Math.floor(simD.y.length * 0.8)), slice(simD, Math.floor(simD.y.length * 0.8), simD.y.length), cfg.lambda);
  const candidates = { real_ridge: mapeOf(real.model, val), sim_ridge: mapeOf(simM.model, val), persistence: real.val.persistence.mape };
  const best = (Object.entries(candidates) as [keyof typeof candidates, number][]).sort((a, b) => a[1] - b[1])[0]![0];
  // refit the winner's kind on the whole dev part; the band comes from the dev validation residuals
  const chosen = best === 'sim_ridge' ? simM : best === 'real_ridge' ? trainForecaster(dev, val, cfg.lambda) : { model: { ...real.model, w: real.model.w.map(() => 0), kind: 'persistence' as const } };
  const forecaster = chosen.model;
  const forecastMeta: Record<string, string> = {
    model: 'forecast',
    version: MODEL_VERSION,
    kind: forecaster.kind,
    trained_on: best === 'sim_ridge' ? 'simulator' : `${UK_TRAFFIC} rows before ${TEST_FRACTION_START}`,
    features: JSON.stringify(FORECAST_FEATURES),
    bucket_seconds: String(FORECAST_BUCKET_S),
    horizon_seconds: String(3 * FORECAST_BUCKET_S),
    day_buckets: String(DAY_BUCKETS),
  };
  const anomalyMeta: Record<string, string> = {
    model: 'anomaly',
    version: MODEL_VERSION,
    head_version: HEAD_VERSION,
    channels_site: JSON.stringify(CHANNELS),
    floors_site: JSON.stringify(SITE_FLOORS),
    surprise: JSON.stringify(DEFAULT_SURPRISE),
    surprise_site: JSON.stringify(SITE_SURPRISE),
  };
  const anomalyOnnx = headToOnnx(DEFAULT_HEAD, anomalyMeta);
  const forecastOnnx = forecasterToOnnx(forecaster, forecastMeta);
  const metrics = {
    forecast_dev_fit_rows: fit.y.length,
    forecast_dev_val_rows: val.y.length,
    forecast_dev_val_mape_real_ridge: r4(candidates.real_ridge),
    forecast_dev_val_mape_sim_ridge: r4(candidates.sim_ridge),
    forecast_dev_val_mape_persistence: r4(candidates.persistence),
    forecast_chosen: best,
  };
  return { anomalyOnnx, forecastOnnx, forecaster, metrics, card: modelCard(metrics, sha256(anomalyOnnx), sha256(forecastOnnx), forecaster) };
}

function modelCard(m: Record<string, number | string>, shaA: string, shaF: string, fm: LinearForecaster): string {
  return `# Model card (generated by \`optifiber train\`; do not edit)

| file | sha256 | version |
|---|---|---|
| anomaly.onnx | \`${shaA}\` | ${MODEL_VERSION} |
| forecast.onnx | \`${shaF}\` | ${MODEL_VERSION} |

## anomaly.onnx: the score head
\`score = sigmoid(k * (max_c E_c - ln(samples per day x channels) + ln e80) + ln 4)\`, k = ${DEFAULT_HEAD.k},
e80 = ${DEFAULT_HEAD.e80} (score 0.8 = a surprise expected ${DEFAULT_HEAD.e80} times per entity-day under the entity's
own normal behaviour). E_c = -ln p of channel c, learned online per entity by
exporter/src/ai/surprise.ts (time constants in seconds; see docs/ai.md). Nothing in the file is
fitted to data; ai.onnx opset 13 (ReduceMax, Sub, Add, Mul, Sigmoid).

## forecast.onnx: 15-minute throughput
${fm.kind} on the log change over 15 minutes; features ${FORECAST_FEATURES.join(', ')} of 5-minute
buckets. Chosen on the dev part of the UK backbone series (rows before ${TEST_FRACTION_START} of the
file; fit on its first 75 %, compared on the rest; the evaluation's test third never used):

| candidate | dev validation MAPE % |
|---|---|
| ridge fitted on real traffic | ${m['forecast_dev_val_mape_real_ridge']} |
| ridge fitted on the simulator | ${m['forecast_dev_val_mape_sim_ridge']} |
| persistence | ${m['forecast_dev_val_mape_persistence']} |

Chosen: **${m['forecast_chosen']}** (${m['forecast_dev_fit_rows']} fit rows, ${m['forecast_dev_val_rows']} validation rows), refitted on the
whole dev part. Served p10/p90: per site, conformal quantiles of the log errors of the forecasts that
site was served (the model's own band until 48 have matured).

## Limits
- The forecast has seen one real network's traffic (an academic backbone, 2004-05); it uses a day
  of 5-minute buckets when available and only the short lags before that.
- The anomaly score is evidence against each entity's own recent normal: a fault that develops
  slower than the level's time constant (10 minutes) is absorbed, and a persistent bad state
  scores high only at its onset (the threshold alerts cover it after that).
`;
}

function parseArgs(argv: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) o[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) o[a.slice(2)] = argv[++i]!;
      else o[a.slice(2)] = 'true';
    }
  }
  return o;
}

/** `optifiber train [--out DIR] [--datasets DIR]`. Returns the exit code. */
export async function runTrain(argv: string[], log: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<number> {
  const args = parseArgs(argv);
  if (args['help']) {
    log('usage: optifiber train [--out DIR] [--datasets DIR]   (needs ../shared/datasets/' + UK_TRAFFIC + ')');
    return 0;
  }
  const cfg: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, datasets: resolve(args['datasets'] ?? DEFAULT_TRAIN_CONFIG.datasets) };
  const out = resolve(args['out'] ?? defaultModelDir());
  let r: TrainResult;
  try {
    r = train(cfg);
  } catch (e) {
    log(`optifiber train: ${(e as Error).message}`);
    return 1;
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'anomaly.onnx'), r.anomalyOnnx);
  writeFileSync(join(out, 'forecast.onnx'), r.forecastOnnx);
  writeFileSync(join(out, 'MODEL_CARD.md'), r.card);
  log(`optifiber train: wrote ${out}/anomaly.onnx (${r.anomalyOnnx.length} B, sha256 ${sha256(r.anomalyOnnx)})`);
  log(`optifiber train: wrote ${out}/forecast.onnx (${r.forecastOnnx.length} B, sha256 ${sha256(r.forecastOnnx)}, ${r.forecaster.kind})`);
  log(`optifiber train: ${JSON.stringify(r.metrics)}`);
  return 0;
}
