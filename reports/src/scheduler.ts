// The report scheduler: the daily CSV (previous UTC day) and the weekly PDF
// (previous ISO week) into <dir>/daily and <dir>/weekly, with retention,
// and /metrics for Prometheus:
//
//   optifiber_report_last_success_timestamp_seconds{report="daily_csv|weekly_pdf"}
//       0 until the first success (OptiFiberReportStale ignores 0); after a
//       restart it starts from the newest report file's mtime
//   optifiber_report_failures_total{report}
//   optifiber_report_last_attempt_timestamp_seconds{report}
//   optifiber_report_last_duration_seconds{report}
//   optifiber_report_files{report}            files kept after retention
//
// A check runs at start and every minute: a report is produced when its
// file is missing and due (daily at 00:10 UTC, weekly Monday 00:30 UTC);
// after a failure the same report is retried 15 minutes later. Jobs run
// one at a time (the PDF starts Chromium; 2-core machines).
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger, type Logger } from '@optifiber/exporter/log/logger';
import { exportCsv } from './csv.js';
import { renderWeeklyHtml } from './html.js';
import { htmlToPdf } from './pdf.js';
import { EmptyRangeError, PromClient } from './prom.js';
import { isoWeekOf, lastCompleteWeek, parseIsoWeek } from './util.js';
import { gatherWeekly } from './weekly.js';

export type ReportKind = 'daily_csv' | 'weekly_pdf';
export const REPORT_KINDS: ReportKind[] = ['daily_csv', 'weekly_pdf'];

export interface ReportSchedulerOptions {
  prometheusUrl: string;
  /** Project state folder: dir defaults to <varDir>/reports, remediationDb to <varDir>/remediation/remediation.db. Default var. */
  varDir?: string;
  /** Reports folder. Default <varDir>/reports. */
  dir?: string;
  host?: string; // default 127.0.0.1
  /** /metrics port; 0 picks a free one. Default 9890. */
  port?: number;
  remediationDb?: string;
  dailyStep?: number; // seconds, default 300
  retentionDays?: number; // daily CSVs kept, default 35
  retentionWeeks?: number; // weekly PDFs kept, default 26
  /** Minutes after midnight UTC the daily CSV is due. Default 10. */
  dailyDueMinutes?: number;
  /** Minutes after Monday 00:00 UTC the weekly PDF is due. Default 30. */
  weeklyDueMinutes?: number;
  retryAfterS?: number; // default 900
  checkIntervalMs?: number; // default 60000
  chromium?: string;
  /** Default: JSON lines on stderr (level info), so failures are always logged. */
  log?: Logger;
  /** Alias of log (the other services' option name). */
  logger?: Logger;
  now?: () => number; // ms
}

interface KindState {
  lastSuccess: number;
  failures: number;
  lastAttempt: number;
  lastDuration: number;
  skipped: number;
  files: number;
}

export interface ReportScheduler {
  url: string;
  /** For the local stack's URL list. */
  urls: Record<string, string>;
  port: number;
  dir: string;
  /** Runs a check now (what the timer does); resolves when its jobs are done. */
  check(): Promise<void>;
  /** Produce one report now (e.g. for a given day/week label). */
  runDaily(day?: string): Promise<string>;
  runWeekly(week?: string): Promise<string>;
  metrics(): string;
  stop(): Promise<void>;
}

export const dailyFile = (dir: string, day: string) => join(dir, 'daily', `optifiber-sites-${day}.csv`);
export const weeklyFile = (dir: string, week: string) => join(dir, 'weekly', `optifiber-capacity-${week}.pdf`);
const DAILY_RE = /^optifiber-sites-(\d{4}-\d{2}-\d{2})\.csv$/;
const WEEKLY_RE = /^optifiber-capacity-(\d{4})-W(\d{2})\.pdf$/;

