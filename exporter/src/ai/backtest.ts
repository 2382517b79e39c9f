// `optifiber backtest anomaly|forecast`: replay a history through the same
// feature pipeline and models the exporter serves, online (every output
// uses only rows up to its timestamp).
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  AnomalyFeaturizer,
  FORECAST_BUCKET_S,
  ForecastHistory,
  N_ANOMALY_FEATURES,
  N_FORECAST_FEATURES,
  obsFromOpticalRow,
  obsFromValue,
} from './features.js';
import { dot, trainForecaster, type ForecastDataset, type LinearForecaster } from './forecast.js';
import { parseInput, type ParsedInput, type SeriesRow } from './csv.js';
import { AnomalyModel } from './runtime.js';
import { defaultModelDir } from './train.js';

export interface AnomalyBacktest {
  timestamps: string[]; // as written in the input, one per distinct timestamp, input order
  t: number[];
  scores: number[];
  labels?: number[]; // max label over the timestamp's rows (evaluation only; never used to score)
}

/** Features for every input row (online), then one batched model run. */
export async function backtestAnomaly(input: ParsedInput, model: AnomalyModel): Promise<AnomalyBacktest> {
  const F = N_ANOMALY_FEATURES;
  const n = input.rows.length;
  const X = new Float32Array(n * F);
  const entity: string[] = new Array(n);
  const feats = new Map<string, AnomalyFeaturizer>();
  const get = (k: string): AnomalyFeaturizer => {
    let f = feats.get(k);
    if (!f) feats.set(k, (f = new AnomalyFeaturizer()));
    return f;
  };
  if (input.kind === 'optical') {
    input.rows.forEach((r, i) => {
      entity[i] = r.id;
      get(r.id).push(obsFromOpticalRow(r.ber, r.osnr, r.inPower, r.outPower), X, i * F);
    });
  } else {
    input.rows.forEach((r, i) => {
      entity[i] = '';
      get('').push(obsFromValue(r.value), X, i * F);
    });
  }
  const rowScore = await model.score(X);
  // timestamp score = max over entities of their latest score
  const latest = new Map<string, number>();
  const out: AnomalyBacktest = { timestamps: [], t: [], scores: [] };
  const labels: number[] = [];
  const seen = new Set<string>();
  let i = 0;
  while (i < n) {
    const ts = input.rows[i]!.raw;
    let lab = 0;
    let j = i;
    for (; j < n && input.rows[j]!.raw === ts; j++) {
      latest.set(entity[j]!, rowScore[j]!);
      if (input.kind === 'optical') lab = Math.max(lab, input.rows[j]!.label ?? 0);
    }
    if (!seen.has(ts)) {
      seen.add(ts);
      let s = 0;
      for (const v of latest.values()) s = Math.max(s, v);
      out.timestamps.push(ts);
      out.t.push(input.rows[i]!.t);
      out.scores.push(s);
      labels.push(lab);
    }
    i = j;
  }
  if (input.kind === 'optical') out.labels = labels;
  return out;
}

/** Horizon like 15m, 900s, 1h or plain seconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new Error(`bad duration "${s}"`);
  const mult = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * mult;
}

export interface ForecastBacktest {
  split: number; // index of the first forecast row
  rows: { raw: string; t: number; forecast: number; persistence: number; seasonal: number; target: number }[];
  model: LinearForecaster;
  bucketS: number;
  horizonBuckets: number;
  validation: { ridgeMape: number; persistenceMape: number };
}

function medianSpacing(rows: SeriesRow[]): number {
  const d: number[] = [];
  for (let i = 1; i < rows.length; i++) d.push(rows[i]!.t - rows[i - 1]!.t);
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)] ?? FORECAST_BUCKET_S;
}

/** Index of the first row at or after time t (rows sorted), from `from`. */
function rowAt(rows: SeriesRow[], t: number, from: number, tol: number): number {
  let j = from;
  while (j < rows.length && rows[j]!.t < t - tol) j++;
  return j < rows.length && Math.abs(rows[j]!.t - t) <= tol ? j : -1;
}

/**
 * Fit on the rows before the split (internal 80/20 split chooses ridge vs
 * persistence and sets the interval), then forecast online after it.
 */
