// Exporter JSON -> Grafana DataFrames. One frame per site and metric:
// fields `time` and the metric (name = metric id, labels {site}, unit and
// display name in its config), so the panel and Grafana's own visualizations
// both understand them.
import { FieldType, MutableDataFrame, createDataFrame, type DataFrame, type FieldConfig } from '@grafana/data';
import { getMetric, type MetricDef } from './metrics.js';
import type { HistoryPoint, MetricId, Site, Snapshot } from './types.js';

export function metricFieldConfig(def: MetricDef, site: string, suffix = ''): FieldConfig {
  const cfg: FieldConfig = { unit: def.unit, displayNameFromDS: `${site} ${def.label}${suffix}` };
  if (def.min !== undefined) cfg.min = def.min;
  if (def.max !== undefined) cfg.max = def.max;
  return cfg;
}

interface Row { t: number; site: Site }

function siteFrame(refId: string, metric: MetricId, site: string, rows: Row[]): DataFrame {
  const def = getMetric(metric)!;
  const times: number[] = [];
  const values: Array<number | null> = [];
  const contributions: string[] = [];
  for (const r of rows) {
    times.push(r.t);
    values.push(def.read(r.site));
    if (metric === 'anomalyScore') contributions.push(JSON.stringify(r.site.inference?.contributions ?? []));
  }
  const fields: Array<{ name: string; type: FieldType; values: unknown[]; labels?: Record<string, string>; config: FieldConfig }> = [
    { name: 'time', type: FieldType.time, values: times, config: {} },
    { name: metric, type: FieldType.number, values, labels: { site }, config: metricFieldConfig(def, site) },
  ];
  if (metric === 'anomalyScore') {
    fields.push({ name: 'contributions', type: FieldType.other, values: contributions, labels: { site }, config: { custom: { hideFrom: { viz: true, legend: true, tooltip: true } } } as FieldConfig });
  }
  return createDataFrame({ refId, name: `${site} ${def.label}`, fields, meta: { preferredVisualisationType: 'graph' } });
}

export function historyToFrame(refId: string, metric: MetricId, site: string, points: HistoryPoint[]): DataFrame {
  return siteFrame(refId, metric, site, points.map((p) => ({ t: p.takenAtMs, site: p.site })));
}

export const FORECAST_STEPS = 15;

/**
 * Forecast mode: the +horizon trajectory as future timestamps, from now to now
 * + horizonSeconds, with the p10..p90 interval. The exporter forecasts one
 * horizon; intermediate points interpolate linearly from the current value
 * (where the band has zero width) to the horizon quantiles.
 * Sites without a forecast (no models loaded) are reported in `missing`.
 */
export function forecastToFrames(refId: string, metric: MetricId, snap: Snapshot, sites: string[] | null): { frames: DataFrame[]; missing: string[] } {
  const def = getMetric(metric)!;
  const frames: DataFrame[] = [];
  const missing: string[] = [];
  for (const s of snap.sites) {
    if (sites && !sites.includes(s.name)) continue;
    const fc = s.inference?.forecast;
    const now = def.read(s);
    if (!fc || now === null) { missing.push(s.name); continue; }
    const q = metric === 'utilization' ? fc.utilization : fc.throughputBps;
    const t0 = snap.takenAtMs;
    const times: number[] = [], p10: number[] = [], p50: number[] = [], p90: number[] = [];
    for (let i = 0; i <= FORECAST_STEPS; i++) {
      const f = i / FORECAST_STEPS;
      times.push(Math.round(t0 + f * fc.horizonSeconds * 1000));
      p10.push(now + (q.p10 - now) * f);
      p50.push(now + (q.p50 - now) * f);
      p90.push(now + (q.p90 - now) * f);
    }
    const name = s.name;
    frames.push(createDataFrame({
      refId,
      name: `${name} ${def.label} forecast`,
      meta: { custom: { horizonSeconds: fc.horizonSeconds } },
      fields: [
        { name: 'time', type: FieldType.time, values: times, config: {} },
        { name: metric, type: FieldType.number, values: p50, labels: { site: name, percentile: '50' }, config: metricFieldConfig(def, name, ' forecast p50') },
        { name: `${metric}_p10`, type: FieldType.number, values: p10, labels: { site: name, percentile: '10' }, config: metricFieldConfig(def, name, ' forecast p10') },
        { name: `${metric}_p90`, type: FieldType.number, values: p90, labels: { site: name, percentile: '90' }, config: metricFieldConfig(def, name, ' forecast p90') },
      ],
    }));
  }
  return { frames, missing };
}

