// `optifiber report ...`: the CSV export, the weekly PDF and the scheduler.
//
//   optifiber report csv --from T --to T [--step 5m] [--sites a,b] --out FILE [--prometheus.url URL]
//   optifiber report pdf [--week YYYY-Www] --out FILE [--prometheus.url URL] [--remediation.db PATH]
//   optifiber report schedule [--dir var/reports] [--listen 127.0.0.1:9890] [--prometheus.url URL]
//
// Exit codes: 0 done, 2 bad input (usage, bad time/step/week, unknown site,
// week in the future), 1 failure (Prometheus unreachable, empty range,
// rendering or disk error). Nothing is written unless the whole report was:
// output goes to a temp file in the target's directory, renamed at the end.
import { parseListenAddress } from '@optifiber/exporter/config/validators';
import { createLogger, type Level } from '@optifiber/exporter/log/logger';
import { exportCsv, CSV_COLUMNS } from './csv.js';
import { renderWeeklyHtml } from './html.js';
import { htmlToPdf } from './pdf.js';
import { PromClient, ReportError } from './prom.js';
import { startReportScheduler } from './scheduler.js';
import { isoTime, lastCompleteWeek, parseIsoWeek, parseStep, parseTime } from './util.js';
import { gatherWeekly } from './weekly.js';
import { writeFileSync } from 'node:fs';

export const DEFAULT_PROMETHEUS_URL = 'http://127.0.0.1:9090';
export const DEFAULT_REMEDIATION_DB = 'var/remediation/remediation.db';

export interface ReportIo {
  env?: NodeJS.ProcessEnv;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
  now?: () => number; // ms
}

const FLAGS: Record<string, string[]> = {
  csv: ['--from', '--to', '--step', '--sites', '--out', '--prometheus.url', '--chunk.points'],
  pdf: ['--week', '--out', '--prometheus.url', '--remediation.db', '--chromium', '--html.out'],
  schedule: ['--dir', '--listen', '--prometheus.url', '--remediation.db', '--daily.step', '--retention.daily', '--retention.weekly', '--log.level'],
};

export function reportHelp(): string {
  return `usage: optifiber report <csv|pdf|schedule> [flags]

  csv       per-site statistics from Prometheus, one row per site and step
            --from TIME (required)  --to TIME (default now)  --step DURATION (default 5m)
            --sites a,b,...  (default: every site with data)  --out FILE (required)
  pdf       weekly capacity report (fleet summary, hot-site charts, optical health,
            remediation actions, capacity next week)
            --week YYYY-Www (default: the last complete ISO week, UTC)  --out FILE (required)
            --remediation.db PATH (default ${DEFAULT_REMEDIATION_DB})  --chromium PATH (default /usr/bin/chromium)
            --html.out FILE (also keep the HTML)
  schedule  run the daily CSV (00:10 UTC, previous day) and the weekly PDF (Monday 00:30 UTC,
            previous week) into --dir (default var/reports) with retention, and serve
            /metrics on --listen (default 127.0.0.1:9890)
            --retention.daily DAYS (default 35)  --retention.weekly WEEKS (default 26)

  common    --prometheus.url URL (default $OPTIFIBER_PROMETHEUS_URL or ${DEFAULT_PROMETHEUS_URL})
            $SOURCE_DATE_EPOCH (unix seconds): csv and pdf take it as "now", so the
            same data renders the same report (reproducible-builds.org)

TIME: RFC 3339 (2026-11-20T00:00:00Z), a date (2026-11-20 = 00:00 UTC), unix seconds, now, now-1d.
DURATION: 30s, 5m, 1h, 1d.
CSV columns (units in the names; docs/reports.md):
${CSV_COLUMNS.map((c) => `  ${c.name.padEnd(34)} ${c.help}`).join('\n')}
`;
}

function parseFlags(sub: string, argv: string[]): Map<string, string> {
  const allowed = new Set(FLAGS[sub]);
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new ReportError(`unexpected argument ${JSON.stringify(a)}`, 2);
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(0, eq) : a;
    if (!allowed.has(name)) throw new ReportError(`unknown flag ${name} for "report ${sub}" (optifiber report --help lists the flags)`, 2);
    let v: string | undefined;
    if (eq >= 0) v = a.slice(eq + 1);
    else {
      v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new ReportError(`flag ${name} needs a value`, 2);
      i++;
    }
    if (name === '--sites' && out.has(name)) v = `${out.get(name)},${v}`;
    out.set(name, v);
  }
  return out;
}

function need(f: Map<string, string>, name: string): string {
  const v = f.get(name);
  if (v === undefined || v === '') throw new ReportError(`${name} is required (optifiber report --help)`, 2);
  return v;
}

/** SOURCE_DATE_EPOCH, as reproducible builds define it: "now" for a csv or pdf report. */
function pinnedNowMs(env: NodeJS.ProcessEnv): number | undefined {
  const v = env['SOURCE_DATE_EPOCH'];
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,12}$/.test(v)) throw new ReportError(`SOURCE_DATE_EPOCH ${JSON.stringify(v)} must be unix seconds`, 2);
  return Number(v) * 1000;
}

