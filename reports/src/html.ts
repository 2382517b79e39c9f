// The weekly capacity report as one HTML document (A4 portrait), printed
// to PDF by pdf.ts. Fonts: DejaVu Sans (Debian fonts-dejavu-core), which
// Chromium embeds as a subset in the PDF.
import { lineChart, esc } from './svg.js';
import { HOT_P95, HOT_PEAK, type SiteWeek, type WeeklyData } from './weekly.js';
import { isoTime } from './util.js';

const pct = (v: number | undefined, d = 0) => (v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(d)} %`);
const gbps = (bytesPerS: number) => (bytesPerS * 8) / 1e9;
const fmtG = (v: number) => (v === 0 ? '0' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const mins = (m: number) => (m >= 120 ? `${(m / 60).toFixed(1)} h` : `${Math.round(m)} min`);
const human = (s: number) => {
  const d = new Date(s * 1000);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
};
const ber = (v: number | undefined) => (v === undefined ? '–' : v === 0 ? '0' : v.toExponential(1));

function heat(v: number | undefined): string {
  if (v === undefined) return '';
  if (v >= HOT_PEAK) return ' class="hot"';
  if (v >= HOT_P95) return ' class="warm"';
  return '';
}

const CSS = `
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
* { box-sizing: border-box; }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 9.5pt; color: #1d2733; margin: 0; }
h1 { font-size: 20pt; margin: 0 0 2mm 0; color: #0b3d5c; }
h2 { break-after: avoid; font-size: 13pt; margin: 6mm 0 2mm 0; color: #0b3d5c; border-bottom: 1.5px solid #0b3d5c; padding-bottom: 1mm; }
h3 { font-size: 10.5pt; margin: 4mm 0 1mm 0; }
.meta { color: #555; font-size: 8.5pt; line-height: 1.5; }
.kpis { display: flex; gap: 3mm; margin: 5mm 0 3mm 0; }
.kpi { flex: 1; border: 1px solid #c9d3dc; border-radius: 2mm; padding: 3mm; background: #f5f8fa; }
.kpi .v { font-size: 18pt; font-weight: bold; color: #0b3d5c; }
.kpi .l { font-size: 8pt; color: #555; }
.kpi.alert .v { color: #b3261e; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
th { text-align: left; background: #0b3d5c; color: white; padding: 1.2mm 1.5mm; font-weight: bold; }
td { padding: 1mm 1.5mm; border-bottom: 1px solid #e1e6eb; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr { break-inside: avoid; }
tr:nth-child(even) td { background: #f7f9fb; }
td.hot { color: #b3261e; font-weight: bold; }
td.warm { color: #a15c00; font-weight: bold; }
.note { color: #555; font-size: 8pt; margin-top: 1.5mm; }
ul.summary li { margin-bottom: 1mm; }
.chart { break-inside: avoid; margin-bottom: 3mm; }
.page { break-before: page; }
.reason { font-size: 8pt; color: #333; }
.nw { white-space: nowrap; }
table.keep { break-inside: avoid; }
.ok { color: #1b6e3a; } .bad { color: #b3261e; } .neutral { color: #555; }
`;

function summaryBullets(d: WeeklyData): string[] {
  const over = d.sites.filter((s) => (s.peak ?? 0) > HOT_PEAK);
  const b: string[] = [];
  b.push(
    over.length === 0
      ? `No site exceeded ${pct(HOT_PEAK)} utilization this week.`
      : `${over.length} of ${d.sites.length} sites exceeded ${pct(HOT_PEAK)} utilization: ${over.map((s) => `<b>${esc(s.site)}</b> (peak ${pct(s.peak)}, ${mins(s.minutesOver90)} above)`).join(', ')}.`,
  );
  const down = d.sites.filter((s) => s.linkDownMinutes > 0).sort((a, b) => b.linkDownMinutes - a.linkDownMinutes);
  b.push(down.length === 0 ? 'No link outage was recorded.' : `Links were down for ${mins(down.reduce((s, x) => s + x.linkDownMinutes, 0))} in total, at ${down.length} site${down.length > 1 ? 's' : ''} (longest: ${esc(down[0]!.site)}, ${mins(down[0]!.linkDownMinutes)}).`);
  const an = d.sites.reduce((s, x) => s + x.anomalyMinutes, 0);
  b.push(`The anomaly model flagged ${mins(an)} of anomalous telemetry across the fleet.`);
  const acted = d.audit.actions.length;
  b.push(d.audit.available ? `The remediation service recorded ${acted} action${acted === 1 ? '' : 's'} (details on the remediation page).` : `Remediation history unavailable: ${esc(d.audit.error ?? '')}.`);
  const next = d.capacityNext.filter((s) => (s.projectedPeakNextWeek ?? 0) >= HOT_PEAK);
  b.push(next.length === 0 ? `No site is projected to exceed ${pct(HOT_PEAK)} next week.` : `Capacity needed soon: ${next.map((s) => `<b>${esc(s.site)}</b> (projected peak ${pct(s.projectedPeakNextWeek)})`).join(', ')}.`);
  return b;
}

function fleetTable(sites: SiteWeek[], limit = 30): string {
  const rows = sites.slice(0, limit).map(
    (s) => `<tr><td>${esc(s.site)}</td><td class="n"${heat(s.peak)}>${pct(s.peak, 1)}</td><td class="n"${heat(s.p95)}>${pct(s.p95, 1)}</td>
<td class="n">${s.minutesOver90 ? mins(s.minutesOver90) : '–'}</td><td class="n">${s.anomalyMinutes ? mins(s.anomalyMinutes) : '–'}</td>
<td class="n">${s.linkDownMinutes ? mins(s.linkDownMinutes) : '–'}</td><td class="n">${s.capacityBps !== undefined ? fmtG(gbps(s.capacityBps)) : '–'}</td>
<td class="n">${s.cmdModules ?? '–'} / ${s.cmdModulesMax ?? '–'}</td></tr>`,
  );
  const more = sites.length > limit ? `<p class="note">${sites.length - limit} more sites, all with a peak at or below ${pct(sites[limit - 1]!.peak, 1)}: see the daily CSV export.</p>` : '';
  return `<table${sites.length <= 30 ? ' class="keep"' : ''}><thead><tr><th>Site</th><th class="n">Peak util.</th><th class="n">p95 util.</th><th class="n">Time &gt; 90 %</th><th class="n">Anomalous</th><th class="n">Link down</th><th class="n">Capacity (Gbit/s)</th><th class="n">CMD modules</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}`;
}

const W = 700;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf'];

/** Page 1: title, data range, KPIs, summary bullets. */
function summarySection(d: WeeklyData): string {
  const over = d.sites.filter((s) => (s.peak ?? 0) > HOT_PEAK).length;
  const down = d.sites.reduce((s, x) => s + x.linkDownMinutes, 0);
  const an = d.sites.reduce((s, x) => s + x.anomalyMinutes, 0);
  return `<h1>OptiFiber weekly capacity report — ${esc(d.week.label)}</h1>
<div class="meta">Data range: <b>${human(d.from)}</b> to <b>${human(d.to)}</b>${d.partial ? ' (week in progress: data up to generation time)' : ''}<br>
Generated: ${human(d.generatedAt)} (${isoTime(d.generatedAt)}) from Prometheus ${esc(d.prometheusUrl)}<br>
Sites: ${d.sites.length}. Utilization = carried traffic / provisioned capacity.</div>
<div class="kpis">
<div class="kpi"><div class="v">${d.sites.length}</div><div class="l">sites reporting</div></div>
<div class="kpi${over ? ' alert' : ''}"><div class="v">${over}</div><div class="l">sites over 90 % utilization</div></div>
<div class="kpi${an ? ' alert' : ''}"><div class="v">${mins(an)}</div><div class="l">anomalous telemetry (site-minutes)</div></div>
<div class="kpi${down ? ' alert' : ''}"><div class="v">${mins(down)}</div><div class="l">link down (site-minutes)</div></div>
<div class="kpi"><div class="v">${d.audit.actions.length}</div><div class="l">remediation actions</div></div>
</div>
<h2>Summary</h2><ul class="summary">${summaryBullets(d).map((b) => `<li>${b}</li>`).join('')}</ul>
<h2>Sites most likely to need capacity next week</h2>`;
}

function capacityNextSection(d: WeeklyData): string {
  if (d.capacityNext.length === 0) return '<p>Not enough data for a growth fit (needs at least three days).</p>';
  return `<table><thead><tr><th>Site</th><th class="n">Peak this week</th><th class="n">Growth /day</th><th class="n">Projected peak</th><th>Reasoning</th></tr></thead><tbody>${d.capacityNext
    .map((s) => `<tr><td>${esc(s.site)}</td><td class="n"${heat(s.peak)}>${pct(s.peak)}</td><td class="n">${s.growthPerDay !== undefined ? `${s.growthPerDay >= 0 ? '+' : ''}${(s.growthPerDay * 100).toFixed(1)} %` : '–'}</td><td class="n"${heat(s.projectedPeakNextWeek)}>${pct(s.projectedPeakNextWeek)}</td><td class="reason">${esc(s.reasoning ?? '')}</td></tr>`)
    .join('')}</tbody></table>
<p class="note">Projection: the last day's peak offered load grown for 7 days at the fitted daily rate, divided by today's capacity. It assumes the week's growth continues and no module is added.</p>`;
}

/** One chart per hot site: throughput vs capacity with the forecast band. */
function hotSection(d: WeeklyData): string[] {
  const parts = [`<h2>Hot sites: throughput vs capacity</h2>`];
  if (d.hot.length === 0) parts.push(`<p>No site reached ${pct(HOT_PEAK)} peak or ${pct(HOT_P95)} p95 utilization this week.</p>`);
  for (const h of d.hot) {
    const s = d.sites.find((x) => x.site === h.site)!;
    const g = (pts: { t: number; v: number }[]) => pts.map((p) => ({ t: p.t, v: gbps(p.v) }));
    parts.push(`<div class="chart"><h3>${esc(h.site)} — peak ${pct(s.peak)}, p95 ${pct(s.p95)}, ${s.minutesOver90 ? mins(s.minutesOver90) + ' above 90 %' : 'never above 90 %'}</h3>${lineChart({
      width: W, height: 210, from: d.from, to: d.to, yLabel: 'Gbit/s', yFormat: fmtG, yMin: 0,
      // a forecast spike (after a fault) must not flatten the chart: clip the band
      yMax: Math.max(...[...h.capacity, ...h.throughputPeak].map((p) => gbps(p.v)).filter(Number.isFinite), 0) * 1.1,
      band: { name: 'forecast p10–p90 (15 min ahead)', color: '#f39c12', lo: g(h.fcLo), hi: g(h.fcHi) },
      lines: [
        { name: 'throughput (30-min mean)', color: '#1f77b4', points: g(h.throughput), width: 1.3 },
        { name: '30-min peak', color: '#8fbbe0', points: g(h.throughputPeak), width: 0.8 },
        { name: 'capacity', color: '#b3261e', points: g(h.capacity), step: true, width: 1.8, dash: '6 3' },
      ],
    })}</div>`);
  }
  return parts;
}

/** OSNR and BER charts of the worst sites, then the OSNR table. */
function opticalSection(d: WeeklyData): string[] {
  const parts = [`<h2 class="page">Optical health trends</h2><p>The ${d.optical.length} sites with the lowest OSNR this week, hourly.</p>`];
  parts.push(`<div class="chart"><h3>OSNR (hourly mean, dB)</h3>${lineChart({
    width: W, height: 200, from: d.from, to: d.to, yLabel: 'dB', yFormat: (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)),
    lines: d.optical.map((o, i) => ({ name: o.site, color: COLORS[i % COLORS.length]!, points: o.osnr })),
  })}</div>`);
  parts.push(`<div class="chart"><h3>Pre-FEC bit error ratio (hourly max, log scale)</h3>${lineChart({
    width: W, height: 200, from: d.from, to: d.to, yLabel: 'BER', yFormat: (v) => v.toExponential(0), log: true,
    lines: d.optical.map((o, i) => ({ name: o.site, color: COLORS[i % COLORS.length]!, points: o.ber })),
  })}</div>`);
  const optRows = d.sites
    .filter((s) => s.osnrMin !== undefined)
    .sort((a, b) => a.osnrMin! - b.osnrMin!)
    .slice(0, 15)
    .map((s) => {
      const tr = s.osnrFirstDay !== undefined && s.osnrLastDay !== undefined ? s.osnrLastDay - s.osnrFirstDay : undefined;
      const cls = tr === undefined ? 'neutral' : tr < -0.5 ? 'bad' : tr > 0.5 ? 'ok' : 'neutral';
      return `<tr><td>${esc(s.site)}</td><td class="n">${s.osnrMin!.toFixed(1)}</td><td class="n">${s.osnrAvg?.toFixed(1) ?? '–'}</td><td class="n ${cls}">${tr === undefined ? '–' : `${tr >= 0.05 ? '+' : tr <= -0.05 ? '−' : '±'}${Math.abs(tr).toFixed(1)} dB`}</td><td class="n">${ber(s.berMax)}</td></tr>`;
    });
  parts.push(`<table><thead><tr><th>Site</th><th class="n">Min OSNR (dB)</th><th class="n">Mean OSNR (dB)</th><th class="n">OSNR first → last day</th><th class="n">Max pre-FEC BER</th></tr></thead><tbody>${optRows.join('')}</tbody></table>`);
  return parts;
}

function auditRow(a: WeeklyData['audit']['actions'][number]): string {
  const why = a.summary ?? a.alertname;
  const outcome = a.result ?? a.state;
  const mod = a.modulesBefore !== null && a.modulesAfter !== null ? `CMD modules ${a.modulesBefore} → ${a.modulesAfter}` : '';
  const approver = a.approvedBy ? `${esc(a.approvedBy)}${a.approvedAt ? `<br><span class="note">${esc(a.approvedAt.slice(0, 16).replace('T', ' '))}</span>` : ''}` : a.mode === 'auto' ? 'automatic (policy)' : a.mode === 'dry_run' ? 'dry run' : '–';
  return `<tr><td class="nw">${esc(a.createdAt.slice(0, 16).replace('T', ' '))}</td><td class="nw">${esc(a.site)}</td><td>${esc(why)}<br><span class="note">${esc(a.alertname)}${a.reason ? ': ' + esc(a.reason) : ''}</span></td><td class="${outcome === 'succeeded' ? 'ok' : outcome === 'failed' || outcome === 'aborted' ? 'bad' : 'neutral'}">${esc(outcome)}${mod ? `<br><span class="note nw">${esc(mod)}</span>` : ''}</td><td>${approver}</td></tr>`;
}

function remediationSection(d: WeeklyData): string {
  if (!d.audit.available) return `<p>${esc(d.audit.error ?? 'audit log unavailable')}</p>`;
  if (d.audit.actions.length === 0) return `<p>No remediation action was recorded in this range (audit log ${esc(d.audit.path)}).</p>`;
  return `<table><thead><tr><th>When (UTC)</th><th>Site</th><th>Why</th><th>Outcome</th><th>Approver</th></tr></thead><tbody>${d.audit.actions
    .map(auditRow)
    .join('')}</tbody></table><p class="note">From the remediation audit log ${esc(d.audit.path)}.</p>`;
}

const HOW_TO_READ = `<h2>How to read this report</h2><ul class="note">
<li>Utilization: carried / provisioned (recording rule site:optifiber_utilization:ratio). Peak = highest sample, p95 = 95th percentile of the week's samples.</li>
<li>Anomalous minutes: minutes with optifiber_anomaly_score at or above the site's optifiber_anomaly_score_threshold. Link-down minutes: minutes with optifiber_link_up = 0.</li>
<li>Forecast band: the exporter's 15-minute forecast (p10–p90), plotted at the time it predicts.</li>
<li>Capacity next week: growth of daily mean offered load (log-linear least-squares fit over the week), applied to the last day's peak, against today's capacity.</li>
</ul></body></html>`;

export function renderWeeklyHtml(d: WeeklyData): string {
  return [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>OptiFiber weekly capacity report ${esc(d.week.label)}</title><style>${CSS}</style></head><body>`,
    summarySection(d),
    capacityNextSection(d),
    `<h2>Fleet summary</h2>${fleetTable(d.sites)}
<p class="note">Peak and p95 of site:optifiber_utilization:ratio over the range; time &gt; 90 % and the minute counts are sampled once per minute. Anomalous: anomaly score at or above the site threshold. Red: ≥ 90 %, amber: ≥ 80 %.</p>`,
    ...hotSection(d),
    ...opticalSection(d),
    `<h2 class="page">Remediation actions</h2>`,
    remediationSection(d),
    HOW_TO_READ,
  ].join('\n');
}
