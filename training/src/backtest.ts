// `optifiber backtest anomaly|forecast`: replay a history through the same
// feature pipeline and models the exporter serves, online (every output
// uses only rows up to its timestamp).
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EntitySurprise, FORECAST_BUCKET_S, ForecastHistory, N_FORECAST_FEATURES, N_SITE_CHANNELS, N_SITE_COLUMNS, obsFromOpticalRow, siteChannelValues } from '@optifiber/exporter/ai/features';
import { ForecastTrack } from '@optifiber/exporter/ai/forecast-track';
import { dot, type LinearForecaster } from '@optifiber/exporter/ai/forecast';
import { trainForecaster, type ForecastDataset } from './fit.js';
import { parseInput, type ParsedInput, type SeriesRow } from './csv.js';
import { parseDurationMs } from '@optifiber/exporter/config/validators';
import { AnomalyModel, ForecastModel } from '@optifiber/exporter/ai/runtime';
import { defaultModelDir } from '@optifiber/exporter/ai/model-dir';

export interface AnomalyBacktest {
  timestamps: string[]; // as written in the input, one per distinct timestamp, input order
  t: number[];
  scores: number[];
  labels?: number[]; // max label over the timestamp's rows (evaluation only; never used to score)
  /** Per input row: its entity and that entity's score (for per-entity evaluation). */
  rowEntity: string[];
  rowScore: Float32Array;
}

/** Entities, channels and per-row channel values of an input. */
function streamOf(input: ParsedInput): { channels: number; make: () => EntitySurprise; rows: { entity: string; t: number; values: ArrayLike<number> }[] } {
  if (input.kind === 'optical') {
    const v = new Float64Array(N_SITE_CHANNELS);
    return {
      channels: N_SITE_COLUMNS,
      make: () => EntitySurprise.site(),
      rows: input.rows.map((r) => ({ entity: r.id, t: r.t, values: Float64Array.from(siteChannelValues(obsFromOpticalRow(r.ber, r.osnr, r.inPower, r.outPower), v)) })),
    };
  }
  if (input.kind === 'series') return { channels: 1, make: () => new EntitySurprise(['value']), rows: input.rows.map((r) => ({ entity: '', t: r.t, values: [r.value] })) };
  return { channels: input.columns.length + (input.columns.length >= 2 ? 1 : 0), make: () => new EntitySurprise(input.columns), rows: input.rows.map((r) => ({ entity: r.entity ?? '', t: r.t, values: r.values })) };
}

/**
 * Every row through its entity's online state (only rows up to its time),
 * then one batched run of the served score head.
 */
