// DataFrames (this data source's, or Prometheus range queries labelled by
// site) -> one model per site and the anomaly heat grid (rows = sites,
// columns = time buckets, NaN = no sample in the bucket).
import type { DataFrame, Field } from '@grafana/data';
import { quantileOf, roleOf, siteOf, timeFieldOf, type Role } from './roles.js';
import { linkFromValue } from './state.js';
import type { Contribution, LinkStatus } from './types.js';

export interface Series { field: Field; time: Field }

export interface SiteModel {
  name: string;
  utilization: number | null;
  /** The field whose config (unit, thresholds, display) rules the gauge. */
  utilizationField?: Field;
  throughput: number | null;
  capacity: number | null;
  throughputField?: Field;
  forecast: { p10: number | null; p50: number | null; p90: number | null } | null;
  link: LinkStatus;
  anomaly: number | null;
  anomalyField?: Field;
  anomalySeries?: Series;
  contributionsSeries?: Series;
  /** Latest contributions (this data source) or the latest per-feature Prometheus values. */
  contributions: Contribution[];
}

export interface HeatGrid {
  sites: string[];
  buckets: number;
  from: number;
  to: number;
  /** rows * buckets scores, NaN = gap */
  values: Float32Array;
  /** rows * buckets index of the sample kept (the bucket's max), -1 = none */
  sampleIndex: Int32Array;
}

export function lastNumber(f: Field | undefined): number | null {
  if (!f) return null;
  const v = f.values;
  for (let i = v.length - 1; i >= 0; i--) {
    const x = v[i];
    if (typeof x === 'number' && Number.isFinite(x)) return x;
  }
  return null;
}

/** Latest value unless the last sample is NaN/null (then the site has no current value). */
function currentNumber(f: Field | undefined): number | null {
  if (!f || f.values.length === 0) return null;
  const x = f.values[f.values.length - 1];
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

export function parseContributions(v: unknown): Contribution[] {
  let arr: unknown = v;
  if (typeof v === 'string') {
    try { arr = JSON.parse(v); } catch { return []; }
  }
  if (!Array.isArray(arr)) return [];
  return arr.filter((c): c is Contribution => !!c && typeof c.feature === 'string' && typeof c.value === 'number');
}

export function topContributions(list: Contribution[], n: number): Contribution[] {
  return [...list].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, n);
}

export function buildSites(series: DataFrame[]): SiteModel[] {
  const sites = new Map<string, SiteModel>();
  const get = (name: string): SiteModel => {
    let s = sites.get(name);
    if (!s) sites.set(name, (s = { name, utilization: null, throughput: null, capacity: null, forecast: null, link: 'unknown', anomaly: null, contributions: [] }));
    return s;
  };
  const featureValues = new Map<string, Contribution[]>();
  for (const frame of series) {
    const time = timeFieldOf(frame);
    if (!time) continue;
    for (const field of frame.fields) {
      if (field === time || (field.type !== 'number' && field.name !== 'contributions')) continue;
      const role: Role | null = roleOf(frame, field);
      const name = siteOf(frame, field);
      if (!role || !name) continue;
      const s = get(name);
      switch (role) {
        case 'utilization': s.utilization = currentNumber(field); s.utilizationField = field; break;
        case 'throughput': s.throughput = currentNumber(field); s.throughputField = field; break;
        case 'capacity': s.capacity = currentNumber(field); break;
        case 'link': s.link = linkFromValue(currentNumber(field)); break;
        case 'anomaly': s.anomaly = currentNumber(field); s.anomalyField = field; s.anomalySeries = { field, time }; break;
        case 'contributions': s.contributionsSeries = { field, time }; s.contributions = parseContributions(field.values[field.values.length - 1]); break;
        case 'contribution': {
          const v = lastNumber(field);
          if (v !== null) {
            const list = featureValues.get(name) ?? [];
            list.push({ feature: field.labels!.feature!, value: v });
            featureValues.set(name, list);
          }
          break;
        }
        case 'forecast': {
          const q = quantileOf(field);
          const v = lastNumber(field);
          s.forecast ??= { p10: null, p50: null, p90: null };
          if (q <= 0.2) s.forecast.p10 = v;
          else if (q >= 0.8) s.forecast.p90 = v;
          else s.forecast.p50 = v;
          break;
        }
      }
    }
  }
  for (const [name, list] of featureValues) {
    const s = sites.get(name)!;
    if (!s.contributions.length) s.contributions = list;
  }
  for (const s of sites.values()) {
    if (s.utilization === null && s.throughput !== null && s.capacity !== null && s.capacity > 0) s.utilization = s.throughput / s.capacity;
  }
  return [...sites.values()].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
}

/**
 * Buckets each site's anomaly series over [from, to] (max score per bucket).
 * buckets = 0: as many as the longest series has samples, capped at 500.
 */
export function buildGrid(sites: SiteModel[], from: number, to: number, buckets: number): HeatGrid {
  let n = buckets;
  if (!n) {
    let longest = 1;
    for (const s of sites) if (s.anomalySeries) longest = Math.max(longest, s.anomalySeries.time.values.length);
    n = Math.min(500, longest);
  }
  const rows = sites.length;
  const values = new Float32Array(rows * n).fill(NaN);
  const sampleIndex = new Int32Array(rows * n).fill(-1);
  const span = Math.max(1, to - from);
  for (let r = 0; r < rows; r++) {
    const ser = sites[r]!.anomalySeries;
    if (!ser) continue;
    const tv = ser.time.values as number[];
    const vv = ser.field.values as Array<number | null>;
    const base = r * n;
    for (let i = 0; i < tv.length; i++) {
      const t = tv[i]!;
      if (t < from || t > to) continue;
      const v = vv[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      let b = Math.floor(((t - from) / span) * n);
      if (b >= n) b = n - 1;
      const cur = values[base + b]!;
      if (Number.isNaN(cur) || v > cur) {
        values[base + b] = v;
        sampleIndex[base + b] = i;
      }
    }
  }
  return { sites: sites.map((s) => s.name), buckets: n, from, to, values, sampleIndex };
}

/** Contributions behind a heat-map cell (the bucket's kept sample), else the site's latest. */
export function cellContributions(site: SiteModel, grid: HeatGrid, row: number, col: number): Contribution[] {
  const idx = grid.sampleIndex[row * grid.buckets + col] ?? -1;
  if (idx >= 0 && site.contributionsSeries) {
    const c = parseContributions(site.contributionsSeries.field.values[idx]);
    if (c.length) return c;
  }
  return site.contributions;
}
