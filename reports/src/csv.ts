// `optifiber report csv`: per-site statistics from Prometheus, one row per
// (step, site, instance), streamed to disk chunk by chunk.
//
// Memory: the time range is cut into chunks of at most `pointsPerChunk /
// sites` steps; each chunk issues one query_range per column for all
// (selected) sites, its rows are written in order and the chunk is dropped
// before the next one is fetched. A month of 1,000 sites at 5 m is ~8.6 M
// rows but never more than one chunk (default 50,000 points per column) in
// memory. Output goes to a temp file renamed over --out only on success.
//
// Columns and units: see CSV_COLUMNS and docs/reports.md.
import type { Writable } from 'node:stream';
import { EmptyRangeError, PromClient, ReportError, promRegexEscape, type RangeSeries } from './prom.js';
import { AtomicFile, isoTime } from './util.js';

export interface CsvColumn {
  /** Header name: the unit is part of the name (Prometheus naming). */
  name: string;
  /** Meaning, for docs and --help. */
  help: string;
  /** PromQL; `$sel` is replaced by the site matcher, `$step` by the step ("300s"). */
  expr?: string;
}

export const CSV_KEY_COLUMNS: CsvColumn[] = [
  { name: 'timestamp', help: 'end of the step window, RFC 3339 UTC; each row covers (timestamp - step, timestamp]' },
  { name: 'site', help: 'site name (label site)' },
  { name: 'instance', help: 'exporter that reported the site (label instance)' },
];

export const CSV_VALUE_COLUMNS: CsvColumn[] = [
  { name: 'throughput_avg_bytes_per_second', help: 'mean carried traffic over the window, bytes/s', expr: 'avg_over_time(optifiber_throughput_bytes_per_second$sel[$step])' },
  { name: 'throughput_max_bytes_per_second', help: 'highest carried traffic sample in the window, bytes/s', expr: 'max_over_time(optifiber_throughput_bytes_per_second$sel[$step])' },
  { name: 'offered_load_avg_bytes_per_second', help: 'mean offered demand over the window, bytes/s', expr: 'avg_over_time(optifiber_offered_load_bytes_per_second$sel[$step])' },
  { name: 'capacity_bytes_per_second', help: 'provisioned capacity at the end of the window, bytes/s', expr: 'last_over_time(optifiber_capacity_bytes_per_second$sel[$step])' },
  { name: 'utilization_avg_ratio', help: 'mean utilization (carried/capacity, recording rule site:optifiber_utilization:ratio), 0..1', expr: 'avg_over_time(site:optifiber_utilization:ratio$sel[$step])' },
  { name: 'utilization_max_ratio', help: 'peak utilization in the window, 0..1', expr: 'max_over_time(site:optifiber_utilization:ratio$sel[$step])' },
  { name: 'cmd_modules', help: 'CMD modules in service at the end of the window, count', expr: 'last_over_time(optifiber_cmd_modules$sel[$step])' },
  { name: 'cmd_modules_max', help: 'CMD module slots in the chassis, count', expr: 'last_over_time(optifiber_cmd_modules_max$sel[$step])' },
  { name: 'link_up_avg_ratio', help: 'fraction of samples with the link up (1 = up the whole window), 0..1', expr: 'avg_over_time(optifiber_link_up$sel[$step])' },
  { name: 'osnr_min_db', help: 'lowest OSNR in the window, dB (0.1 nm reference bandwidth)', expr: 'min_over_time(optifiber_osnr_db$sel[$step])' },
  { name: 'osnr_avg_db', help: 'mean OSNR over the window, dB', expr: 'avg_over_time(optifiber_osnr_db$sel[$step])' },
  { name: 'pre_fec_ber_max_ratio', help: 'highest pre-FEC bit error ratio in the window, 0..1', expr: 'max_over_time(optifiber_pre_fec_bit_error_ratio$sel[$step])' },
  { name: 'anomaly_score_max', help: 'highest anomaly score in the window, 0..1 (empty without the anomaly model)', expr: 'max_over_time(optifiber_anomaly_score$sel[$step])' },
  { name: 'forecast_utilization_p50_ratio', help: 'median 15-minute utilization forecast at the end of the window, 0..1 (empty without the forecast model)', expr: 'last_over_time(site:optifiber_forecast_utilization_p50:ratio$sel[$step])' },
  { name: 'forecast_utilization_p90_ratio', help: 'p90 15-minute utilization forecast at the end of the window, 0..1', expr: 'last_over_time(site:optifiber_forecast_utilization_p90:ratio$sel[$step])' },
];

