// `npm run eval`: the served models against every dataset in
// ../shared/datasets and the simulator, with baselines measured in the same
// run on the same streams. Writes bench/results/ai.json (or the file given).
// Nothing here chooses a threshold or a constant for the served score:
// NAB-style thresholds are optimised per detector on the split reported,
// as NAB does, and the product threshold 0.8 is reported beside them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInput } from '../csv.js';
import { backtestAnomaly, backtestForecastServed } from '../backtest.js';
import { EntitySurprise, siteValues, N_SITE_CHANNELS, N_SITE_COLUMNS } from '@optifiber/exporter/ai/features';
import { AnomalyModel, ForecastModel } from '@optifiber/exporter/ai/runtime';
import { runSim } from '@optifiber/exporter/sim/trace';
import { TEST_FRACTION_START, UK_TRAFFIC } from '../train.js';
import { CORPORA, SIM_SEEDS, corpusPresent, type Split } from './corpora.js';
import { gaussianDetector, nullDetector, optifiberDetector, v1Detector, type Detector, type EntityStream } from './detectors.js';
import { PROFILES, bestThreshold, eventStats, nabScore, type ScoredEntity } from './events.js';

export interface EvalOptions {
  root: string; // repository root
  datasets: string;
  splits: Split[];
  only?: string[];
  log: (s: string) => void;
}

const THR = 0.8;
const r4 = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? x : Math.round(x * 1e4) / 1e4);

function round(o: unknown): unknown {
  if (typeof o === 'number') return r4(o);
  if (Array.isArray(o)) return o.map(round);
  if (o && typeof o === 'object') return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v)]));
  return o;
}

async function scoreCorpus(streams: EntityStream[], det: Detector): Promise<ScoredEntity[]> {
  const out: ScoredEntity[] = [];
  for (const e of streams) out.push({ t: e.t, label: e.label, score: await det(e) });
  return out;
}

function summarize(scored: ScoredEntity[], product: boolean): Record<string, unknown> {
  const nab: Record<string, unknown> = {};
  for (const p of PROFILES) nab[p.name] = bestThreshold(scored, p);
  const std = (nab['standard'] as { threshold: number }).threshold;
  const r: Record<string, unknown> = { nab, events_at_best_standard_threshold: eventStats(scored, std) };
  if (product) {
    r['nab_standard_at_0_8'] = nabScore(scored, THR, PROFILES[0]!);
    r['events_at_0_8'] = eventStats(scored, THR);
  }
  return r;
}