export function backtestForecast(rows: SeriesRow[], horizonS: number, trainFraction: number): ForecastBacktest {
  const bucketS = Math.max(FORECAST_BUCKET_S, medianSpacing(rows));
  const hb = Math.max(1, Math.round(horizonS / bucketS));
  const split = Math.floor(rows.length * trainFraction);
  const tol = bucketS / 2;
  // training rows: features at row i, target at the row horizonS later, both before the split
  const ds: ForecastDataset = { X: [], y: [], base: [] };
  const h = new ForecastHistory(bucketS, hb);
  const x = new Array<number>(N_FORECAST_FEATURES).fill(0);
  let jt = 0;
  for (let i = 0; i < split; i++) {
    h.push(rows[i]!.t, rows[i]!.value);
    const l0 = h.features(x);
    if (!Number.isFinite(l0)) continue;
    const j = rowAt(rows, rows[i]!.t + horizonS, Math.max(jt, i), tol);
    if (j < 0 || j >= split) continue;
    jt = j;
    if (!(rows[j]!.value > 0)) continue;
    ds.X.push([...x]);
    ds.y.push(Math.log(rows[j]!.value) - l0);
    ds.base.push(l0);
  }
  const k = Math.floor(ds.y.length * 0.8);
  const fit = { X: ds.X.slice(0, k), y: ds.y.slice(0, k), base: ds.base.slice(0, k) };
  const val = { X: ds.X.slice(k), y: ds.y.slice(k), base: ds.base.slice(k) };
  const tr = trainForecaster(fit, val);
  const model = tr.model;
  // online forecasts after the split: the history continues from the training rows
  const out: ForecastBacktest['rows'] = [];
  let jd = 0;
  for (let i = split; i < rows.length; i++) {
    const r = rows[i]!;
    h.push(r.t, r.value);
    const l0 = h.features(x);
    const fc = Number.isFinite(l0) ? Math.exp(l0 + dot(model.w, x) + model.b[1]) : r.value;
    const jDay = rowAt(rows, r.t + horizonS - 86400, jd, tol);
    if (jDay >= 0) jd = jDay;
    const jTarget = rowAt(rows, r.t + horizonS, i, tol);
    out.push({
      raw: r.raw,
      t: r.t,
      forecast: fc,
      persistence: r.value,
      seasonal: jDay >= 0 ? rows[jDay]!.value : NaN,
      target: jTarget >= 0 ? rows[jTarget]!.value : NaN,
    });
  }
  return { split, rows: out, model, bucketS, horizonBuckets: hb, validation: { ridgeMape: tr.val.ridge.mape, persistenceMape: tr.val.persistence.mape } };
}

function parseArgs(argv: string[]): { pos: string[]; opt: Record<string, string> } {
  const pos: string[] = [];
  const opt: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) opt[a.slice(2, eq)] = a.slice(eq + 1);
      else opt[a.slice(2)] = argv[++i] ?? '';
    } else pos.push(a);
  }
  return { pos, opt };
}

const USAGE = `usage:
  optifiber backtest anomaly --input FILE --output OUT.csv [--models DIR]
  optifiber backtest forecast [--horizon 15m] [--train-fraction 0.6667] --input FILE --output OUT.csv`;

const fmt = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : '');

/** `optifiber backtest ...`; returns the exit code. */
export async function runBacktest(argv: string[], log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  const { pos, opt } = parseArgs(argv);
  const mode = pos[0];
  if ((mode !== 'anomaly' && mode !== 'forecast') || !opt['input'] || !opt['output']) {
    log(USAGE);
    return 2;
  }
  let input: ParsedInput;
  try {
    input = parseInput(readFileSync(resolve(opt['input']), 'utf8'));
  } catch (e) {
    log(`optifiber backtest: cannot read ${opt['input']}: ${(e as Error).message}`);
    return 1;
  }
  if (mode === 'anomaly') {
    const modelPath = resolve(opt['models'] ?? defaultModelDir(), 'anomaly.onnx');
    let model: AnomalyModel;
    try {
      model = await AnomalyModel.load(modelPath);
    } catch (e) {
      log(`optifiber backtest: cannot load ${modelPath}: ${(e as Error).message}`);
      return 1;
    }
    const r = await backtestAnomaly(input, model);
    const lines = ['timestamp,anomaly_score', ...r.timestamps.map((t, i) => `${t},${fmt(r.scores[i]!)}`)];
    writeFileSync(resolve(opt['output']), lines.join('\n') + '\n');
    log(`optifiber backtest anomaly: ${r.timestamps.length} timestamps, ${r.scores.filter((s) => s >= 0.8).length} at >= 0.8 -> ${opt['output']}`);
    return 0;
  }
  if (input.kind !== 'series') {
    log('optifiber backtest forecast: input must be a time,value series');
    return 2;
  }
  let horizon: number;
  try {
    horizon = parseDuration(opt['horizon'] ?? '15m');
  } catch (e) {
    log(`optifiber backtest: ${(e as Error).message}`);
    return 2;
  }
  const frac = Number(opt['train-fraction'] ?? '0.6667');
  if (!(frac > 0 && frac < 1)) {
    log('optifiber backtest: --train-fraction must be in (0, 1)');
    return 2;
  }
  const r = backtestForecast(input.rows, horizon, frac);
  const lines = ['timestamp,forecast', ...r.rows.map((x) => `${x.raw},${fmt(x.forecast)}`)];
  writeFileSync(resolve(opt['output']), lines.join('\n') + '\n');
  log(`optifiber backtest forecast: ${r.model.kind} model, ${r.rows.length} forecasts -> ${opt['output']}`);
  return 0;
}