export async function startReportScheduler(o: ReportSchedulerOptions): Promise<ReportScheduler> {
  const varDir = resolve(o.varDir ?? 'var');
  const dir = resolve(o.dir ?? join(varDir, 'reports'));
  const remediationDb = o.remediationDb ?? join(varDir, 'remediation', 'remediation.db');
  const log = o.log ?? o.logger ?? createLogger({ base: { component: 'reporter' } });
  const now = o.now ?? Date.now;
  const prom = new PromClient({ url: o.prometheusUrl });
  const step = o.dailyStep ?? 300;
  const retentionDays = o.retentionDays ?? 35;
  const retentionWeeks = o.retentionWeeks ?? 26;
  const dailyDue = (o.dailyDueMinutes ?? 10) * 60;
  const weeklyDue = (o.weeklyDueMinutes ?? 30) * 60;
  const retryAfter = o.retryAfterS ?? 900;
  mkdirSync(join(dir, 'daily'), { recursive: true });
  mkdirSync(join(dir, 'weekly'), { recursive: true });

  const st: Record<ReportKind, KindState> = {
    daily_csv: { lastSuccess: 0, failures: 0, lastAttempt: 0, lastDuration: 0, skipped: 0, files: 0 },
    weekly_pdf: { lastSuccess: 0, failures: 0, lastAttempt: 0, lastDuration: 0, skipped: 0, files: 0 },
  };
  const failedAt = new Map<string, number>();
  // Targets with no data at all (e.g. the day before a fresh stack started):
  // nothing to report, not a failure, not retried. A Prometheus that lost a
  // whole day still trips OptiFiberReportStale through the success timestamp.
  const skippedTargets = new Set<string>();

  // After a restart: the newest existing report is the last success.
  function scan(): void {
    for (const [kind, sub, re] of [['daily_csv', 'daily', DAILY_RE], ['weekly_pdf', 'weekly', WEEKLY_RE]] as const) {
      const files = readdirSync(join(dir, sub)).filter((f) => re.test(f));
      st[kind].files = files.length;
      for (const f of files) st[kind].lastSuccess = Math.max(st[kind].lastSuccess, statSync(join(dir, sub, f)).mtimeMs / 1000);
    }
  }
  scan();

  function retention(nowS: number): void {
    const dayCut = new Date((nowS - retentionDays * 86400) * 1000).toISOString().slice(0, 10);
    const weekCut = isoWeekOf(nowS - retentionWeeks * 604800).label;
    for (const [sub, re, keep] of [
      ['daily', DAILY_RE, (m: RegExpExecArray) => m[1]! >= dayCut],
      ['weekly', WEEKLY_RE, (m: RegExpExecArray) => `${m[1]}-W${m[2]}` >= weekCut],
    ] as const) {
      for (const f of readdirSync(join(dir, sub))) {
        const p = join(dir, sub, f);
        const m = re.exec(f);
        if (m && !keep(m)) {
          rmSync(p, { force: true });
          log.info({ file: p }, 'report retention: removed');
        } else if (f.startsWith('.') && f.endsWith('.tmp') && nowS - statSync(p).mtimeMs / 1000 > 86400) {
          rmSync(p, { force: true }); // left by a crash mid-write
        }
      }
    }
    st.daily_csv.files = readdirSync(join(dir, 'daily')).filter((f) => DAILY_RE.test(f)).length;
    st.weekly_pdf.files = readdirSync(join(dir, 'weekly')).filter((f) => WEEKLY_RE.test(f)).length;
  }

  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn, fn);
    chain = p.catch(() => {});
    return p;
  };

  async function job(kind: ReportKind, target: string, fn: () => Promise<string>): Promise<string> {
    const t0 = now();
    st[kind].lastAttempt = t0 / 1000;
    try {
      const path = await fn();
      st[kind].lastSuccess = now() / 1000;
      st[kind].lastDuration = (now() - t0) / 1000;
      failedAt.delete(`${kind}:${target}`);
      log.info({ report: kind, target, file: path, seconds: st[kind].lastDuration }, 'report written');
      retention(now() / 1000);
      return path;
    } catch (e) {
      if (e instanceof EmptyRangeError) {
        st[kind].skipped++;
        st[kind].lastDuration = (now() - t0) / 1000;
        skippedTargets.add(`${kind}:${target}`);
        log.warn({ report: kind, target }, `report ${kind} for ${target} skipped: ${e.message}`);
        throw e;
      }
      st[kind].failures++;
      st[kind].lastDuration = (now() - t0) / 1000;
      failedAt.set(`${kind}:${target}`, now() / 1000);
      log.error({ report: kind, target, err: e }, `report ${kind} for ${target} failed: ${(e as Error).message}`);
      throw e;
    }
  }

  const runDaily = (day?: string) =>
    serial(() => {
      const d = day ?? new Date((now() / 1000 - 86400) * 1000).toISOString().slice(0, 10);
      const from = Date.parse(`${d}T00:00:00Z`) / 1000;
      return job('daily_csv', d, async () => (await exportCsv({ prom, from, to: from + 86400, step, out: dailyFile(dir, d) })).path);
    });

  const runWeekly = (label?: string) =>
    serial(() => {
      const week = label ? parseIsoWeek(label) : lastCompleteWeek(now() / 1000);
      return job('weekly_pdf', week.label, async () => {
        const data = await gatherWeekly({ prom, week, nowS: Math.floor(now() / 1000), remediationDb });
        return htmlToPdf({ html: renderWeeklyHtml(data), out: weeklyFile(dir, week.label), title: `OptiFiber weekly capacity report ${week.label}`, ...(o.chromium ? { chromium: o.chromium } : {}) });
      });
    });

  let checking: Promise<void> | undefined;
  function check(): Promise<void> {
    if (!checking) checking = doCheck().finally(() => (checking = undefined));
    return checking;
  }
  async function doCheck(): Promise<void> {
    const nowS = now() / 1000;
    const day = new Date((nowS - dailyDue - 86400) * 1000).toISOString().slice(0, 10); // newest due day
    const week = isoWeekOf(nowS - weeklyDue - 604800); // newest due week
    const retryOk = (k: string) => !skippedTargets.has(k) && nowS - (failedAt.get(k) ?? -Infinity) >= retryAfter;
    if (!existsSync(dailyFile(dir, day)) && retryOk(`daily_csv:${day}`)) await runDaily(day).catch(() => {});
    if (!existsSync(weeklyFile(dir, week.label)) && retryOk(`weekly_pdf:${week.label}`)) await runWeekly(week.label).catch(() => {});
  }

  function metrics(): string {
    const out: string[] = [];
    const fam = (name: string, type: string, help: string, get: (s: KindState) => number) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const k of REPORT_KINDS) out.push(`${name}{report="${k}"} ${get(st[k])}`);
    };
    fam('optifiber_report_last_success_timestamp_seconds', 'gauge', 'Time of the last successful report run, seconds since the epoch (0: none yet).', (s) => s.lastSuccess);
    fam('optifiber_report_last_attempt_timestamp_seconds', 'gauge', 'Time the last report run started, seconds since the epoch (0: none yet).', (s) => s.lastAttempt);
    fam('optifiber_report_last_duration_seconds', 'gauge', 'Duration of the last report run, seconds.', (s) => s.lastDuration);
    fam('optifiber_report_failures_total', 'counter', 'Report runs that failed since the scheduler started.', (s) => s.failures);
    fam('optifiber_report_skipped_total', 'counter', 'Report runs skipped because Prometheus had no site data for the period.', (s) => s.skipped);
    fam('optifiber_report_files', 'gauge', 'Report files kept in the reports folder after retention.', (s) => s.files);
    return out.join('\n') + '\n';
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics());
    else if (path === '/-/healthy' || path === '/-/ready') res.writeHead(200, { 'content-type': 'text/plain' }).end('OK\n');
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics, /-/healthy\n');
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(o.port ?? 9890, host, () => res());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (o.port ?? 9890);
  const url = `http://${host}:${port}`;
  log.info({ dir, url, prometheus: prom.base, dailyDueUtc: `${Math.floor(dailyDue / 3600)}:${String((dailyDue / 60) % 60).padStart(2, '0')}`, retentionDays, retentionWeeks }, 'report scheduler started');

  let stopped = false;
  const timer = setInterval(() => {
    if (!stopped) void check();
  }, o.checkIntervalMs ?? 60000);
  const first = check();

  return {
    url,
    urls: { reportsMetrics: `${url}/metrics`, reportsFolder: dir },
    port,
    dir,
    check,
    runDaily,
    runWeekly,
    metrics,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await first.catch(() => {});
      await chain.catch(() => {});
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
