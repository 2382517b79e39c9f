// Synthetic but realistic frames: the OptiFiber data source's shape and the
// Prometheus range-query shape, for N sites x B buckets.
import { createDataFrame, FieldType, type DataFrame } from '@grafana/data';

export type Scenario = 'normal' | 'nodata' | 'nan' | 'prom';

export const CONTRIBS = [
  JSON.stringify([{ feature: 'osnr_db', value: 0.41 }, { feature: 'pre_fec_ber', value: 0.33 }, { feature: 'rx_power_dbm', value: -0.12 }, { feature: 'temperature', value: 0.04 }]),
  JSON.stringify([{ feature: 'crc_errors_rate', value: 0.52 }, { feature: 'throughput_bps', value: 0.21 }, { feature: 'q_factor_db', value: -0.18 }]),
  '[]',
];

export function siteName(i: number): string {
  return `site-${String(i + 1).padStart(4, '0')}`;
}

/** Deterministic pseudo-random in [0,1). */
function rnd(a: number, b: number): number {
  const x = Math.sin(a * 12.9898 + b * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

export function anomalyAt(s: number, b: number): number {
  // background noise + a hot band for every 7th site + a burst for site 2
  const base = rnd(s, b) * 0.35;
  const band = s % 7 === 3 && b > 300 && b < 360 ? 0.6 : 0;
  const burst = s === 1 && b > 420 ? 0.55 : 0;
  return Math.min(1, base + band + burst);
}

export function makeFrames(n: number, buckets: number, to: number, stepMs: number, scenario: Scenario): DataFrame[] {
  if (scenario === 'nodata') return [];
  const from = to - (buckets - 1) * stepMs;
  const times = Array.from({ length: buckets }, (_, i) => from + i * stepMs);
  const frames: DataFrame[] = [];
  for (let s = 0; s < n; s++) {
    const site = siteName(s);
    const util = s === 1 ? 0.93 : 0.2 + rnd(s, 1) * 0.55;
    const link = s === 2 ? 0 : s === 3 ? 0.5 : 1;
    const scores = new Array<number | null>(buckets);
    const contribs = new Array<string>(buckets);
    for (let b = 0; b < buckets; b++) {
      scores[b] = anomalyAt(s, b);
      contribs[b] = CONTRIBS[scores[b]! > 0.5 ? s % 2 : 2]!;
    }
    let utilValues: Array<number | null> = [util * 0.9, util];
    if (scenario === 'nan') {
      // gaps: a hole of buckets on every site, NaN and null samples, and no current utilization on site-0001
      for (let b = 100; b < 160; b++) scores[b] = null;
      scores[200] = NaN;
      if (s === 0) utilValues = [util, NaN];
    }
    if (scenario === 'prom') {
      frames.push(prom('optifiber_throughput_bytes_per_second', site, [util * 5e10, util * 5e10], [to - stepMs, to]));
      frames.push(prom('optifiber_capacity_bytes_per_second', site, [5e10, 5e10], [to - stepMs, to]));
      frames.push(prom('optifiber_link_up', site, [link >= 1 ? 1 : 0, link >= 1 ? 1 : 0], [to - stepMs, to]));
      frames.push(prom('optifiber_anomaly_score', site, scores, times));
      frames.push(prom('optifiber_forecast_utilization_ratio', site, [Math.min(1, util + 0.08)], [to + 900_000], { percentile: '90' }));
      frames.push(prom('optifiber_forecast_utilization_ratio', site, [Math.min(1, util + 0.04)], [to + 900_000], { percentile: '50' }));
      continue;
    }
    frames.push(ds(site, 'utilization', 'Utilization', [to - stepMs, to], utilValues, 'percentunit'));
    frames.push(ds(site, 'linkUp', 'Link up', [to], [link], 'bool_on_off'));
    frames.push(createDataFrame({
      refId: 'A', name: `${site} Anomaly score`,
      fields: [
        { name: 'time', type: FieldType.time, values: times },
        { name: 'anomalyScore', type: FieldType.number, values: scores, labels: { site }, config: { displayNameFromDS: `${site} Anomaly score`, min: 0, max: 1 } },
        { name: 'contributions', type: FieldType.other, values: contribs, labels: { site } },
      ],
    }));
    const fc = (p: string, v: number) => ({ name: p === '50' ? 'utilization' : `utilization_p${p}`, type: FieldType.number, values: [util, v], labels: { site, percentile: p }, config: { unit: 'percentunit' } });
    frames.push(createDataFrame({ refId: 'F', name: `${site} Utilization forecast`, fields: [
      { name: 'time', type: FieldType.time, values: [to, to + 900_000] },
      fc('50', Math.min(1, util + 0.05)), fc('10', Math.max(0, util - 0.02)), fc('90', Math.min(1, util + 0.12)),
    ] }));
  }
  return frames;
}

function ds(site: string, metric: string, label: string, times: number[], values: Array<number | null>, unit: string): DataFrame {
  return createDataFrame({ refId: 'A', name: `${site} ${label}`, fields: [
    { name: 'time', type: FieldType.time, values: times },
    { name: metric, type: FieldType.number, values, labels: { site }, config: { unit, displayNameFromDS: `${site} ${label}` } },
  ] });
}

function prom(metric: string, site: string, values: Array<number | null>, times: number[], extra: Record<string, string> = {}): DataFrame {
  return createDataFrame({ refId: metric, name: metric, fields: [
    { name: 'Time', type: FieldType.time, values: times },
    { name: 'Value', type: FieldType.number, values, labels: { __name__: metric, site, instance: '127.0.0.1:9886', job: 'optifiber', ...extra } },
  ] });
}
