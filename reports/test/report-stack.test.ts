// The reports against a real Prometheus (Debian's prometheus 2.42 on
// 127.0.0.1, temp TSDB). Data: a simulated week (2026-W46) produced by the
// simulation core tick by tick and backfilled with promtool (openmetrics +
// the checked-in recording rules via create-blocks-from rules): a week of
// history cannot be scraped in a test run, and backfilling makes the weekly
// PDF and the daily CSV run over the same kind of data production has.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import Database from 'better-sqlite3';
import { CSV_HEADER, CSV_VALUE_COLUMNS, columnExpr, exportCsv } from '../src/csv.js';
import { PromClient, ReportError } from '../src/prom.js';
import { startReportScheduler, dailyFile, weeklyFile } from '../src/scheduler.js';
import { createLogger, silentLogger } from '@optifiber/exporter/log/logger';
import { SqliteStore } from '../../grafana-app-remediation/service/src/store-sqlite.js';
import { artifacts, binaries, freePort, NOW_MS, parseCsv, report, startSimWeek, WEEK, WEEK_END, WEEK_START } from './report-fixture.js';

jest.setTimeout(120_000);

let sim: Awaited<ReturnType<typeof startSimWeek>>;
let prom: PromClient;
let work: string;

beforeAll(async () => {
  sim = await startSimWeek();
  prom = new PromClient({ url: sim.url });
  work = mkdtempSync(join(tmpdir(), 'optifiber-report-out-'));
}, 400_000);