export async function backtestAnomaly(input: ParsedInput, model: AnomalyModel): Promise<AnomalyBacktest> {
  const { channels: C, make, rows } = streamOf(input);
  const n = rows.length;
  const E = new Float32Array(n * C);
  const lnR = new Float32Array(n);
  const ents = new Map<string, EntitySurprise>();
  rows.forEach((r, i) => {
    let e = ents.get(r.entity);
    if (!e) ents.set(r.entity, (e = make()));
    lnR[i] = e.push(r.t, r.values, E, i * C);
  });
  const rowScore = await model.score(E, C, lnR);
  // timestamp score = max over entities of their latest score
  const latest = new Map<string, number>();
  const out: AnomalyBacktest = { timestamps: [], t: [], scores: [], rowEntity: rows.map((r) => r.entity), rowScore };
  const labels: number[] = [];
  const seen = new Set<string>();
  const rowLabel = (j: number): number => (input.kind === 'series' ? 0 : (input.rows[j]!.label ?? 0));
  let i = 0;
  while (i < n) {
    const ts = input.rows[i]!.raw;
    let lab = 0;
    let j = i;
    for (; j < n && input.rows[j]!.raw === ts; j++) {
      latest.set(rows[j]!.entity, rowScore[j]!);
      lab = Math.max(lab, rowLabel(j));
    }
    if (!seen.has(ts)) {
      // interleaved device clocks can repeat a timestamp later: one output row per timestamp
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
  if (input.kind !== 'series') out.labels = labels;
  return out;
}

/** Seconds from a Prometheus-style duration (15m, 900s, 1h30m) or plain seconds. */
export function parseDuration(s: string): number {
  const ms = parseDurationMs(s);
  if (ms === undefined || !(ms > 0)) throw new Error(`bad duration "${s}" (expected e.g. 15m, 900s or 900)`);
  return ms / 1000;
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
 * --refit (for comparison only): fit a new ridge on the rows before the
 * split (internal 80/20 split chooses ridge vs persistence and sets the
 * interval), then forecast online after it. Not what the exporter serves.
 */
export function backtestForecastRefit(rows: SeriesRow[], horizonS: number, trainFraction: number): ForecastBacktest {
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

export interface ServedForecastRow {
  raw: string;
  t: number;
  p10: number;
  p50: number;
  p90: number;
}

/**
 * The served path: every row through the exporter's own ForecastTrack and
 * forecast model, in order, learning the conformal band as it streams;
 * nothing looks ahead. Rows before the features are ready forecast
 * persistence (the exporter serves nothing then).
 */
export async function backtestForecastServed(rows: SeriesRow[], model: ForecastModel): Promise<ServedForecastRow[]> {
  const spacing = medianSpacing(rows);
  const bucketS = Number(model.metadata['bucket_seconds'] ?? FORECAST_BUCKET_S);
  if (spacing > bucketS) throw new Error(`the series is sampled every ${spacing} s, coarser than the served model's ${bucketS} s buckets: use --refit`);
  const hb = Math.round(model.horizonSeconds / bucketS);
  const track = new ForecastTrack(hb, bucketS);
  const x = new Float32Array(N_FORECAST_FEATURES);
  const lvl = new Float32Array(1);
  const out: ServedForecastRow[] = [];
  for (const r of rows) {
    const l0 = track.push(r.t, r.value, x);
    if (!Number.isFinite(l0)) {
      out.push({ raw: r.raw, t: r.t, p10: r.value, p50: r.value, p90: r.value });
      continue;
    }
    lvl[0] = l0;
    const f = await model.predict(x, lvl);
    const band = track.serve(l0, f[0]!, f[1]!, f[2]!);
    out.push({ raw: r.raw, t: r.t, ...band });
  }
  return out;
}

function parseArgs(argv: string[]): { pos: string[]; opt: Record<string, string> } {
  const pos: string[] = [];
  const opt: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) opt[a.slice(2, eq)] = a.slice(eq + 1);
      else if (a === '--refit') opt['refit'] = 'true'; // the one switch without a value
      else opt[a.slice(2)] = argv[++i] ?? '';
    } else pos.push(a);
  }
  return { pos, opt };
}

const USAGE = `usage:
  optifiber backtest anomaly --input FILE --output OUT.csv [--models DIR] [--time-step 60s]
                             [--label-column NAME[,NAME...]] [--entity-column NAME]
  optifiber backtest forecast --input FILE --output OUT.csv [--models DIR] [--refit [--horizon 15m] [--train-fraction 0.6667]]
inputs: the optical testbed format; time,value; time,<numeric columns...> (delimiter , ; or tab;
label columns (label, is_anomaly, attack, outlier...) are not inputs; an id/KPI ID/machine column
makes one model per entity); index-only or time-less files with --time-step.`;

const fmt = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : '');

/** A CSV cell as written: quoted when it holds a comma, a quote or a line break (an entity named "rack 3, row 2"). */
const csvCell = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** Columns of a file without a header that hold only 0 and 1: labels, perhaps, which no name can reveal. */
function unnamedZeroOne(input: ParsedInput): string[] {
  if (input.kind !== 'wide') return [];
  return input.columns.filter((c, k) => /^column \d+$/.test(c) && input.rows.every((r) => r.values[k] === 0 || r.values[k] === 1 || Number.isNaN(r.values[k])));
}

async function anomalyCommand(input: ParsedInput, opt: Record<string, string>, log: (s: string) => void): Promise<number> {
  const modelPath = resolve(opt['models'] ?? defaultModelDir(), 'anomaly.onnx');
  let model: AnomalyModel;
  try {
    model = await AnomalyModel.load(modelPath);
  } catch (e) {
    log(`optifiber backtest: cannot load ${modelPath}: ${(e as Error).message}`);
    return 1;
  }
  for (const c of unnamedZeroOne(input)) log(`optifiber backtest: warning: "${c}" holds only 0 and 1 and is scored as an input; if it is a label, pass --label-column ${c.replace('column ', '')}`);
  const r = await backtestAnomaly(input, model);
  if (input.kind === 'wide' && input.entityColumn !== undefined) {
    // entities listed one after another share timestamps: a row per input row, each its entity's score
    const lines = [`timestamp,${csvCell(input.entityColumn)},anomaly_score`, ...input.rows.map((row, i) => `${csvCell(row.raw)},${csvCell(row.entity!)},${fmt(r.rowScore[i]!)}`)];
    writeFileSync(resolve(opt['output']!), lines.join('\n') + '\n');
    log(`optifiber backtest anomaly: ${input.rows.length} rows of ${new Set(r.rowEntity).size} ${input.entityColumn} entities, ${r.rowScore.filter((s) => s >= 0.8).length} at >= 0.8 -> ${opt['output']}`);
    return 0;
  }
  const lines = ['timestamp,anomaly_score', ...r.timestamps.map((t, i) => `${t},${fmt(r.scores[i]!)}`)];
  writeFileSync(resolve(opt['output']!), lines.join('\n') + '\n');
  log(`optifiber backtest anomaly: ${r.timestamps.length} timestamps, ${r.scores.filter((s) => s >= 0.8).length} at >= 0.8 -> ${opt['output']}`);
  return 0;
}

