// Data of the weekly capacity report, all from Prometheus (plus the
// remediation audit log): see docs/reports.md for every definition.
import { readRemediationActions, type AuditRead } from './audit.js';
import { EmptyRangeError, PromClient, ReportError, type RangeSeries, type Sample } from './prom.js';
import { INVENTORY_METRIC } from './csv.js';
import { isoTime, type IsoWeek } from './util.js';

export const HOT_PEAK = 0.9; // "sites over 90 %"
export const HOT_P95 = 0.8;

export interface SiteWeek {
  site: string;
  instance: string;
  peak?: number; // utilization ratio
  p95?: number;
  minutesOver90: number;
  anomalyMinutes: number;
  linkDownMinutes: number;
  cmdModules?: number;
  cmdModulesMax?: number;
  capacityBps?: number; // bytes/s at the end
  osnrMin?: number;
  osnrAvg?: number;
  osnrFirstDay?: number;
  osnrLastDay?: number;
  berMax?: number;
  forecastP90MaxLastDay?: number;
  dailyOfferedAvg: number[]; // bytes/s, per day
  dailyOfferedPeak: number[]; // bytes/s, per day
  growthPerDay?: number; // fraction per day, from a log-linear fit
  growthR2?: number;
  projectedPeakNextWeek?: number; // utilization ratio at today's capacity
  reasoning?: string;
}

export interface ChartData {
  site: string;
  throughput: Sample[];
  throughputPeak: Sample[];
  capacity: Sample[];
  fcLo: Sample[];
  fcMid: Sample[];
  fcHi: Sample[];
}

export interface OpticalSeries {
  site: string;
  osnr: Sample[];
  ber: Sample[];
}

export interface WeeklyData {
  week: IsoWeek;
  from: number;
  to: number; // end of data (week end, or now for the current week)
  partial: boolean;
  generatedAt: number;
  prometheusUrl: string;
  sites: SiteWeek[]; // sorted by peak desc
  hot: ChartData[];
  optical: OpticalSeries[];
  capacityNext: SiteWeek[];
  audit: AuditRead;
}

export interface WeeklyOptions {
  prom: PromClient;
  week: IsoWeek;
  nowS: number;
  remediationDb: string;
  maxHotCharts?: number; // default 6
  maxOpticalSites?: number; // default 6
}

/** Optical readings only while the link is up (a down link reads OSNR 0 and BER 0.5). */
const UP = (sel: string) => `(${sel} and on(instance, job, site) optifiber_link_up == 1)`;

const key = (m: Record<string, string>) => `${m['site'] ?? ''}\0${m['instance'] ?? ''}`;

