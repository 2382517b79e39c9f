#!/usr/bin/env node
// Fleet benchmark (issue 13, item 5): N exporters x M simulated sites on
// loopback (default 20 x 500 = 10,000 sites), scraped by one Debian Prometheus
// (the repo's recording and alerting rules) that remote_writes everything to
// Debian's VictoriaMetrics single node. Measured over a fixed window after
// warm-up:
//   - samples/s ingested by VictoriaMetrics (its vm_rows_inserted_total for
//     remote write) and appended by Prometheus (same window);
//   - remote-write lag: Prometheus' highest appended timestamp minus the
//     highest timestamp its remote-write queue has sent, sampled every second
//     (p50, p99, max);
//   - fleet-dashboard query latency at N x M sites: every expression of
//     provisioning/dashboards/optifiber-fleet.json as Grafana issues it
//     (query_range over the data so far), alone and all at once (a dashboard
//     load), against VictoriaMetrics and, as the same-run baseline, against
//     Prometheus holding the same data; medians of --reps repetitions,
//     interleaved so both see the same load;
//   - CPU (share of one core) and RSS per exporter process (and per
//     simulator, Prometheus, VictoriaMetrics) over the window.
// Writes bench/results/fleet.json with the machine noted. Bounded: the whole
// run is killed after --max-minutes (default 15); every child dies with it.
// Ports are picked free on 127.0.0.1; run it in a private network namespace
// on a shared machine: unshare -n bash -c 'ip link set lo up && node bench/fleet.mjs'
//
//   node bench/fleet.mjs [--exporters 20] [--sites 500] [--scrape 15s] [--window 90] [--reps 5] [--out FILE]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../alertmanager/tests/live.mjs';
import { findBinaries } from '../scripts/stack/prometheus.mjs';
import { remoteWriteBlock, startVictoriaMetrics } from '../scripts/stack/victoria.mjs';
import { fleetDashboardExpressions } from '../prometheus/victoria-check.mjs';
import { machine, quantile, writeResult } from './lib/stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : def);
const EXPORTERS = Math.min(50, Number(opt('exporters', '20')));
const SITES = Math.min(1000, Number(opt('sites', '500')));
const SCRAPE = opt('scrape', '15s');
const WINDOW_S = Math.min(300, Number(opt('window', '90')));
const REPS = Math.min(20, Number(opt('reps', '5')));
const MAX_MS = Number(opt('max-minutes', '15')) * 60_000;
const CLI = join(root, 'exporter', 'dist', 'cli.js');
const CLK_TCK = 100; // USER_HZ on Linux

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (m) => console.log(`# [${((Date.now() - t0) / 1000).toFixed(0)} s] ${m}`);
const r1 = (x) => Math.round(x * 10) / 10;
const r3 = (x) => Math.round(x * 1000) / 1000;
const med = (a) => quantile(a, 0.5);
const t0 = Date.now();

const children = new Set();
const killAll = () => { for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ } };
process.on('exit', killAll);
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(1));
setTimeout(() => { console.log(`bench fleet: still running after ${MAX_MS / 60000} min, stopped`); process.exit(1); }, MAX_MS).unref();

function start(cmd, argv, logFile) {
  const c = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = [];
  const keep = (d) => { out.push(d.toString()); if (out.length > 50) out.shift(); };
  c.stdout.on('data', keep);
  c.stderr.on('data', keep);
  c.on('exit', () => { children.delete(c); if (logFile) writeFileSync(logFile, out.join('')); });
  children.add(c);
  c.tail = () => out.join('').slice(-1500);
  return c;
}

async function until(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(500);
  }
}

const getText = async (url) => { const r = await fetch(url, { signal: AbortSignal.timeout(30000) }); if (!r.ok) throw new Error(`${url}: ${r.status}`); return r.text(); };
const getJson = async (url) => JSON.parse(await getText(url));
/** Sum of a metric's samples in a text exposition, label filter by regex. */
const metric = (text, name, re = /.*/) => text.split('\n').filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && re.test(l))
  .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

