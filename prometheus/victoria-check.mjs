// The fleet metrics store answers like Prometheus (issue 13, item 4): every
// expression of the fleet dashboard and every recording rule's output,
// queried from Prometheus and from VictoriaMetrics (fed by Prometheus'
// remote_write), must give the same series with the same values, and
// `optifiber report csv` must write the same file from either URL.
// Used by prometheus/e2e.mjs; returns [{name, ok, why}] and INFO lines.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRules } from '../scripts/lib/rules-yaml.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every PromQL expression of the provisioned fleet dashboard, once each. */
export function fleetDashboardExpressions() {
  const d = JSON.parse(readFileSync(join(ROOT, 'provisioning', 'dashboards', 'optifiber-fleet.json'), 'utf8'));
  const out = new Set();
  const walk = (/** @type {any[]} */ panels) => {
    for (const p of panels) {
      if (p.panels) walk(p.panels);
      for (const t of p.targets ?? []) if (t.expr) out.add(t.expr);
    }
  };
  walk(d.panels);
  return [...out];
}

/** Every `record:` name of the checked-in recording rules. */
export function recordedSeries() {
  return readRules(join(ROOT, 'prometheus', 'rules', 'optifiber-recording.yml')).filter((r) => r.kind === 'record').map((r) => r.name);
}

/** @param {string} url */
async function getJson(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(10000) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

/**
 * Instant vector at `at` (s) as Map(labels without the external ones -> value).
 * @param {string} base @param {string} expr @param {number} at @param {string[]} drop
 */
async function instant(base, expr, at, drop) {
  const j = await getJson(`${base}/api/v1/query?query=${encodeURIComponent(expr)}&time=${at}`);
  const m = new Map();
  for (const r of j.data.result) {
    const labels = Object.fromEntries(Object.entries(r.metric).filter(([k]) => !drop.includes(k)).sort(([a], [b]) => a.localeCompare(b)));
    m.set(JSON.stringify(labels), Number(r.value[1]));
  }
  return m;
}

/** @param {number} a @param {number} b */
const same = (a, b) => (Number.isNaN(a) && Number.isNaN(b)) || a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));

/**
 * Compares one expression at several instants; '' when equal, else why not.
 * @param {string} promUrl @param {string} vmUrl @param {string} expr @param {number[]} times @param {string[]} externalLabels
 */
export async function compareExpr(promUrl, vmUrl, expr, times, externalLabels) {
  let series = 0;
  for (const at of times) {
    const [p, v] = await Promise.all([instant(promUrl, expr, at, []), instant(vmUrl, expr, at, externalLabels)]);
    const missing = [...p.keys()].filter((k) => !v.has(k));
    const extra = [...v.keys()].filter((k) => !p.has(k));
    const differ = [...p.keys()].filter((k) => v.has(k) && !same(p.get(k), v.get(k)));
    if (missing.length || extra.length || differ.length) {
      return { why: `at ${at}: ${missing.length} series missing in VictoriaMetrics (${missing.slice(0, 2).join(' ')}), ${extra.length} extra (${extra.slice(0, 2).join(' ')}), ${differ.length} values differ (${differ.slice(0, 2).map((k) => `${k}: ${p.get(k)} vs ${v.get(k)}`).join('; ')})`, series };
    }
    series += p.size;
  }
  return { why: '', series };
}

/**
 * `optifiber report csv` over [from, to] from a URL; the CSV text.
 * @param {string} url @param {number} from @param {number} to @param {string} step @param {string} out
 */
export function reportCsv(url, from, to, step, out) {
  const r = spawnSync(process.execPath, [join(ROOT, 'cli', 'bin', 'optifiber.mjs'), 'report', 'csv', '--from', new Date(from * 1000).toISOString(), '--to', new Date(to * 1000).toISOString(),
    '--step', step, '--out', out, '--prometheus.url', url], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`optifiber report csv --prometheus.url ${url}: exit ${r.status}: ${r.stderr || r.stdout}`);
  return readFileSync(out, 'utf8');
}

/** ISO 8601 week of a time (UTC), as `optifiber report pdf --week` takes it. @param {Date} d */
export function isoWeek(d) {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day); // the Thursday of this week decides its year
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86400000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/**
 * `optifiber report pdf` for one ISO week from a URL: checks a PDF was written
 * and returns the HTML it rendered, with the source URL and the generation
 * time taken out (the only things that may differ between the two stores).
 * @param {string} url @param {string} week @param {string} dir @param {string} name @param {number} [nowS] the reports' "now" (SOURCE_DATE_EPOCH)
 */
export function reportPdf(url, week, dir, name, nowS = Math.floor(Date.now() / 1000)) {
  const out = join(dir, `${name}.pdf`);
  const html = join(dir, `${name}.html`);
  const r = spawnSync(process.execPath, [join(ROOT, 'cli', 'bin', 'optifiber.mjs'), 'report', 'pdf', '--week', week, '--out', out, '--html.out', html,
    '--prometheus.url', url, '--remediation.db', join(dir, 'no-remediation.db')], { encoding: 'utf8', timeout: 120000, env: { ...process.env, SOURCE_DATE_EPOCH: String(nowS) } });
  if (r.status !== 0) throw new Error(`optifiber report pdf --prometheus.url ${url}: exit ${r.status}: ${r.stderr || r.stdout}`);
  if (readFileSync(out).subarray(0, 5).toString() !== '%PDF-') throw new Error(`${out} is not a PDF`);
  return readFileSync(html, 'utf8').replaceAll(url, '<source>').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z?/g, '<time>');
}