afterAll(async () => {
  await sim?.prometheus.stop();
  if (sim) rmSync(sim.dir, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

const noTempFiles = (dir: string) => expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

describe('report csv', () => {
  const from = '2026-11-10T00:00:00Z';
  const to = '2026-11-11T00:00:00Z';
  const fromS = Date.parse(from) / 1000;
  const toS = Date.parse(to) / 1000;

  test('matches direct query_range results cell by cell, in the documented order, over many chunks', async () => {
    const out = join(work, 'day.csv');
    // 100 points per column per chunk = 16 steps of 6 sites: 19 chunks for 289 steps
    const r = await report(['csv', '--from', from, '--to', to, '--step', '5m', '--out', out, '--prometheus.url', sim.url, '--chunk.points', '100']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1734 rows, 6 sites.*\(19 chunks\)/);
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith(CSV_HEADER + '\r\n')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]!.join(',')).toBe(CSV_HEADER);
    const body = rows.slice(1);
    expect(body).toHaveLength(289 * 6);
    // order: timestamp, then site, then instance
    for (let i = 1; i < body.length; i++) {
      const a = body[i - 1]!, b = body[i]!;
      expect(a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!)).toBe(true);
    }
    // every value column against one direct query_range over the whole range
    const idx = new Map(body.map((row) => [`${Date.parse(row[0]!) / 1000}\0${row[1]}\0${row[2]}`, row]));
    let compared = 0;
    for (const [c, col] of CSV_VALUE_COLUMNS.entries()) {
      const direct = await prom.queryRange(columnExpr(col, undefined, 300), fromS, toS, 300);
      expect(direct.length).toBe(6); // every column has data for every site in the fixture
      for (const s of direct) {
        for (const { t, v } of s.values) {
          const row = idx.get(`${t}\0${s.metric['site']}\0${s.metric['instance']}`);
          expect(row).toBeDefined();
          expect(Number(row![3 + c])).toBe(v);
          compared++;
        }
      }
    }
    expect(compared).toBe(289 * 6 * CSV_VALUE_COLUMNS.length);
    // spot-check units: bytes/s and ratios in range
    const u = CSV_HEADER.split(',').indexOf('utilization_max_ratio');
    for (const row of body) expect(Number(row[u])).toBeLessThanOrEqual(1);
  });

  test('--sites selects sites; chunking does not change the bytes', async () => {
    const a = join(work, 'sel-a.csv');
    const b = join(work, 'sel-b.csv');
    expect((await report(['csv', '--from', from, '--to', to, '--step', '1h', '--sites', 'site3,site1', '--out', a, '--prometheus.url', sim.url])).code).toBe(0);
    expect((await report(['csv', '--from', from, '--to', to, '--step=1h', '--sites=site1', '--sites=site3', `--out=${b}`, `--prometheus.url=${sim.url}`, '--chunk.points', '2'])).code).toBe(0);
    const ta = readFileSync(a, 'utf8');
    expect(readFileSync(b, 'utf8')).toBe(ta);
    const sites = new Set(parseCsv(ta).slice(1).map((r) => r[1]));
    expect([...sites]).toEqual(['site1', 'site3']);
    expect(parseCsv(ta).length - 1).toBe(25 * 2);
  });

  describe('bad input: clear error, exit code, no file (an existing target is left alone)', () => {
    const cases: [string, string[], number, RegExp][] = [
      ['from after to', ['--from', to, '--to', from], 2, /--from \(2026-11-11T00:00:00Z\) must be before --to/],
      ['from equals to', ['--from', from, '--to', from], 2, /must be before/],
      ['bad step', ['--from', from, '--to', to, '--step', 'fast'], 2, /--step "fast" is not a positive duration/],
      ['zero step', ['--from', from, '--to', to, '--step', '0s'], 2, /not a positive duration/],
      ['negative step', ['--from', from, '--to', to, '--step', '-5m'], 2, /not a positive duration/],
      ['step longer than the range', ['--from', from, '--to', to, '--step', '2d'], 2, /longer than the range/],
      ['bad time', ['--from', 'yesterday', '--to', to], 2, /--from "yesterday" is not a time/],
      ['missing --from', ['--to', to], 2, /--from is required/],
      ['unknown site', ['--from', from, '--to', to, '--sites', 'site1,atlantis'], 2, /unknown site "atlantis".*known sites: site0, site1, site2, site3, site4, site5/],
      ['empty range (before any data)', ['--from', '2020-01-01', '--to', '2020-01-02'], 1, /no site data in Prometheus between 2020-01-01T00:00:00Z and 2020-01-02T00:00:00Z/],
      ['empty range (in the future)', ['--from', '2027-01-01', '--to', '2027-01-02'], 1, /no site data/],
      ['unknown flag', ['--from', from, '--to', to, '--format', 'xlsx'], 2, /unknown flag --format/],
    ];
    test.each(cases)('%s', async (_name, args, code, msg) => {
      const out = join(work, 'bad', 'out.csv');
      rmSync(join(work, 'bad'), { recursive: true, force: true });
      const r = await report(['csv', ...args, '--out', out, '--prometheus.url', sim.url]);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.startsWith('optifiber report csv: ')).toBe(true);
      expect(r.code).toBe(code);
      expect(existsSync(out)).toBe(false);
      if (existsSync(join(work, 'bad'))) noTempFiles(join(work, 'bad'));
    });

    test('unreachable Prometheus: exit 1, the old file untouched, no temp file', async () => {
      const dir = mkdtempSync(join(work, 'unreach-'));
      const out = join(dir, 'out.csv');
      writeFileSync(out, 'yesterday\r\n');
      const port = await freePort(); // nothing listens there
      const r = await report(['csv', '--from', from, '--to', to, '--out', out, '--prometheus.url', `http://127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`Prometheus at http://127.0.0.1:${port} is unreachable \\(ECONNREFUSED\\)`));
      expect(readFileSync(out, 'utf8')).toBe('yesterday\r\n');
      noTempFiles(dir);
    });

    test('bad --prometheus.url', async () => {
      const r = await report(['csv', '--from', from, '--to', to, '--out', join(work, 'x.csv'), '--prometheus.url', 'not a url']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is not a URL/);
    });

    test('Prometheus failing in the middle of the export: no half-written file', async () => {
      const dir = mkdtempSync(join(work, 'midway-'));
      const out = join(dir, 'out.csv');
      let calls = 0;
      const flaky = new PromClient({
        url: sim.url,
        fetchImpl: (async (input: string | URL | Request, init?: RequestInit) => {
          if (String(input).includes('query_range') && ++calls > 40) return new Response('{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}', { status: 422 });
          return fetch(input, init);
        }) as typeof fetch,
      });
      await expect(exportCsv({ prom: flaky, from: fromS, to: toS, step: 300, out, pointsPerChunk: 100 })).rejects.toThrow(/Prometheus rejected \/api\/v1\/query_range \(HTTP 422, execution\): query processing/);
      expect(calls).toBeGreaterThan(40); // several chunks had been written to the temp file
      expect(readdirSync(dir)).toEqual([]);
    });
  });
});

/** The remediation service's own Store creates the schema; rows as its engine writes them. */
async function remediationDb(path: string): Promise<void> {
  const store = new SqliteStore(path);
  const ins = store.db.prepare(
    `INSERT INTO actions (episode_key, idempotency_key, site, alertname, fingerprint, starts_at, generator_url, labels, annotations, mode, count, state, result, reason, baseline, after, received_at_ms, created_at, updated_at, finished_at, approved_by, approved_at)
     VALUES (@k, @k, @site, 'OptiFiberCapacityForecastHigh', @k, @at, NULL, '{}', @ann, @mode, 1, 'done', @result, @reason, @base, @after, 0, @at, @at, @fin, @by, @byAt)`,
  );
  const row = (k: string, site: string, at: string, mode: string, result: string, reason: string | null, by: string | null, before: number, after: number | null) =>
    ins.run({
      k, site, at, mode, result, reason, by, byAt: by ? at.replace(':05:', ':09:') : null, fin: at.replace(':05:', ':12:'),
      ann: JSON.stringify({ summary: `${site} is forecast to reach 93% utilization in 15 min` }),
      base: JSON.stringify({ cmdModules: before, cmdModulesMax: 16, capacityBps: 8e11, readAt: at }),
      after: after === null ? null : JSON.stringify({ cmdModules: after, cmdModulesMax: 16, capacityBps: 12e11, readAt: at }),
    });
  row('e1', 'site4', '2026-11-11T14:05:00.000Z', 'approval', 'succeeded', null, 'alice@noc', 2, 3);
  row('e2', 'site0', '2026-11-12T21:05:00.000Z', 'auto', 'failed', 'MCP job failed: slot 3 not seated', null, 2, null);
  row('e3', 'site5', '2026-11-01T10:05:00.000Z', 'auto', 'succeeded', null, null, 4, 5); // the week before: not in the report
  await store.close();
}

/** pdftotext -layout (kept as an artifact), plus the reading-order text with
 * whitespace collapsed, so a table cell that wraps still matches. */
function pdfText(pdf: string): string {
  const r = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  const flat = spawnSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
  expect(flat.status).toBe(0);
  return `${r.stdout}\n${flat.stdout.replace(/\s+/g, ' ')}`;
}

describe('report pdf', () => {
  test('the weekly capacity report: pages as PNG artifacts, text, page count, embedded fonts', async () => {
    const dir = artifacts('weekly-pdf');
    for (const f of readdirSync(dir)) rmSync(join(dir, f));
    const db = join(work, 'remediation.db');
    await remediationDb(db);
    const out = join(dir, `optifiber-capacity-${WEEK}.pdf`);
    const r = await report(['pdf', '--week', WEEK, '--out', out, '--prometheus.url', sim.url, '--remediation.db', db, '--html.out', join(dir, 'report.html')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2026-W46 \(2026-11-09T00:00:00Z \.\. 2026-11-16T00:00:00Z\), 6 sites, \d hot-site charts, 2 remediation actions/);

    const png = spawnSync('pdftoppm', ['-r', '70', '-png', out, join(dir, 'page')], { encoding: 'utf8' });
    expect(png.status).toBe(0);
    const pages = readdirSync(dir).filter((f) => /^page-\d+\.png$/.test(f));
    const info = spawnSync('pdfinfo', [out], { encoding: 'utf8' }).stdout;
    const n = Number(/Pages:\s+(\d+)/.exec(info)![1]);
    expect(pages.length).toBe(n);
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(8);

    const text = pdfText(out);
    writeFileSync(join(dir, 'report.txt'), text);
    expect(text).toContain('OptiFiber weekly capacity report — 2026-W46');
    expect(text).toMatch(/Data range: 2026-11-09 00:00 UTC to 2026-11-16 00:00 UTC/);
    expect(text).toMatch(/Generated: 2026-11-21 18:00 UTC/);
    for (let p = 1; p <= n; p++) expect(text).toContain(`Page ${p} of ${n}`);
    for (const h of ['Summary', 'Sites most likely to need capacity next week', 'Fleet summary', 'Hot sites: throughput vs capacity', 'Optical health trends', 'Remediation actions']) expect(text).toContain(h);

    // figures against Prometheus directly
    const peak = await prom.query('max_over_time(site:optifiber_utilization:ratio[7d])', WEEK_END);
    const hot = peak.filter((s) => s.v > 0.9).map((s) => s.metric['site']!);
    expect(hot.length).toBeGreaterThan(0);
    expect(text).toMatch(new RegExp(`${hot.length} of 6 sites exceeded 90 % utilization`));
    for (const s of hot) {
      const v = peak.find((x) => x.metric['site'] === s)!.v;
      expect(text).toContain(`${s} — peak ${(v * 100).toFixed(0)} %`); // one chart per hot site
    }
    const down = await prom.query('sum(count_over_time((optifiber_link_up == 0)[7d:1m]))', WEEK_END);
    const dm = down[0]?.v ?? 0;
    expect(text).toContain(dm >= 120 ? `${(dm / 60).toFixed(1)} h` : `${dm} min`);
    // remediation: when, why, outcome, approver; the action of the previous week is left out
    expect(text).toMatch(/2026-11-11 14:05\s+site4/);
    expect(text).toContain('alice@noc');
    expect(text).toMatch(/succeeded/);
    expect(text).toContain('CMD modules 2 → 3');
    expect(text).toMatch(/2026-11-12 21:05\s+site0/);
    expect(text).toContain('MCP job failed: slot 3 not seated');
    expect(text).toContain('automatic (policy)');
    expect(text).not.toContain('2026-11-01 10:05');
    // capacity next week comes with its reasoning
    expect(text).toMatch(/demand grew \d+\.\d %\/day over the week/);

    // fonts: every font embedded (DejaVu, from fonts-dejavu-core)
    const fonts = spawnSync('pdffonts', [out], { encoding: 'utf8' }).stdout.trim().split('\n').slice(2);
    expect(fonts.length).toBeGreaterThan(0);
    for (const f of fonts) {
      expect(f).toMatch(/DejaVu/);
      expect(f.split(/\s+/).slice(-5)[0]).toBe('yes');
    }
  });

  test('without an audit log the report says so instead of failing', async () => {
    const out = join(work, 'noaudit.pdf');
    const r = await report(['pdf', '--week', WEEK, '--out', out, '--prometheus.url', sim.url, '--remediation.db', join(work, 'nope.db')]);
    expect(r.code).toBe(0);
    expect(pdfText(out)).toMatch(/no remediation database at .*nope\.db/);
  });

  test('default week: the last complete ISO week before now', async () => {
    const out = join(work, 'default.pdf');
    const r = await report(['pdf', '--out', out, '--prometheus.url', sim.url], Date.UTC(2026, 10, 18, 9, 0, 0));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2026-W46');
  });

  describe('bad input: clear error, exit code, no file', () => {
    const cases: [string, string[], number, RegExp, number?][] = [
      ['week in the future', ['--week', '2026-W49'], 2, /--week 2026-W49 starts 2026-11-30T00:00:00Z, in the future/],
      ['week that does not exist', ['--week', '2026-W54'], 2, /2026 has no week 54/],
      ['malformed week', ['--week', 'last'], 2, /--week "last" is not an ISO week \(expected YYYY-Www/],
      ['empty week (no data)', ['--week', '2020-W10'], 1, /no site data in Prometheus for 2020-W10/],
      ['missing --out', [], 2, /--out is required/],
      ['Chromium missing', ['--week', WEEK, '--chromium', '/nonexistent/chromium'], 1, /Chromium not found at \/nonexistent\/chromium/],
    ];
    test.each(cases)('%s', async (_n, args, code, msg) => {
      const dir = mkdtempSync(join(work, 'badpdf-'));
      const out = join(dir, 'r.pdf');
      const r = await report(['pdf', ...args, ...(args.length ? ['--out', out] : []), '--prometheus.url', sim.url]);
      expect(r.stderr).toMatch(msg);
      expect(r.code).toBe(code);
      expect(readdirSync(dir)).toEqual([]);
    });

    test('unreachable Prometheus', async () => {
      const dir = mkdtempSync(join(work, 'badpdf-'));
      const r = await report(['pdf', '--week', WEEK, '--out', join(dir, 'r.pdf'), '--prometheus.url', `http://127.0.0.1:${await freePort()}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/optifiber report pdf: Prometheus at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
      expect(readdirSync(dir)).toEqual([]);
    });
  });
});

describe('report scheduler', () => {
  const metric = (text: string, name: string, report: string) => {
    const m = new RegExp(`^${name}\\{report="${report}"\\} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };

  test('catches up the daily CSV and the weekly PDF, applies retention, serves /metrics that promtool accepts', async () => {
    const dir = mkdtempSync(join(work, 'reports-'));
    // left-overs: expired reports and a recent one
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'daily'), { recursive: true });
    mkdirSync(join(dir, 'weekly'), { recursive: true });
    writeFileSync(dailyFile(dir, '2026-09-01'), 'old\r\n');
    writeFileSync(dailyFile(dir, '2026-11-14'), 'recent\r\n');
    writeFileSync(weeklyFile(dir, '2026-W01'), 'old');
    utimesSync(dailyFile(dir, '2026-11-14'), new Date('2026-11-15T00:10:00Z'), new Date('2026-11-15T00:10:00Z'));
    let now = Date.parse('2026-11-16T01:00:00Z');
    const sched = await startReportScheduler({ prometheusUrl: sim.url, dir, port: 0, now: () => now, checkIntervalMs: 3_600_000, retentionDays: 35, retentionWeeks: 26, log: silentLogger });
    try {
      // before the first run: the last success comes from the newest file on disk
      await sched.check();
      expect(existsSync(dailyFile(dir, '2026-11-15'))).toBe(true);
      expect(existsSync(weeklyFile(dir, WEEK))).toBe(true);
      expect(existsSync(dailyFile(dir, '2026-09-01'))).toBe(false);
      expect(existsSync(weeklyFile(dir, '2026-W01'))).toBe(false);
      expect(readFileSync(dailyFile(dir, '2026-11-14'), 'utf8')).toBe('recent\r\n');
      const csv = parseCsv(readFileSync(dailyFile(dir, '2026-11-15'), 'utf8'));
      expect(csv[1]![0]).toBe('2026-11-15T00:00:00Z');
      expect(csv[csv.length - 1]![0]).toBe('2026-11-16T00:00:00Z');

      const res = await fetch(`${sched.url}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(metric(text, 'optifiber_report_last_success_timestamp_seconds', 'daily_csv')).toBe(now / 1000);
      expect(metric(text, 'optifiber_report_last_success_timestamp_seconds', 'weekly_pdf')).toBe(now / 1000);
      expect(metric(text, 'optifiber_report_failures_total', 'daily_csv')).toBe(0);
      expect(metric(text, 'optifiber_report_files', 'daily_csv')).toBe(2);
      expect(metric(text, 'optifiber_report_files', 'weekly_pdf')).toBe(1);
      const lint = spawnSync(binaries().promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
      expect(lint.status).toBe(0);
      // nothing due: a second check writes nothing new
      const before = readdirSync(join(dir, 'daily')).length;
      now += 3600_000;
      await sched.check();
      expect(readdirSync(join(dir, 'daily')).length).toBe(before);
    } finally {
      await sched.stop();
    }
  });

  test('failures are logged and counted, no file is left, retried after 15 min; a restart keeps the last success', async () => {
    const dir = mkdtempSync(join(work, 'reports-fail-'));
    const lines: string[] = [];
    let now = Date.parse('2026-11-16T01:00:00Z');
    const port = await freePort();
    const sched = await startReportScheduler({
      prometheusUrl: `http://127.0.0.1:${port}`, dir, port: 0, now: () => now, checkIntervalMs: 3_600_000,
      log: createLogger({ write: (l) => lines.push(l) }),
    });
    try {
      await sched.check();
      let text = sched.metrics();
      expect(metric(text, 'optifiber_report_failures_total', 'daily_csv')).toBe(1);
      expect(metric(text, 'optifiber_report_failures_total', 'weekly_pdf')).toBe(1);
      expect(metric(text, 'optifiber_report_last_success_timestamp_seconds', 'daily_csv')).toBe(0);
      expect(metric(text, 'optifiber_report_last_attempt_timestamp_seconds', 'daily_csv')).toBe(now / 1000);
      expect(readdirSync(join(dir, 'daily'))).toEqual([]);
      expect(readdirSync(join(dir, 'weekly'))).toEqual([]);
      const err = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['level'] === 'error');
      expect(err.map((e) => e['report'])).toEqual(['daily_csv', 'weekly_pdf']);
      expect(String(err[0]!['msg'])).toMatch(/report daily_csv for 2026-11-15 failed: Prometheus at .* is unreachable/);
      now += 5 * 60_000;
      await sched.check(); // too early to retry
      expect(metric(sched.metrics(), 'optifiber_report_failures_total', 'daily_csv')).toBe(1);
      now += 11 * 60_000;
      await sched.check();
      text = sched.metrics();
      expect(metric(text, 'optifiber_report_failures_total', 'daily_csv')).toBe(2);
    } finally {
      await sched.stop();
    }
    // a restart: last success from the newest report on disk
    writeFileSync(dailyFile(dir, '2026-11-15'), 'x\r\n');
    utimesSync(dailyFile(dir, '2026-11-15'), new Date('2026-11-16T00:10:00Z'), new Date('2026-11-16T00:10:00Z'));
    const again = await startReportScheduler({ prometheusUrl: sim.url, dir, port: 0, now: () => now, checkIntervalMs: 3_600_000, log: silentLogger });
    try {
      expect(metric(again.metrics(), 'optifiber_report_last_success_timestamp_seconds', 'daily_csv')).toBe(Date.parse('2026-11-16T00:10:00Z') / 1000);
    } finally {
      await again.stop();
    }
  });

  test('a period with no data at all (fresh stack) is skipped, not a failure, and not retried', async () => {
    const dir = mkdtempSync(join(work, 'reports-empty-'));
    const lines: string[] = [];
    let now = Date.parse('2026-11-21T01:00:00Z'); // due: 2026-11-20 (no data) and 2026-W46 (data)
    const sched = await startReportScheduler({ varDir: dir, prometheusUrl: sim.url, port: 0, now: () => now, checkIntervalMs: 3_600_000, log: createLogger({ write: (l) => lines.push(l) }) });
    try {
      await sched.check();
      expect(sched.dir).toBe(join(dir, 'reports'));
      expect(sched.urls['reportsMetrics']).toBe(`${sched.url}/metrics`);
      let text = sched.metrics();
      expect(metric(text, 'optifiber_report_skipped_total', 'daily_csv')).toBe(1);
      expect(metric(text, 'optifiber_report_failures_total', 'daily_csv')).toBe(0);
      expect(metric(text, 'optifiber_report_last_success_timestamp_seconds', 'daily_csv')).toBe(0);
      expect(metric(text, 'optifiber_report_last_success_timestamp_seconds', 'weekly_pdf')).toBe(now / 1000);
      expect(readdirSync(join(dir, 'reports', 'daily'))).toEqual([]);
      expect(lines.some((l) => /"level":"warn".*report daily_csv for 2026-11-20 skipped: no site data/.test(l))).toBe(true);
      now += 20 * 60_000;
      await sched.check();
      text = sched.metrics();
      expect(metric(text, 'optifiber_report_skipped_total', 'daily_csv')).toBe(1);
    } finally {
      await sched.stop();
    }
  });

  test('the OptiFiberReportStale alert matches the exported metric and labels', () => {
    const rules = readFileSync(join(__dirname_(), '..', '..', 'prometheus', 'rules', 'optifiber-alerts.yml'), 'utf8');
    expect(rules).toContain('optifiber_report_last_success_timestamp_seconds{report="daily_csv"}');
    expect(rules).toContain('optifiber_report_last_success_timestamp_seconds{report="weekly_pdf"}');
  });
});

function __dirname_(): string {
  return new URL('.', import.meta.url).pathname;
}

// keep NOW_MS and WEEK_START referenced for readers of the fixture's clock
void NOW_MS;
void WEEK_START;
void ReportError;
void Database;