const promUrl = (f: Map<string, string>, env: NodeJS.ProcessEnv) => f.get('--prometheus.url') ?? env['OPTIFIBER_PROMETHEUS_URL'] ?? DEFAULT_PROMETHEUS_URL;

export async function runReport(argv: string[], io: ReportIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? ((s: string) => process.stdout.write(s));
  const stderr = io.stderr ?? ((s: string) => process.stderr.write(s));
  const nowMs = io.now ?? Date.now;
  const sub = argv[0];
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help' || argv.includes('--help')) {
    (sub === undefined ? stderr : stdout)(reportHelp());
    return sub === undefined ? 2 : 0;
  }
  if (!(sub in FLAGS)) {
    stderr(`optifiber report: unknown report ${JSON.stringify(sub)} (csv, pdf or schedule)\n`);
    return 2;
  }
  try {
    const f = parseFlags(sub, argv.slice(1));
    const nowS = Math.floor((sub === 'schedule' ? nowMs() : (pinnedNowMs(env) ?? nowMs())) / 1000);
    if (sub === 'csv') {
      const out = need(f, '--out');
      const from = parseTime(need(f, '--from'), '--from', nowS);
      const to = parseTime(f.get('--to') ?? 'now', '--to', nowS);
      const step = parseStep(f.get('--step') ?? '5m');
      const sites = f.get('--sites')?.split(',').map((s) => s.trim()).filter(Boolean);
      if (f.has('--sites') && (!sites || sites.length === 0)) throw new ReportError('--sites is empty', 2);
      const chunk = f.get('--chunk.points');
      const pointsPerChunk = chunk === undefined ? undefined : Number(chunk);
      if (pointsPerChunk !== undefined && !(Number.isInteger(pointsPerChunk) && pointsPerChunk > 0)) throw new ReportError('--chunk.points must be a positive integer', 2);
      const prom = new PromClient({ url: promUrl(f, env) });
      const r = await exportCsv({ prom, from, to, step, out, ...(sites ? { sites } : {}), ...(pointsPerChunk ? { pointsPerChunk } : {}) });
      stdout(`wrote ${r.path}: ${r.rows} rows, ${r.sites.length} sites, ${isoTime(from)} .. ${isoTime(to)} step ${step}s (${r.chunks} chunk${r.chunks === 1 ? '' : 's'})\n`);
      return 0;
    }
    if (sub === 'pdf') {
      const out = need(f, '--out');
      const wk = f.get('--week');
      const week = wk === undefined ? lastCompleteWeek(nowS) : parseIsoWeek(wk);
      const prom = new PromClient({ url: promUrl(f, env) });
      const data = await gatherWeekly({ prom, week, nowS, remediationDb: f.get('--remediation.db') ?? env['OPTIFIBER_REMEDIATION_DB'] ?? DEFAULT_REMEDIATION_DB });
      const html = renderWeeklyHtml(data);
      const htmlOut = f.get('--html.out');
      if (htmlOut) writeFileSync(htmlOut, html);
      const chromium = f.get('--chromium');
      const path = await htmlToPdf({ html, out, title: `OptiFiber weekly capacity report ${week.label}`, ...(chromium ? { chromium } : {}) });
      stdout(`wrote ${path}: ${week.label} (${isoTime(data.from)} .. ${isoTime(data.to)}), ${data.sites.length} sites, ${data.hot.length} hot-site charts, ${data.audit.actions.length} remediation actions\n`);
      return 0;
    }
    // schedule
    const listen = f.get('--listen') ?? '127.0.0.1:9890';
    const addr = parseListenAddress(listen);
    if (!addr) throw new ReportError(`--listen ${JSON.stringify(listen)} must be HOST:PORT`, 2);
    const int = (name: string, d: number) => {
      const v = f.get(name);
      if (v === undefined) return d;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new ReportError(`${name} must be a positive integer`, 2);
      return n;
    };
    const level = (f.get('--log.level') ?? 'info') as Level;
    if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new ReportError('--log.level must be debug, info, warn or error', 2);
    const log = createLogger({ level, base: { component: 'reporter' } });
    const sched = await startReportScheduler({
      prometheusUrl: promUrl(f, env),
      dir: f.get('--dir') ?? 'var/reports',
      host: addr.host,
      port: addr.port,
      remediationDb: f.get('--remediation.db') ?? env['OPTIFIBER_REMEDIATION_DB'] ?? DEFAULT_REMEDIATION_DB,
      dailyStep: parseStep(f.get('--daily.step') ?? '5m', '--daily.step'),
      retentionDays: int('--retention.daily', 35),
      retentionWeeks: int('--retention.weekly', 26),
      log,
      now: nowMs,
    });
    stdout(`OptiFiber reporter: reports in ${sched.dir}, metrics on ${sched.url}/metrics. Ctrl-C to stop.\n`);
    return await new Promise<number>((resolve) => {
      const stop = () => void sched.stop().then(() => resolve(0), () => resolve(1));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  } catch (e) {
    if (e instanceof ReportError) {
      stderr(`optifiber report ${sub}: ${e.message}\n`);
      return e.exitCode;
    }
    stderr(`optifiber report ${sub}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
