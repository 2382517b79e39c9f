// Query defaults, validation and request building. No Grafana runtime here:
// template interpolation is passed in, so everything is unit-testable.
import { FORECAST_METRICS, getMetric } from './metrics.js';
import { QUERY_MODES, type OptiFiberQuery } from './types.js';

export const DEFAULT_QUERY: Omit<OptiFiberQuery, 'refId'> = { sites: [], metric: 'utilization', mode: 'history' };
/** Exporter's history limit (docs/api.md): (to - from) / step + 1 <= 11000 */
export const MAX_POINTS = 11000;
export const SITE_NAME_RE = /^[A-Za-z0-9_.-]{1,31}$/;

export function withDefaults(q: Partial<OptiFiberQuery> & { refId: string }): OptiFiberQuery {
  return { ...DEFAULT_QUERY, ...q, sites: Array.isArray(q.sites) ? q.sites : [] } as OptiFiberQuery;
}

/** Problems a user must fix before the query can run (empty = valid). */
export function validateQuery(q: OptiFiberQuery): string[] {
  const p: string[] = [];
  if (!QUERY_MODES.includes(q.mode)) p.push(`Unknown mode "${q.mode}": use history, live, forecast or events.`);
  if (!getMetric(q.metric)) p.push(`Unknown metric "${q.metric}".`);
  if (q.mode === 'forecast' && !FORECAST_METRICS.includes(q.metric)) {
    p.push(`The exporter forecasts ${FORECAST_METRICS.join(' and ')} only; "${q.metric}" has no forecast.`);
  }
  for (const s of q.sites) {
    if (!s.includes('$') && !SITE_NAME_RE.test(s)) p.push(`"${s}" is not a site name (1-31 of A-Z a-z 0-9 _ . -).`);
  }
  if (q.step && parseStepSeconds(q.step) === null) p.push(`Step "${q.step}" is not a duration (e.g. 15, 30s, 1m).`);
  return p;
}

/** Seconds from "15", "0.5", "30s", "1m", "1h30m", "500ms"; null when malformed. */
export function parseStepSeconds(step: string): number | null {
  const s = step.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) > 0 ? Number(s) : null;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(s))) {
    const mult = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 'ms'];
    total += Number(m[1]) * mult;
    consumed = re.lastIndex;
  }
  return consumed === s.length && total > 0 ? total : null;
}

/**
 * Expands the query's sites with template variables. `interpolate` is
 * templateSrv.replace(value, scopedVars, 'csv'); multi-value variables come
 * back comma-separated, "All" as every value.
 * Returns null for "all sites" (no filter).
 */
export function resolveSites(sites: string[], interpolate: (v: string) => string): string[] | null {
  const out = new Set<string>();
  for (const raw of sites) {
    const v = raw.includes('$') ? interpolate(raw) : raw;
    for (const part of v.split(',')) {
      const name = part.trim().replace(/^\{|\}$/g, '');
      if (name === '*' || name === '$__all') return null;
      if (name) out.add(name);
    }
  }
  return out.size ? [...out].sort() : null;
}

/** Query-string parameters of /api/v1/sites/{site}/history for a panel time range. */
export function historyParams(fromMs: number, toMs: number, intervalMs: number, step?: string): { from: string; to: string; step: string } {
  const spanS = Math.max(0.001, (toMs - fromMs) / 1000);
  let stepS = step ? parseStepSeconds(step) ?? 0 : Math.max(intervalMs / 1000, 0.001);
  // never ask for more points than the exporter allows
  stepS = Math.max(stepS, spanS / (MAX_POINTS - 1));
  return { from: (fromMs / 1000).toFixed(3), to: (toMs / 1000).toFixed(3), step: String(Math.round(stepS * 1000) / 1000) };
}

export function toQueryString(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}