export interface SiteEvent { time: number; site: string; kind: 'link' | 'fault' | 'remediation'; title: string; text: string; tags: string[] }

/** Link state changes and fault starts/ends found in one site's history. */
export function historyEvents(site: string, points: HistoryPoint[]): SiteEvent[] {
  const out: SiteEvent[] = [];
  let prev: Site | undefined;
  for (const p of points) {
    const s = p.site;
    if (prev && prev.linkState !== s.linkState) {
      out.push({ time: p.takenAtMs, site, kind: 'link', title: `${site}: link ${prev.linkState} → ${s.linkState}`, text: `Link state of ${site} changed from ${prev.linkState} to ${s.linkState}.`, tags: ['optifiber', 'link', site, s.linkState] });
    }
    if (prev && prev.fault !== s.fault) {
      const started = s.fault !== 'none';
      out.push({ time: p.takenAtMs, site, kind: 'fault', title: started ? `${site}: fault ${s.fault}` : `${site}: fault ${prev.fault} cleared`, text: started ? `Fault ${s.fault} began on ${site}.` : `Fault ${prev.fault} on ${site} ended.`, tags: ['optifiber', 'fault', site, started ? s.fault : prev.fault] });
    } else if (prev && s.faultsTotal > prev.faultsTotal && s.fault === prev.fault) {
      out.push({ time: p.takenAtMs, site, kind: 'fault', title: `${site}: fault`, text: `A fault occurred on ${site} between two samples (faults total ${s.faultsTotal}).`, tags: ['optifiber', 'fault', site] });
    }
    // Capacity changes: what remediation (or an operator) did through the
    // agent's control path, as the pages show it.
    if (prev && prev.cmdModules !== s.cmdModules) {
      const gbps = (bps: number) => `${Math.round(bps / 1e9)} Gbit/s`;
      const verb = s.cmdModules > prev.cmdModules ? 'added' : 'removed';
      const n = Math.abs(s.cmdModules - prev.cmdModules);
      out.push({
        time: p.takenAtMs,
        site,
        kind: 'remediation',
        title: `${site}: CMD modules ${prev.cmdModules} → ${s.cmdModules}`,
        text: `${n} CMD module${n === 1 ? '' : 's'} ${verb} on ${site}: capacity ${gbps(prev.capacityBps)} → ${gbps(s.capacityBps)}.`,
        tags: ['optifiber', 'remediation', site],
      });
    }
    prev = s;
  }
  return out;
}

/** Events as an annotation-shaped frame (time, title, text, tags). */
export function eventsToFrame(refId: string, events: SiteEvent[]): DataFrame {
  const sorted = [...events].sort((a, b) => a.time - b.time);
  const frame = new MutableDataFrame({ refId, name: 'OptiFiber events', fields: [
    { name: 'time', type: FieldType.time },
    { name: 'title', type: FieldType.string },
    { name: 'text', type: FieldType.string },
    { name: 'tags', type: FieldType.other },
    { name: 'site', type: FieldType.string },
    { name: 'kind', type: FieldType.string },
  ] });
  for (const e of sorted) frame.add({ time: e.time, title: e.title, text: e.text, tags: e.tags, site: e.site, kind: e.kind });
  return frame;
}