/** utime + stime (clock ticks) and RSS (bytes) of a pid. */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { ticks: Number(f[11]) + Number(f[12]), rss: rss ? Number(rss[1]) * 1024 : NaN };
  } catch {
    return { ticks: NaN, rss: NaN };
  }
}
/** Child pids of a pid (the exporter's simulator). */
function childPids(pid) {
  try { return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; }
}

const bins = findBinaries();
if (!bins.prometheus) { console.log('bench fleet: prometheus not installed'); process.exit(1); }
const work = mkdtempSync(join(tmpdir(), 'optifiber-fleet-bench-'));
let vm;
try {
  say(`${EXPORTERS} exporters x ${SITES} sites = ${EXPORTERS * SITES} sites; scrape and rule evaluation every ${SCRAPE}; window ${WINDOW_S} s`);
  vm = await startVictoriaMetrics({ port: await freePort(), dir: join(work, 'vm') });

  // ---- exporters: one simulator each, time scale 60 so the forecast (an hour of site time) runs after ~1 min
  const exporters = [];
  for (let i = 0; i < EXPORTERS; i++) {
    const port = await freePort();
    const dir = join(work, `sim-${i}`);
    mkdirSync(dir);
    const c = start(process.execPath, [CLI, 'exporter', `--web.listen-address=127.0.0.1:${port}`, '--source.kind=userspace', `--simulator.nsites=${SITES}`,
      `--simulator.seed=${i + 1}`, `--simulator.dir=${dir}`, '--simulator.time-scale=60', '--log.level=warn'], join(work, `exporter-${i}.log`));
    exporters.push({ port, proc: c });
    await sleep(300); // staggered: 20 ONNX loads at once would only measure the start-up pile-up
  }
  for (const e of exporters) {
    await until(async () => {
      if (e.proc.exitCode !== null) throw new Error(`exporter :${e.port} exited: ${e.proc.tail()}`);
      return (await fetch(`http://127.0.0.1:${e.port}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok;
    }, 90_000, `exporter :${e.port}`);
  }
  say(`exporters ready (${exporters.map((e) => e.proc.pid).join(' ')})`);

  // ---- a regional Prometheus: the repo's rules, every exporter, remote_write to VictoriaMetrics
  const promPort = await freePort();
  const promUrl = `http://127.0.0.1:${promPort}`;
  const cfg = join(work, 'prometheus.yml');
  writeFileSync(cfg, [
    'global:', `  scrape_interval: ${SCRAPE}`, `  scrape_timeout: ${SCRAPE}`, `  evaluation_interval: ${SCRAPE}`, '  external_labels: {monitor: optifiber, region: bench}',
    'rule_files:', `  - ${join(root, 'prometheus', 'rules', '*.yml')}`,
    'scrape_configs:', '  - job_name: optifiber', '    static_configs:', `      - targets: [${exporters.map((e) => `'127.0.0.1:${e.port}'`).join(', ')}]`,
  ].join('\n') + '\n' + remoteWriteBlock(vm.writeUrl));
  const prom = start(bins.prometheus, [`--config.file=${cfg}`, `--storage.tsdb.path=${join(work, 'prom')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], join(work, 'prometheus.log'));
  await until(async () => {
    if (prom.exitCode !== null) throw new Error(`prometheus exited: ${prom.tail()}`);
    const t = await getJson(`${promUrl}/api/v1/targets?state=active`);
    return t.data.activeTargets.length === EXPORTERS && t.data.activeTargets.every((x) => x.health === 'up');
  }, 300_000, `all ${EXPORTERS} targets up`);
  say('every target up; waiting for the recording rules to count every site');
  const total = EXPORTERS * SITES;
  const countIn = async (base) => {
    const r = (await getJson(`${base}/api/v1/query?query=fleet:optifiber_sites:count`)).data.result;
    return r.length ? Number(r[0].value[1]) : 0;
  };
  await until(async () => (await countIn(promUrl)) === total, 300_000, `fleet:optifiber_sites:count = ${total} in Prometheus`);
  const dataFrom = Math.floor(Date.now() / 1000);
  const step = Number.parseInt(SCRAPE, 10) || 15;
  // The window starts here whether or not remote write has caught up: when
  // it cannot keep up, the lag and the ingest rate say so (a sizing fact).

  // ---- measurement window
  const pids = {
    exporters: exporters.map((e) => e.proc.pid),
    simulators: exporters.map((e) => childPids(e.proc.pid)[0]).filter(Boolean),
    prometheus: [prom.pid],
    victoriametrics: [vm.pid],
  };
  const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, ps]) => [k, ps.map((p) => procStat(p).ticks)]));
  const rssMax = Object.fromEntries(Object.entries(pids).map(([k, ps]) => [k, ps.map(() => 0)]));
  const [vm0, pm0] = [await getText(`${vm.url}/metrics`), await getText(`${promUrl}/metrics`)];
  const w0 = Date.now();
  const lags = [];
  const loads = [];
  // End to end: when a scraped sample (each exporter's `up`) is first seen in
  // Prometheus and first seen in VictoriaMetrics' raw export (no latency offset there).
  const seenProm = new Map();
  const seenVm = new Map();
  const freshness = (async () => {
    while (Date.now() - w0 < WINDOW_S * 1000) {
      const now = Date.now();
      const [p, v] = await Promise.all([
        getJson(`${promUrl}/api/v1/query?query=${encodeURIComponent('timestamp(up{job="optifiber"})')}`).catch(() => null),
        getText(`${vm.url}/api/v1/export?match[]=${encodeURIComponent('up{job="optifiber"}')}&start=${Math.floor(now / 1000) - 60}`).catch(() => ''),
      ]);
      for (const r of p?.data.result ?? []) { const k = `${r.metric.instance}@${Math.round(Number(r.value[1]) * 1000)}`; if (!seenProm.has(k)) seenProm.set(k, now); }
      for (const line of v.split('\n').filter(Boolean)) {
        const j = JSON.parse(line);
        for (const ts of j.timestamps) { const k = `${j.metric.instance}@${ts}`; if (!seenVm.has(k)) seenVm.set(k, now); }
      }
      await sleep(250);
    }
  })();
  say(`measuring for ${WINDOW_S} s`);
  while (Date.now() - w0 < WINDOW_S * 1000) {
    const m = await getText(`${promUrl}/metrics`).catch(() => '');
    const highest = metric(m, 'prometheus_remote_storage_highest_timestamp_in_seconds');
    const sent = metric(m, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds');
    if (highest > 0 && sent > 0) lags.push(Math.max(0, highest - sent));
    for (const [k, ps] of Object.entries(pids)) ps.forEach((p, i) => { rssMax[k][i] = Math.max(rssMax[k][i], procStat(p).rss); });
    loads.push(loadavg()[0]);
    await sleep(1000);
  }
  await freshness;
  const wS = (Date.now() - w0) / 1000;
  // Samples Prometheus showed during the window (not in its first poll: their first-seen time is unknown).
  const firstPoll = Math.min(...seenProm.values());
  const visible = [...seenProm].filter(([k, at]) => at > firstPoll && seenVm.has(k)).map(([k, at]) => (seenVm.get(k) - at) / 1000);
  const neverSeen = [...seenProm].filter(([k, at]) => at > firstPoll && !seenVm.has(k)).length;
  const cpu1 = Object.fromEntries(Object.entries(pids).map(([k, ps]) => [k, ps.map((p) => procStat(p).ticks)]));
  const [vm1, pm1] = [await getText(`${vm.url}/metrics`), await getText(`${promUrl}/metrics`)];
  const cores = Object.fromEntries(Object.entries(pids).map(([k, ps]) => [k, ps.map((_, i) => (cpu1[k][i] - cpu0[k][i]) / CLK_TCK / wS)]));
  const vmRows = metric(vm1, 'vm_rows_inserted_total', /type="promremotewrite"/) - metric(vm0, 'vm_rows_inserted_total', /type="promremotewrite"/);
  const appended = metric(pm1, 'prometheus_tsdb_head_samples_appended_total') - metric(pm0, 'prometheus_tsdb_head_samples_appended_total');
  const sentSamples = metric(pm1, 'prometheus_remote_storage_samples_total') - metric(pm0, 'prometheus_remote_storage_samples_total');
  const failedSamples = metric(pm1, 'prometheus_remote_storage_samples_failed_total') - metric(pm0, 'prometheus_remote_storage_samples_failed_total');
  const headSeries = metric(pm1, 'prometheus_tsdb_head_series');
  // Queries at N x M sites need every site in VictoriaMetrics: wait (bounded) for the backlog.
  // Caught up: the remote-write queue within two scrape intervals of the newest sample, and every site counted there.
  const queueLag = async () => { const m = await getText(`${promUrl}/metrics`); return metric(m, 'prometheus_remote_storage_highest_timestamp_in_seconds') - metric(m, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds'); };
  const caughtUpAfterS = await until(async () => ((await queueLag()) <= 2 * step && (await countIn(vm.url)) === total ? Math.max(0.001, (Date.now() - w0) / 1000 - wS) : 0), 180_000, 'VictoriaMetrics to catch up').catch(() => null);
  say(`VictoriaMetrics ingested ${Math.round(vmRows / wS)} samples/s; caught up ${caughtUpAfterS === null ? 'NOT within 180 s' : `${r1(caughtUpAfterS)} s after the window`}; lag p99 ${r3(quantile(lags, 0.99))} s (queue), ${r3(quantile(visible, 0.99))} s (end to end, n ${visible.length})`);

  // ---- fleet dashboard queries: VictoriaMetrics and (baseline) Prometheus, same data, interleaved
  const exprs = fleetDashboardExpressions();
  const end = Math.floor(Date.now() / 1000) - 10; // past VictoriaMetrics' latency offset (5 s)
  const rangeQ = (base, e) => `${base}/api/v1/query_range?query=${encodeURIComponent(e)}&start=${dataFrom}&end=${end}&step=${step}`;
  const timed = async (url) => { const s = performance.now(); const j = await getJson(url); return { ms: performance.now() - s, series: j.data.result.length }; };
  const perExpr = Object.fromEntries(exprs.map((e) => [e, { victoriametrics: [], prometheus: [], series: {} }]));
  const dashboard = { victoriametrics: [], prometheus: [] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, base] of rep % 2 ? [['prometheus', promUrl], ['victoriametrics', vm.url]] : [['victoriametrics', vm.url], ['prometheus', promUrl]]) {
      for (const e of exprs) {
        const r = await timed(rangeQ(base, e));
        perExpr[e][name].push(r.ms);
        perExpr[e].series[name] = r.series;
      }
      const s = performance.now();
      await Promise.all(exprs.map((e) => getJson(rangeQ(base, e)))); // Grafana loads a dashboard's panels concurrently
      dashboard[name].push(performance.now() - s);
    }
  }
  const mismatch = exprs.filter((e) => perExpr[e].series.victoriametrics !== perExpr[e].series.prometheus);

  const perProc = (k) => ({
    n: pids[k].length,
    cpu_cores: { median: r3(med(cores[k])), max: r3(Math.max(...cores[k])) },
    rss_mib: { median: r1(med(rssMax[k]) / 2 ** 20), max: r1(Math.max(...rssMax[k]) / 2 ** 20) },
  });
  const result = {
    method: {
      setup: `${EXPORTERS} exporter processes (node exporter/dist/cli.js exporter, --source.kind=userspace, ${SITES} sites each, simulator time scale 60, anomaly and forecast models on), one Prometheus ${SCRAPE} scrape and rule evaluation (prometheus/rules/*.yml), remote_write (batch_send_deadline 1s) to victoria-metrics single node (-search.latencyOffset=5s), all on 127.0.0.1 in one network namespace`,
      window: `${r1(wS)} s from the first evaluation of fleet:optifiber_sites:count = ${total} in Prometheus (remote write may still be catching up: see victoriametrics_caught_up_after_window_s); queries after VictoriaMetrics holds every site`,
      ingest: 'vm_rows_inserted_total{type="promremotewrite"} delta / window; Prometheus: prometheus_tsdb_head_samples_appended_total and prometheus_remote_storage_samples_total deltas',
      lag: 'queue: every 1 s, prometheus_remote_storage_highest_timestamp_in_seconds - prometheus_remote_storage_queue_highest_sent_timestamp_seconds (whole seconds: Prometheus reports both in seconds); end_to_end: every 250 ms, timestamp(up{job="optifiber"}) from Prometheus and /api/v1/export from VictoriaMetrics: time from a sample first answered by Prometheus to first exported by VictoriaMetrics (250 ms resolution)',
      queries: `each fleet dashboard expression as query_range from the first complete data (${end - dataFrom} s, step ${step} s), ${REPS} repetitions interleaved between the stores; "dashboard" = all ${exprs.length} at once`,
      cpu: 'utime+stime delta over the window / window (1.0 = one core); RSS = max of 1 s samples',
    },
    machine_note: `shared 2-core machine: other engineers' test suites and benchmarks ran at the same time; 1-minute load average during the window: median ${r1(med(loads))}, max ${r1(Math.max(...loads))}; this bench's own processes used ${r1(Object.values(cores).flat().reduce((a, b) => a + b, 0))} cores of it`,
    fleet: { exporters: EXPORTERS, sites_per_exporter: SITES, sites: total, prometheus_head_series: headSeries, scrape_interval: SCRAPE },
    ingest: {
      victoriametrics_samples_per_second: Math.round(vmRows / wS),
      prometheus_appended_samples_per_second: Math.round(appended / wS),
      prometheus_remote_write_samples_per_second: Math.round(sentSamples / wS),
      remote_write_failed_samples: failedSamples,
    },
    victoriametrics_caught_up_after_window_s: caughtUpAfterS === null ? 'not within 180 s' : r1(caughtUpAfterS),
    remote_write_lag_seconds: {
      queue: { n: lags.length, p50: quantile(lags, 0.5), p99: r3(quantile(lags, 0.99)), max: Math.max(...lags) },
      end_to_end: { n: visible.length, p50: r3(quantile(visible, 0.5)), p99: r3(quantile(visible, 0.99)), max: r3(Math.max(...visible)), not_yet_in_victoriametrics_at_window_end: neverSeen },
    },
    fleet_dashboard_query_ms: {
      note: 'medians; baseline = Prometheus holding the same data in the same run',
      dashboard_load: { victoriametrics: r1(med(dashboard.victoriametrics)), prometheus_baseline: r1(med(dashboard.prometheus)) },
      per_expression: Object.fromEntries(exprs.map((e) => [e, { series: perExpr[e].series.victoriametrics, victoriametrics: r1(med(perExpr[e].victoriametrics)), prometheus_baseline: r1(med(perExpr[e].prometheus)) }])),
      series_count_mismatches: mismatch,
    },
    processes: { exporter: perProc('exporters'), simulator: perProc('simulators'), prometheus: perProc('prometheus'), victoriametrics: perProc('victoriametrics') },
  };
  const out = opt('out', null);
  if (out) writeFileSync(out, JSON.stringify({ bench: 'fleet', date: new Date().toISOString(), machine: machine(), ...result }, null, 2) + '\n');
  else writeResult('fleet', result);
  console.log(JSON.stringify({ ingest: result.ingest, lag: result.remote_write_lag_seconds, dashboard: result.fleet_dashboard_query_ms.dashboard_load, exporter: result.processes.exporter }, null, 1));
  if (mismatch.length) console.log(`bench fleet: series counts differ between the stores for ${mismatch.join(', ')}`);
} catch (e) {
  console.log(`bench fleet failed: ${e.stack ?? e}`);
  for (const c of children) if (c.tail) console.log(`# ${c.spawnargs.slice(0, 2).join(' ')}: ${c.tail().slice(-600)}`);
  process.exitCode = 1;
} finally {
  killAll();
  await vm?.stop().catch(() => {});
  await sleep(500);
  rmSync(work, { recursive: true, force: true });
}
process.exit(process.exitCode ?? 0);