export const CSV_COLUMNS = [...CSV_KEY_COLUMNS, ...CSV_VALUE_COLUMNS];
export const CSV_HEADER = CSV_COLUMNS.map((c) => c.name).join(',');

/** The site-inventory metric: a site exists in a range when this has a sample there. */
export const INVENTORY_METRIC = 'optifiber_throughput_bytes_per_second';

/** RFC 4180 field: quoted when it contains a comma, quote, CR or LF; quotes doubled. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Numbers: shortest round-trip decimal; NaN/Inf as Prometheus spells them; missing as empty. */
export function csvNumber(v: number | undefined): string {
  if (v === undefined) return '';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function siteSelector(sites: string[] | undefined): string {
  if (!sites || sites.length === 0) return '';
  return `{site=~"${sites.map(promRegexEscape).join('|')}"}`;
}

export function columnExpr(c: CsvColumn, sites: string[] | undefined, stepS: number): string {
  return c.expr!.replaceAll('$sel', siteSelector(sites)).replaceAll('$step', `${stepS}s`);
}

export interface CsvExportOptions {
  prom: PromClient;
  from: number; // unix s
  to: number; // unix s
  step: number; // s
  sites?: string[];
  out: string;
  /** Points per column per chunk (all sites x steps). Default 50000. */
  pointsPerChunk?: number;
  /** Parallel queries per chunk. Default 4. */
  concurrency?: number;
  onChunk?: (info: { chunk: number; chunks: number; rows: number }) => void;
}

export interface CsvExportResult {
  path: string;
  rows: number;
  sites: string[];
  chunks: number;
  steps: number;
}

export function validateRange(from: number, to: number, step: number): number {
  if (!(to > from)) throw new ReportError(`--from (${isoTime(from)}) must be before --to (${isoTime(to)})`, 2);
  if (step > to - from) throw new ReportError(`--step ${step}s is longer than the range ${isoTime(from)} .. ${isoTime(to)}`, 2);
  const steps = Math.floor((to - from) / step) + 1;
  if (steps > 10_000_000) throw new ReportError(`--step ${step}s gives ${steps} rows per site; use a larger step`, 2);
  return steps;
}

/** Sites with data in [from, to] and, when a selection is given, checks it. */
export async function resolveSites(prom: PromClient, from: number, to: number, wanted: string[] | undefined): Promise<string[]> {
  const known = await prom.labelValues('site', INVENTORY_METRIC, from, to);
  if (known.length === 0) throw new EmptyRangeError(`no site data in Prometheus between ${isoTime(from)} and ${isoTime(to)} (empty range: nothing scraped then, or outside retention)`);
  if (!wanted || wanted.length === 0) return known;
  const set = new Set(known);
  const unknown = wanted.filter((s) => !set.has(s));
  if (unknown.length > 0) {
    const list = known.length > 20 ? `${known.slice(0, 20).join(', ')}, ... (${known.length} sites)` : known.join(', ');
    throw new ReportError(`unknown site${unknown.length > 1 ? 's' : ''} ${unknown.map((s) => JSON.stringify(s)).join(', ')}: no data between ${isoTime(from)} and ${isoTime(to)}; known sites: ${list}`, 2);
  }
  return [...new Set(wanted)].sort();
}

async function writeOut(w: Writable, s: string): Promise<void> {
  if (!w.write(s)) await new Promise<void>((resolve, reject) => {
    const onErr = (e: Error) => reject(e);
    w.once('error', onErr);
    w.once('drain', () => {
      w.off('error', onErr);
      resolve();
    });
  });
}

async function pool<T, R>(items: T[], n: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * Writes the CSV atomically. Rows are ordered by timestamp, then site, then
 * instance; a row is written when at least one value column has data.
 */
export async function exportCsv(o: CsvExportOptions): Promise<CsvExportResult> {
  const steps = validateRange(o.from, o.to, o.step);
  const sites = await resolveSites(o.prom, o.from, o.to, o.sites);
  const selection = o.sites && o.sites.length > 0 ? sites : undefined;
  const budget = o.pointsPerChunk ?? 50_000;
  // Prometheus refuses more than 11,000 points per series per query.
  const stepsPerChunk = Math.max(1, Math.min(11_000, Math.floor(budget / Math.max(1, sites.length))));
  const chunks = Math.ceil(steps / stepsPerChunk);
  const exprs = CSV_VALUE_COLUMNS.map((c) => columnExpr(c, selection, o.step));
  const nv = CSV_VALUE_COLUMNS.length;

  const file = new AtomicFile(o.out);
  const ws = file.stream();
  let streamError: Error | undefined;
  ws.on('error', (e) => (streamError = e));
  let rows = 0;
  try {
    await writeOut(ws, CSV_HEADER + '\r\n');
    for (let k = 0; k < chunks; k++) {
      const cs = o.from + k * stepsPerChunk * o.step;
      const ce = o.from + Math.min(steps - 1, (k + 1) * stepsPerChunk - 1) * o.step;
      const results: RangeSeries[][] = await pool(exprs, o.concurrency ?? 4, (q) => o.prom.queryRange(q, cs, ce, o.step));
      // t -> "site\0instance" -> values
      const byT = new Map<number, Map<string, (number | undefined)[]>>();
      results.forEach((series, col) => {
        for (const s of series) {
          const site = s.metric['site'];
          if (site === undefined) continue;
          const key = `${site}\0${s.metric['instance'] ?? ''}`;
          for (const { t, v } of s.values) {
            let m = byT.get(t);
            if (!m) byT.set(t, (m = new Map()));
            let row = m.get(key);
            if (!row) m.set(key, (row = new Array<number | undefined>(nv).fill(undefined)));
            row[col] = v;
          }
        }
      });
      const ts = [...byT.keys()].sort((a, b) => a - b);
      let chunkRows = 0;
      for (const t of ts) {
        const m = byT.get(t)!;
        const keys = [...m.keys()].sort();
        let buf = '';
        const stamp = isoTime(t);
        for (const key of keys) {
          const [site, instance] = key.split('\0') as [string, string];
          buf += `${stamp},${csvField(site)},${csvField(instance)},${m.get(key)!.map(csvNumber).join(',')}\r\n`;
          chunkRows++;
        }
        await writeOut(ws, buf);
        if (streamError) throw streamError;
      }
      rows += chunkRows;
      byT.clear();
      o.onChunk?.({ chunk: k + 1, chunks, rows });
    }
    await new Promise<void>((resolve, reject) => ws.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (streamError) throw streamError;
    if (rows === 0) throw new EmptyRangeError(`no data rows between ${isoTime(o.from)} and ${isoTime(o.to)} for ${selection ? selection.join(', ') : 'any site'} (empty range)`);
    await file.commit();
  } catch (e) {
    ws.destroy();
    file.abort();
    if (e instanceof ReportError) throw e;
    throw new ReportError(`writing ${o.out} failed: ${(e as Error).message}`);
  }
  return { path: file.path, rows, sites, chunks, steps };
}