/** Least squares y = a + b x; returns slope, intercept and R^2. */
export function linearFit(xs: number[], ys: number[]): { a: number; b: number; r2: number } | undefined {
  const n = xs.length;
  if (n < 3) return undefined;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    syy += (ys[i]! - my) ** 2;
  }
  if (sxx === 0) return undefined;
  const b = sxy / sxx;
  return { a: my - b * mx, b, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

const pct = (v: number | undefined, d = 0) => (v === undefined ? 'n/a' : `${(v * 100).toFixed(d)} %`);

export async function gatherWeekly(o: WeeklyOptions): Promise<WeeklyData> {
  const { prom, week } = o;
  if (week.start >= o.nowS) throw new ReportError(`--week ${week.label} starts ${isoTime(week.start)}, in the future: there is no data yet (the last complete week is the default)`, 2);
  const partial = week.end > o.nowS;
  const to = partial ? Math.floor(o.nowS / 60) * 60 : week.end;
  const from = week.start;
  const R = `${to - from}s`;
  const at = to;

  const known = await prom.labelValues('site', INVENTORY_METRIC, from, to);
  if (known.length === 0) throw new EmptyRangeError(`no site data in Prometheus for ${week.label} (${isoTime(from)} .. ${isoTime(to)}): empty range, nothing was scraped then or it is outside retention`);

  const inst = async (q: string) => new Map((await prom.query(q, at)).map((s) => [key(s.metric), s.v] as const));
  const [peak, p95, over90, anomaly, down, cmd, cmdMax, cap, osnrMin, osnrAvg, berMax, fcP90] = await Promise.all([
    inst(`max_over_time(site:optifiber_utilization:ratio[${R}])`),
    inst(`quantile_over_time(0.95, site:optifiber_utilization:ratio[${R}])`),
    inst(`count_over_time((site:optifiber_utilization:ratio > ${HOT_PEAK})[${R}:1m])`),
    inst(`count_over_time((optifiber_anomaly_score >= on(instance, job, site) group_left optifiber_anomaly_score_threshold)[${R}:1m])`),
    inst(`count_over_time((optifiber_link_up == 0)[${R}:1m])`),
    inst(`last_over_time(optifiber_cmd_modules[${R}])`),
    inst(`last_over_time(optifiber_cmd_modules_max[${R}])`),
    inst(`last_over_time(optifiber_capacity_bytes_per_second[${R}])`),
    inst(`min_over_time(${UP('optifiber_osnr_db')}[${R}:1m])`),
    inst(`avg_over_time(${UP('optifiber_osnr_db')}[${R}:1m])`),
    inst(`max_over_time(${UP('optifiber_pre_fec_bit_error_ratio')}[${R}:1m])`),
    inst(`max_over_time(site:optifiber_forecast_utilization_p90:ratio[1d])`),
  ]);
  // Daily series (one point per day, at each day's end).
  const dayStep = 86400;
  const firstDayEnd = Math.min(to, from + dayStep);
  const daily = async (q: string) => {
    const m = new Map<string, Sample[]>();
    for (const s of await prom.queryRange(q, firstDayEnd, to, dayStep)) m.set(key(s.metric), s.values);
    return m;
  };
  const [offAvg, offPeak, osnrDaily] = await Promise.all([
    daily('avg_over_time(optifiber_offered_load_bytes_per_second[1d])'),
    daily('max_over_time(optifiber_offered_load_bytes_per_second[1d])'),
    daily(`avg_over_time(${UP('optifiber_osnr_db')}[1d:1m])`),
  ]);

  const keys = new Set<string>([...peak.keys(), ...cap.keys()]);
  const sites: SiteWeek[] = [...keys].map((k) => {
    const [site, instance] = k.split('\0') as [string, string];
    const avg = (offAvg.get(k) ?? []).map((s) => s.v);
    const pk = (offPeak.get(k) ?? []).map((s) => s.v);
    const od = (osnrDaily.get(k) ?? []).map((s) => s.v);
    const sw: SiteWeek = {
      site, instance,
      peak: peak.get(k), p95: p95.get(k),
      minutesOver90: over90.get(k) ?? 0, anomalyMinutes: anomaly.get(k) ?? 0, linkDownMinutes: down.get(k) ?? 0,
      cmdModules: cmd.get(k), cmdModulesMax: cmdMax.get(k), capacityBps: cap.get(k),
      osnrMin: osnrMin.get(k), osnrAvg: osnrAvg.get(k), osnrFirstDay: od[0], osnrLastDay: od[od.length - 1],
      berMax: berMax.get(k), forecastP90MaxLastDay: fcP90.get(k),
      dailyOfferedAvg: avg, dailyOfferedPeak: pk,
    };
    // Growth: log-linear fit of the daily mean offered load (demand, not
    // carried traffic, so congestion does not hide it).
    const pos = avg.map((v, i) => [i, v] as const).filter(([, v]) => v > 0);
    const fit = linearFit(pos.map(([i]) => i), pos.map(([, v]) => Math.log(v)));
    if (fit && sw.capacityBps && sw.capacityBps > 0 && pk.length > 0) {
      sw.growthPerDay = Math.exp(fit.b) - 1;
      sw.growthR2 = fit.r2;
      const lastPeak = pk[pk.length - 1]!;
      sw.projectedPeakNextWeek = (lastPeak * Math.exp(fit.b * 7)) / sw.capacityBps;
    }
    return sw;
  });
  sites.sort((a, b) => (b.peak ?? -1) - (a.peak ?? -1) || a.site.localeCompare(b.site));

  for (const s of sites) {
    const parts: string[] = [];
    if (s.growthPerDay !== undefined) parts.push(`demand ${s.growthPerDay >= 0 ? 'grew' : 'fell'} ${(Math.abs(s.growthPerDay) * 100).toFixed(1)} %/day over the week (log-linear fit of daily mean offered load, R² ${s.growthR2!.toFixed(2)})`);
    if (s.projectedPeakNextWeek !== undefined) parts.push(`at that rate next week's peak reaches ${pct(s.projectedPeakNextWeek)} of today's capacity`);
    if (s.forecastP90MaxLastDay !== undefined) parts.push(`the 15-min forecast p90 reached ${pct(s.forecastP90MaxLastDay)} on the last day`);
    if (s.cmdModules !== undefined && s.cmdModulesMax !== undefined) {
      const free = s.cmdModulesMax - s.cmdModules;
      parts.push(free > 0 ? `${free} of ${s.cmdModulesMax} CMD slots free (auto-remediation can add ${free === 1 ? 'one module' : 'modules'})` : `no free CMD slot: needs a chassis upgrade or a new span`);
    }
    s.reasoning = parts.join('; ') + '.';
  }
  const capacityNext = sites
    .filter((s) => s.projectedPeakNextWeek !== undefined)
    .sort((a, b) => b.projectedPeakNextWeek! - a.projectedPeakNextWeek!)
    .filter((s, i) => i < 5 || s.projectedPeakNextWeek! >= HOT_PEAK)
    .slice(0, 10);

  // Charts of the hot sites, 30-minute resolution.
  const step = 1800;
  const hotSites = sites.filter((s) => (s.peak ?? 0) >= HOT_PEAK || (s.p95 ?? 0) >= HOT_P95).slice(0, o.maxHotCharts ?? 6);
  const hot: ChartData[] = [];
  const sel = (s: SiteWeek) => `{site="${s.site.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}",instance="${s.instance.replace(/"/g, '\\"')}"}`;
  const one = (r: RangeSeries[]) => r[0]?.values ?? [];
  for (const s of hotSites) {
    const m = sel(s);
    const fq = (q: string) => `optifiber_forecast_throughput_bytes_per_second{${m.slice(1, -1)},percentile="${q}"}`;
    const [tp, tpk, c, lo, mid, hi] = await Promise.all([
      prom.queryRange(`avg_over_time(optifiber_throughput_bytes_per_second${m}[${step}s])`, from + step, to, step),
      prom.queryRange(`max_over_time(optifiber_throughput_bytes_per_second${m}[${step}s])`, from + step, to, step),
      prom.queryRange(`max_over_time(optifiber_capacity_bytes_per_second${m}[${step}s])`, from + step, to, step),
      // a forecast made at t predicts t + 15 min: `offset 15m` plots it at the time it predicts
      prom.queryRange(`min_over_time(${fq('10')}[${step}s] offset 15m)`, from + step, to, step),
      prom.queryRange(`avg_over_time(${fq('50')}[${step}s] offset 15m)`, from + step, to, step),
      prom.queryRange(`max_over_time(${fq('90')}[${step}s] offset 15m)`, from + step, to, step),
    ]);
    hot.push({ site: s.site, throughput: one(tp), throughputPeak: one(tpk), capacity: one(c), fcLo: one(lo), fcMid: one(mid), fcHi: one(hi) });
  }

  // Optical trends of the sites with the lowest OSNR, hourly.
  const worst = sites
    .filter((s) => s.osnrMin !== undefined)
    .sort((a, b) => a.osnrMin! - b.osnrMin!)
    .slice(0, o.maxOpticalSites ?? 6);
  const optical: OpticalSeries[] = [];
  for (const s of worst) {
    const m = sel(s);
    const [osnr, ber] = await Promise.all([
      prom.queryRange(`avg_over_time(${UP(`optifiber_osnr_db${m}`)}[1h:1m])`, from + 3600, to, 3600),
      prom.queryRange(`max_over_time(${UP(`optifiber_pre_fec_bit_error_ratio${m}`)}[1h:1m])`, from + 3600, to, 3600),
    ]);
    optical.push({ site: s.site, osnr: one(osnr), ber: one(ber) });
  }

  const audit = readRemediationActions(o.remediationDb, new Date(from * 1000).toISOString(), new Date(to * 1000).toISOString());
  return { week, from, to, partial, generatedAt: o.nowS, prometheusUrl: prom.base, sites, hot, optical, capacityNext, audit };
}