async function labelledCorpora(o: EvalOptions, model: AnomalyModel): Promise<Record<string, unknown>> {
  const dets: Record<string, Detector> = {
    optifiber: optifiberDetector(model),
    windowed_gaussian: gaussianDetector(600),
    v1_before: v1Detector(join(o.root, 'exporter', 'models', 'legacy', 'anomaly-v1.onnx')),
    null: nullDetector,
  };
  const res: Record<string, unknown> = {};
  for (const name of Object.keys(CORPORA) as (keyof typeof CORPORA)[]) {
    if (o.only && !o.only.includes(name)) continue;
    if (!corpusPresent(o.datasets, name)) {
      o.log(`eval: ${o.datasets}/anomaly-${name} absent, skipping ${name}`);
      res[name] = { skipped: 'dataset absent' };
      continue;
    }
    const per: Record<string, unknown> = {};
    for (const split of o.splits) {
      const streams = CORPORA[name](o.datasets, split);
      const d: Record<string, unknown> = { entities: streams.length, samples: streams.reduce((s, e) => s + e.t.length, 0) };
      for (const [dn, det] of Object.entries(dets)) {
        const t0 = Date.now();
        d[dn] = summarize(await scoreCorpus(streams, det), dn === 'optifiber');
        o.log(`eval: ${name}/${split}/${dn} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      per[split] = d;
    }
    res[name] = per;
  }
  return res;
}

/** The optical testbed: each half of the 8 hours separately (hours 0-2 + 4-6 dev, 2-4 + 6-8 test). */
async function optical(o: EvalOptions, model: AnomalyModel): Promise<Record<string, unknown>> {
  const path = join(o.datasets, 'optical-failure', 'SoftFailure_dataset.csv');
  if (!existsSync(path)) return { skipped: `${path} absent` };
  const bt = await backtestAnomaly(parseInput(readFileSync(path, 'utf8')), model);
  const t0 = bt.t[0]!;
  const block = (h0: number, h1: number): ScoredEntity => {
    const idx = bt.t.map((t, i) => [t, i] as const).filter(([t]) => t >= t0 + h0 * 3600 && t < t0 + h1 * 3600).map(([, i]) => i);
    return { t: idx.map((i) => bt.t[i]!), label: idx.map((i) => bt.labels![i]!), score: idx.map((i) => bt.scores[i]!) };
  };
  const half = (blocks: ScoredEntity[]): Record<string, unknown> => {
    const ev = eventStats(blocks, THR);
    let tp = 0, fp = 0, fn = 0;
    for (const b of blocks) for (let i = 0; i < b.t.length; i++) {
      const a = b.score[i]! >= THR, y = b.label[i]! > 0;
      if (a && y) tp++; else if (a) fp++; else if (y) fn++;
    }
    const p = tp / (tp + fp || 1), r = tp / (tp + fn || 1);
    return { events_at_0_8: ev, false_alarms_per_hour: ev.normal_days ? ev.false_alarm_episodes / (ev.normal_days * 24) : null, per_sample_at_0_8: { precision: p, recall: r, f1: (2 * p * r) / (p + r || 1) } };
  };
  return {
    samples: bt.t.length,
    ...(o.splits.includes('dev') ? { dev_hours_0_2_and_4_6: half([block(0, 2), block(4, 6)]) } : {}),
    ...(o.splits.includes('test') ? { test_hours_2_4_and_6_8: half([block(2, 4), block(6, 8)]) } : {}),
    targets: { event_f1: 0.9, all_events_detected: true, false_alarms_per_hour_max: 1 },
  };
}

/** UK backbone, 15 minutes ahead, with the SERVED model path (no refit), on the test third. */
async function ukForecast(o: EvalOptions, fm: ForecastModel): Promise<Record<string, unknown>> {
  const path = join(o.datasets, UK_TRAFFIC);
  if (!existsSync(path)) return { skipped: `${path} absent` };
  const inp = parseInput(readFileSync(path, 'utf8'));
  if (inp.kind !== 'series') throw new Error('UK traffic: expected a series');
  const rows = inp.rows;
  const out = await backtestForecastServed(rows, fm);
  const split = Math.floor(rows.length * TEST_FRACTION_START);
  const byT = new Map(rows.map((r, i) => [r.t, i]));
  const h = fm.horizonSeconds;
  const acc = { model: [0, 0, 0], persistence: [0, 0, 0] };
  let inside = 0, n = 0;
  for (let i = split; i < rows.length; i++) {
    const j = byT.get(rows[i]!.t + h);
    if (j === undefined) continue;
    const y = rows[j]!.value;
    if (!(y > 0)) continue;
    const f = out[i]!;
    for (const [k, p] of [['model', f.p50], ['persistence', rows[i]!.value]] as const) {
      acc[k][0]! += Math.abs((y - p) / y);
      acc[k][1]! += (2 * Math.abs(y - p)) / (Math.abs(y) + Math.abs(p));
    }
    if (y >= f.p10 && y <= f.p90) inside++;
    n++;
  }
  const m = { mape: (100 * acc.model[0]!) / n, smape: (100 * acc.model[1]!) / n };
  const p = { mape: (100 * acc.persistence[0]!) / n, smape: (100 * acc.persistence[1]!) / n };
  return {
    path: 'served (exporter/models/forecast.onnx + per-entity conformal band, learning online; no refit)',
    model_kind: fm.metadata['kind'],
    trained_on: fm.metadata['trained_on'],
    test_rows: n,
    model: m,
    persistence: p,
    mape_ratio_vs_persistence: m.mape / p.mape,
    p10_p90_coverage: inside / n,
    targets: { mape_ratio_max: 0.8, coverage: [0.75, 0.85] },
  };
}

type SimParams = { seed: number; nsites: number; ticks: number; timeScale: number; faultRate: number };

/** A simulator run through the served score: scores per tick x site, and each sample's time and fault. */
async function simScores(model: AnomalyModel, p: SimParams): Promise<{ s: Float32Array; meta: [number, string, number][] }> {
  const C = N_SITE_COLUMNS;
  const ents = Array.from({ length: p.nsites }, () => EntitySurprise.site());
  const E = new Float32Array(p.ticks * p.nsites * C);
  const lnR = new Float32Array(p.ticks * p.nsites);
  const meta: [number, string, number][] = [];
  const v = new Float64Array(N_SITE_CHANNELS);
  runSim(p, (t, pts) => {
    pts.forEach((pt, i) => {
      const k = t * p.nsites + i;
      lnR[k] = ents[i]!.push(pt.sample.simTimeS, siteValues(pt.sample, pt.rates, v), E, k * C);
      meta.push([pt.sample.simTimeS, pt.sample.fault, pt.sample.faultStartSimS]);
    });
  });
  return { s: await model.score(E, C, lnR), meta };
}

/** Scoring starts at tick 60 (every channel warm): earlier ticks are the sites' first minute. */
const SIM_FIRST_SCORED_TICK = 60;

export interface SimFault {
  type: string;
  delay: number | null;
  /** The site's first fault of the run (see simulator()). */
  first: boolean;
  /** Began before scoring did, in the site's first minute: no onset to time. */
  beforeScoring: boolean;
}

/** Every fault of one run with faults, and how long the score took to reach 0.8. */
async function simFaults(model: AnomalyModel, seed: number): Promise<SimFault[]> {
  const p = { seed, nsites: 16, ticks: 20000, timeScale: 1, faultRate: 20000 };
  const { s, meta } = await simScores(model, p);
  const faults = new Map<string, SimFault>();
  const faulted = new Set<number>();
  for (let t = SIM_FIRST_SCORED_TICK; t < p.ticks; t++)
    for (let i = 0; i < p.nsites; i++) {
      const k = t * p.nsites + i;
      const [simT, fault, start] = meta[k]!;
      if (fault === 'none') continue;
      const key = `${i}:${start}`;
      let f = faults.get(key);
      const scoredFrom = meta[SIM_FIRST_SCORED_TICK * p.nsites + i]![0];
      if (!f) faults.set(key, (f = { type: fault, delay: null, first: !faulted.has(i), beforeScoring: start < scoredFrom }));
      faulted.add(i);
      if (f.delay === null && s[k]! >= THR) f.delay = simT - start;
    }
  return [...faults.values()];
}

/** Per fault type: found within target (60 s; BER creep 120 s), ever, median delay, first faults of a site. */
export function faultTable(faults: SimFault[]): Record<string, unknown> {
  const byType: Record<string, { faults: number; within_target: number; target_s: number; detected_ever: number; delays: number[]; first: number; first_within_target: number; onset_before_scoring: number }> = {};
  for (const f of faults) {
    const target = f.type === 'ber_creep' ? 120 : 60;
    const b = (byType[f.type] ??= { faults: 0, within_target: 0, target_s: target, detected_ever: 0, delays: [], first: 0, first_within_target: 0, onset_before_scoring: 0 });
    if (f.beforeScoring) {
      b.onset_before_scoring++;
      continue;
    }
    b.faults++;
    if (f.first) b.first++;
    if (f.delay === null) continue;
    b.detected_ever++;
    b.delays.push(f.delay);
    if (f.delay <= target) b.within_target++;
    if (f.delay <= target && f.first) b.first_within_target++;
  }
  return Object.fromEntries(Object.entries(byType).map(([k, b]) => [k, { faults: b.faults, within_target: b.within_target, target_s: b.target_s, detected_ever: b.detected_ever,
    median_delay_s: b.delays.sort((x, y) => x - y)[Math.floor(b.delays.length / 2)] ?? null, first_of_site: b.first, first_of_site_within_target: b.first_within_target, onset_before_scoring: b.onset_before_scoring }]));
}

/** Alarm episodes (and those lasting 5 s) of fault-free runs at 1 s ticks. */
async function faultFree(model: AnomalyModel, seeds: number[], log: (s: string) => void): Promise<Record<string, number>> {
  let eps = 0, eps5 = 0, samples = 0;
  const ticks = 43200, nsites = 16;
  for (const seed of seeds) {
    const { s } = await simScores(model, { seed, nsites, ticks, timeScale: 1, faultRate: 0 });
    const run = new Array<number>(nsites).fill(0);
    for (let t = SIM_FIRST_SCORED_TICK; t < ticks; t++)
      for (let i = 0; i < nsites; i++) {
        samples++;
        if (!(s[t * nsites + i]! >= THR)) {
          run[i] = 0;
          continue;
        }
        if (++run[i]! === 1) eps++;
        if (run[i] === 5) eps5++;
      }
    log(`eval: simulator fault-free seed ${seed}`);
  }
  const days = (seeds.length * nsites * ticks) / 86400;
  return { runs: seeds.length, site_days: days, samples, episodes: eps, episodes_per_site_day: eps / days, episodes_lasting_5s_per_site_day: eps5 / days };
}

/**
 * Simulator, per split (SIM_SEEDS): every fault type's detection delay, and
 * fault-free episodes per site-day at 1 s. A fault whose onset precedes
 * scoring (a site's first minute: its channels have nothing to compare with)
 * is counted apart, not timed. first_of_site: a repeat meets a site whose
 * tail models have learned a fault already, which by the score's definition
 * is less surprising; reported apart, not as a different target.
 */
async function simulator(o: EvalOptions, model: AnomalyModel): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const split of o.splits) {
    const seeds = SIM_SEEDS[split];
    const faults: SimFault[] = [];
    for (const seed of seeds.faults) faults.push(...(await simFaults(model, seed)));
    out[split] = { faults: { seeds: seeds.faults, sites: 16, ticks: 20000, by_type: faultTable(faults) }, fault_free_1s: await faultFree(model, seeds.faultFree, o.log) };
  }
  return out;
}

export async function runEval(o: EvalOptions): Promise<Record<string, unknown>> {
  const am = await AnomalyModel.load(join(o.root, 'exporter', 'models', 'anomaly.onnx'));
  const fm = await ForecastModel.load(join(o.root, 'exporter', 'models', 'forecast.onnx'));
  const want = (k: string): boolean => !o.only || o.only.includes(k);
  const res: Record<string, unknown> = { generated_by: 'npm run eval', anomaly_model_sha256: am.sha256, forecast_model_sha256: fm.sha256, product_threshold: THR, splits: o.splits };
  if (want('optical')) res['optical'] = await optical(o, am);
  if (want('uk')) res['uk_forecast'] = await ukForecast(o, fm);
  res['labelled'] = await labelledCorpora(o, am);
  if (want('sim')) res['simulator'] = await simulator(o, am);
  return round(res) as Record<string, unknown>;
}