/**
 * Cell-by-cell comparison of two CSVs of `optifiber report csv`; '' when the
 * header, the rows (timestamp, site, instance) and every value agree.
 * @param {string} a @param {string} b
 */
export function compareCsv(a, b) {
  const la = a.trim().split('\r\n');
  const lb = b.trim().split('\r\n');
  if (la[0] !== lb[0]) return 'headers differ';
  if (la.length !== lb.length) return `${la.length - 1} rows from Prometheus, ${lb.length - 1} from VictoriaMetrics`;
  const header = la[0].split(',');
  for (let i = 1; i < la.length; i++) {
    const x = la[i].split(',');
    const y = lb[i].split(',');
    for (let c = 0; c < header.length; c++) {
      if (x[c] === y[c]) continue;
      const [nx, ny] = [Number(x[c]), Number(y[c])];
      if (x[c] !== '' && y[c] !== '' && same(nx, ny)) continue;
      return `row ${i} (${x.slice(0, 2).join(' ')}), column ${header[c]}: '${x[c]}' from Prometheus, '${y[c]}' from VictoriaMetrics`;
    }
  }
  return '';
}

/**
 * All checks against a Prometheus that remote_writes to VictoriaMetrics.
 * `times`: instants (s) at least one remote-write deadline plus the
 * VictoriaMetrics latency offset in the past, inside both stores' data.
 * @param {{promUrl: string, vmUrl: string, times: number[], externalLabels: string[], csv?: {from: number, to: number, step: string, dir: string, site?: string}}} o
 * @returns {Promise<{results: {name: string, ok: boolean, why?: string}[], info: string[]}>}
 */
export async function checkVictoriaMetrics(o) {
  const results = [];
  const info = [];
  const run = async (/** @type {string} */ what, /** @type {string[]} */ exprs) => {
    const bad = [];
    let series = 0;
    const empty = [];
    for (const e of exprs) {
      const r = await compareExpr(o.promUrl, o.vmUrl, e, o.times, o.externalLabels).catch((err) => ({ why: String(err.message ?? err), series: 0 }));
      series += r.series;
      if (r.why) bad.push(`${e}: ${r.why}`);
      else if (r.series === 0) empty.push(e);
    }
    // An expression without data in this run (the forecast needs an hour of a
    // site's clock) is only checked to be empty in both; most must have data.
    results.push({ name: `VictoriaMetrics answers every ${what} like Prometheus (${exprs.length - empty.length} of ${exprs.length} expressions with data x ${o.times.length} instants, ${series} series compared, external labels ${o.externalLabels.join(',')} aside${empty.length ? `; empty in both: ${empty.join(', ')}` : ''})`,
      ok: bad.length === 0 && empty.length <= exprs.length / 3, why: bad.length ? bad.slice(0, 4).join(' | ') : `${empty.length} of ${exprs.length} expressions have no data` });
  };
  await run('fleet dashboard expression', fleetDashboardExpressions());
  await run('recording rule output', recordedSeries());
  if (o.csv) {
    try {
      const p = reportCsv(o.promUrl, o.csv.from, o.csv.to, o.csv.step, join(o.csv.dir, 'prometheus.csv'));
      const v = reportCsv(o.vmUrl, o.csv.from, o.csv.to, o.csv.step, join(o.csv.dir, 'victoria.csv'));
      const why = compareCsv(p, v);
      const rows = p.trim().split('\r\n').length - 1;
      results.push({ name: `optifiber report csv --prometheus.url <VictoriaMetrics> writes the same ${rows} rows as from Prometheus (step ${o.csv.step})`, ok: rows > 0 && !why, why: why || 'no rows' });
    } catch (e) {
      results.push({ name: 'optifiber report csv against VictoriaMetrics', ok: false, why: String(/** @type {Error} */ (e).message ?? e) });
    }
    try {
      const week = isoWeek(new Date(o.csv.to * 1000));
      // one "now" for both (SOURCE_DATE_EPOCH): a week in progress ends at the generation minute
      const nowS = Math.floor(Date.now() / 1000);
      const p = reportPdf(o.promUrl, week, o.csv.dir, 'prometheus', nowS);
      const v = reportPdf(o.vmUrl, week, o.csv.dir, 'victoria', nowS);
      const at = [...p].findIndex((c, i) => c !== v[i]);
      results.push({ name: `optifiber report pdf --prometheus.url <VictoriaMetrics> renders the same report as from Prometheus (week ${week}, ${p.length} characters of HTML)`,
        ok: p === v && (o.csv.site === undefined || p.includes(o.csv.site)), why: o.csv.site !== undefined && !p.includes(o.csv.site) ? `the report does not mention ${o.csv.site}` : at >= 0 ? `first difference at ${at}: ${JSON.stringify(p.slice(Math.max(0, at - 80), at + 80))} vs ${JSON.stringify(v.slice(Math.max(0, at - 80), at + 80))}` : 'empty' });
    } catch (e) {
      results.push({ name: 'optifiber report pdf against VictoriaMetrics', ok: false, why: String(/** @type {Error} */ (e).message ?? e) });
    }
  }
  return { results, info };
}