function seriesOf(input: ParsedInput): SeriesRow[] | undefined {
  if (input.kind === 'series') return input.rows;
  if (input.kind === 'wide' && input.columns.length === 1 && input.entityColumn === undefined) return input.rows.map((r) => ({ raw: r.raw, t: r.t, value: r.values[0]! }));
  return undefined;
}

async function forecastCommand(input: ParsedInput, opt: Record<string, string>, log: (s: string) => void): Promise<number> {
  const rows = seriesOf(input);
  if (!rows) {
    log('optifiber backtest forecast: input must be one time,value series (one entity, one value column)');
    return 2;
  }
  if (opt['refit'] === undefined) {
    if (opt['horizon'] !== undefined || opt['train-fraction'] !== undefined) {
      log('optifiber backtest forecast: --horizon and --train-fraction go with --refit; the served model forecasts its own horizon (see --help)');
      return 2;
    }
    const modelPath = resolve(opt['models'] ?? defaultModelDir(), 'forecast.onnx');
    let model: ForecastModel;
    try {
      model = await ForecastModel.load(modelPath);
    } catch (e) {
      log(`optifiber backtest: cannot load ${modelPath}: ${(e as Error).message}`);
      return 1;
    }
    const bucketS = Number(model.metadata['bucket_seconds'] ?? FORECAST_BUCKET_S);
    if (medianSpacing(rows) > bucketS) {
      log(`optifiber backtest forecast: the series is sampled every ${medianSpacing(rows)} s, coarser than the served model's ${bucketS} s buckets: use --refit`);
      return 2;
    }
    const out = await backtestForecastServed(rows, model);
    const lines = ['timestamp,forecast,p10,p90', ...out.map((x) => `${x.raw},${fmt(x.p50)},${fmt(x.p10)},${fmt(x.p90)}`)];
    writeFileSync(resolve(opt['output']!), lines.join('\n') + '\n');
    log(`optifiber backtest forecast: served model ${model.sha256.slice(0, 12)} (${model.horizonSeconds} s ahead), ${out.length} forecasts -> ${opt['output']}`);
    return 0;
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
  const r = backtestForecastRefit(rows, horizon, frac);
  const lines = ['timestamp,forecast', ...r.rows.map((x) => `${x.raw},${fmt(x.forecast)}`)];
  writeFileSync(resolve(opt['output']!), lines.join('\n') + '\n');
  log(`optifiber backtest forecast --refit: ${r.model.kind} model refitted on the first ${frac} of the file, ${r.rows.length} forecasts -> ${opt['output']}`);
  return 0;
}

/** `optifiber backtest ...`; returns the exit code. */
export async function runBacktest(argv: string[], log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  const { pos, opt } = parseArgs(argv);
  const mode = pos[0];
  if ((mode !== 'anomaly' && mode !== 'forecast') || !opt['input'] || !opt['output']) {
    log(USAGE);
    return 2;
  }
  let timeStepS: number | undefined;
  if (opt['time-step'] !== undefined) {
    try {
      timeStepS = parseDuration(opt['time-step']);
    } catch (e) {
      log(`optifiber backtest: --time-step: ${(e as Error).message}`);
      return 2;
    }
  }
  const labelColumns = opt['label-column']?.split(',').map((c) => c.trim()).filter(Boolean);
  let input: ParsedInput;
  try {
    input = parseInput(readFileSync(resolve(opt['input']), 'utf8'), { timeStepS, labelColumns, entityColumn: opt['entity-column'] });
  } catch (e) {
    log(`optifiber backtest: cannot read ${opt['input']}: ${(e as Error).message}`);
    return 1;
  }
  return mode === 'anomaly' ? anomalyCommand(input, opt, log) : forecastCommand(input, opt, log);
}
