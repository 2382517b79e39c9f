// Exporter benchmark: for 4, 1,000 and 10,000 simulated sites, the tick cost,
// /metrics render time and size, RSS, prom-client's own cost of rendering a
// registry of the same size (same run), and 50 concurrent scraping clients
// for 10 s on loopback (autocannon). Writes bench/results/exporter.json.
//
//   npx tsc -b exporter && node bench/exporter.mjs [--sizes 4,1000,10000,1000t] [--duration 10] [--dist DIR] [--out FILE]
//
// Plain Node ESM against exporter/dist. Every child process is bounded in
// time and killed on exit.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import promClient from 'prom-client';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv0 = process.argv.slice(2);
// --dist DIR: another build of the exporter (e.g. a saved baseline), for before/after in the same conditions.
const dist = argv0.includes('--dist') ? argv0[argv0.indexOf('--dist') + 1] : join(root, 'exporter', 'dist');
const { createAiStage } = await import(join(dist, 'ai', 'stage.js'));
const { Sampler } = await import(join(dist, 'sampler', 'sampler.js'));
const { PageReader } = await import(join(dist, 'source', 'page-reader.js'));
const { standardRegistry } = await import(join(dist, 'metrics', 'catalogue.js'));
const { SITE_VALUES } = await import(join(dist, 'metrics', 'collectors', 'site.js'));
const { loadConfig } = await import(join(dist, 'config', 'load.js'));

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
// "1000t": 1,000 sites with the exporter started with TUNED_FLAGS (V8 heap caps).
const SIZES = opt('sizes', '4,1000,10000,1000t').split(',');
const TUNED_FLAGS = ['--max-old-space-size=64', '--max-semi-space-size=4'];
const DURATION_S = Math.min(30, Number(opt('duration', '10')));
const WRITER_TICK_MS = 1000;
const CONNECTIONS = 50;
const NODE_FLAGS = (opt('node-flags', '') || '').split(' ').filter(Boolean);
const SIM = join(root, 'kernel', 'build', 'optifiber-sim');
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const r2 = (x) => Math.round(x * 100) / 100;

function startChild(cmd, argv, readyTest, timeoutMs = 30_000) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`${cmd} not ready in ${timeoutMs} ms`)), timeoutMs);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        let ev;
        try {
          ev = JSON.parse(line);
        } catch {
          return;
        }
        const v = readyTest(ev);
        if (v !== undefined) {
          clearTimeout(t);
          ok({ child, ready: v });
        }
      });
    }
    child.once('exit', (code) => fail(new Error(`${cmd} exited early (${code})`)));
  });
}

async function stopChild(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

function get(url, headers = {}) {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    http
      .get(url, { headers, agent: false }, (res) => {
        let n = 0;
        const chunks = [];
        res.on('data', (c) => {
          n += c.length;
          chunks.push(c);
        });
        res.on('end', () => ok({ status: res.statusCode, bytes: n, ms: performance.now() - t0, body: Buffer.concat(chunks) }));
      })
      .on('error', fail);
  });
}

function rssMb(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)[1]);
  return { rss: r2(kb('VmRSS') / 1024), hwm: r2(kb('VmHWM') / 1024) };
}

/** prom-client registry with the same per-site families and sites. */
function promClientCost(tick) {
  const reg = new promClient.Registry();
  const fams = SITE_VALUES.map((v) =>
    v.type === 'counter'
      ? new promClient.Counter({ name: v.name, help: v.help, labelNames: ['site'], registers: [reg] })
      : new promClient.Gauge({ name: v.name, help: v.help, labelNames: ['site'], registers: [reg] }),
  );
  const extra = [
    'optifiber_site_info', 'optifiber_site_page_valid', 'optifiber_osnr_low_threshold_db', 'optifiber_pre_fec_ber_high_threshold_ratio',
    'optifiber_rx_power_low_threshold_dbm', 'optifiber_rx_power_high_threshold_dbm', 'optifiber_utilization_high_threshold_ratio',
    'optifiber_anomaly_score_threshold', 'optifiber_simulated_fault_info',
  ].map((name) => new promClient.Gauge({ name, help: name, labelNames: ['site'], registers: [reg] }));
  const states = new promClient.Gauge({ name: 'optifiber_link_state', help: 'x', labelNames: ['site', 'state'], registers: [reg] });
  const set = () => {
    for (const st of tick.sites) {
      const site = st.sample.name;
      SITE_VALUES.forEach((v, k) => {
        const m = fams[k];
        if (v.type === 'counter') m.labels(site).inc(Math.max(0, v.get(st))); // fresh registry: inc from 0 = set
        else m.labels(site).set(v.get(st));
      });
      for (const g of extra) g.labels(site).set(1);
      for (const s of ['down', 'up', 'degraded']) states.labels(site, s).set(st.sample.linkState === s ? 1 : 0);
    }
  };
  const t0 = performance.now();
  set();
  const setMs = performance.now() - t0;
  return { reg, setMs };
}

async function runSize(spec) {
  const tuned = spec.endsWith('t');
  const n = Number(tuned ? spec.slice(0, -1) : spec);
  const flags = tuned ? TUNED_FLAGS : NODE_FLAGS;
  console.error(`--- ${n} sites${tuned ? ' (tuned V8 flags)' : ''}`);
  const dir = mkdtempSync(join(tmpdir(), 'optifiber-bench-'));
  const out = { sites: n, exporter_node_flags: flags.join(' ') || 'none' };
  // The production defaults: the writer ticks every second, as the sampler does (a
  // faster writer hands each site several samples per tick through the recent ring:
  // catch_up_tick_ms below measures that).
  const sim = await startChild(SIM, ['run', '--nsites', String(n), '--tick-ms', String(WRITER_TICK_MS), '--dir', dir], (ev) => (ev.event === 'ready' ? ev : undefined));
  try {
    // 1. tick cost and render, in this process, on the live pages
    const sampler = new Sampler({ kind: 'file', path: sim.ready.pages, open: (p) => PageReader.open(p), intervalMs: 1000, historyMs: 3_600_000, historyMaxBytes: 32 * 1024 * 1024 });
    // The production tick: the AI stage (anomaly + forecast inference, one batched
    // onnxruntime call per model) runs inside Sampler.tick(), as in startExporter().
    const ai = await createAiStage({});
    // Timed apart so the sampler's own cost (the 20 ms target) and the
    // models' cost (issue 4's 50 ms target) are both visible.
    let stageMs = 0;
    sampler.addStage(async (t) => {
      const a = performance.now();
      await ai.stage(t);
      stageMs = performance.now() - a;
    });
    out.ai_models_up = ai.status().filter((m) => m.up).map((m) => m.model);
    const { registry } = standardRegistry();
    const thresholds = loadConfig({ argv: [], env: {} }).config.thresholds;
    const build = { version: 'bench', revision: 'bench', nodejsVersion: process.version };
    const ticks = [];
    const inference = [];
    const renders = [];
    let text = '';
    // Warm-up until the history ring has wrapped once: its columns are
    // allocated zeroed and paged in on first write (a one-off cost per page,
    // reported separately as tick_first_hour_ms).
    const warm = [];
    await sampler.tick();
    for (let i = 0; i <= Math.min(sampler.historyCapacity(), 400); i++) {
      const t0 = performance.now();
      await sampler.tick();
      warm.push(performance.now() - t0);
      if (i % 4 === 0) await sleep(5);
    }
    out.tick_first_hour_ms = { median: r2(median(warm)), ticks: warm.length, history_entries_per_site: sampler.historyCapacity() };
    const probe = PageReader.open(sim.ready.pages);
    const writerTick = () => probe.snapshot().dir.tick;
    /** Until the writer has published `count` more ticks (and finished the last: +20 ms). */
    const writerTicks = async (count) => {
      const from = writerTick();
      while (writerTick() < from + count) await sleep(10);
      await sleep(20);
    };
    for (let i = 0; i < 30; i++) {
      await writerTicks(1); // one new sample per site, as in production
      const t0 = performance.now();
      const tick = await sampler.tick();
      ticks.push(performance.now() - t0);
      inference.push(stageMs);
      if (!tick.source.up) throw new Error(`source down: ${tick.source.error}`);
      const t1 = performance.now();
      text = registry.render('prometheus', { tick, thresholds, stats: sampler.stats, build });
      Buffer.from(text, 'utf8');
      renders.push(performance.now() - t1);
    }
    const body = Buffer.from(text, 'utf8');
    out.tick_ms = { median: r2(median(ticks)), p99: r2(pct(ticks, 99)), note: 'steady state: history ring wrapped; one new sample per site; includes inference' };
    // A tick that fell behind: three writer ticks since the last, so each site
    // brings two samples from its recent ring besides its page's.
    out.tick_ms.ring_samples = sampler.stats.ringSamplesTotal ?? 0; // samples the timed ticks read from the rings: 0 when in step
    const catchUp = [];
    const catchUpAi = [];
    for (let i = 0; i < 5; i++) {
      await writerTicks(3);
      const t0 = performance.now();
      await sampler.tick();
      catchUp.push(performance.now() - t0);
      catchUpAi.push(stageMs);
    }
    probe.close();
    out.catch_up_tick_ms = { median: r2(median(catchUp)), inference_median: r2(median(catchUpAi)), ring_samples_per_site: 2, note: 'informative: three samples per site learned and scored in one tick' };
    out.inference_ms = { median: r2(median(inference)), p99: r2(pct(inference, 99)), note: 'the AI stage inside the tick' };
    const sampling = ticks.map((t, i) => t - inference[i]);
    out.tick_without_models_ms = { median: r2(median(sampling)), p99: r2(pct(sampling, 99)), note: 'snapshot + rates + history: the tick less the AI stage' };
    out.render_ms = { median: r2(median(renders)), p99: r2(pct(renders, 99)) };
    out.metrics_bytes = body.length;
    out.metrics_gzip_bytes = gzipSync(body, { level: 1 }).length;
    out.series = text.split('\n').filter((l) => l && !l.startsWith('#')).length;

    // 2. prom-client's own cost for a registry of the same size (same tick)
    const tick = sampler.latest();
    const { reg, setMs } = promClientCost(tick);
    const pc = [];
    let pcText = '';
    for (let i = 0; i < (n >= 10000 ? 5 : 15); i++) {
      const t0 = performance.now();
      pcText = await reg.metrics();
      pc.push(performance.now() - t0);
    }
    out.prom_client = { render_ms_median: r2(median(pc)), set_all_ms: r2(setMs), bytes: Buffer.byteLength(pcText), series: pcText.split('\n').filter((l) => l && !l.startsWith('#')).length };
    await sampler.stop();
    reg.clear();

    // 3. the real exporter process on the same pages
    const exp = await startChild(
      process.execPath,
      [...flags, join(dist, 'cli.js'), 'exporter', `--source.path=${sim.ready.pages}`, '--web.listen-address=127.0.0.1:0', '--log.level=info'],
      (ev) => (ev.msg === 'listening' ? ev.url : undefined),
    );
    const url = `${exp.ready}/metrics`;
    try {
      await sleep(1500);
      // fresh-render scrape latency: one scrape per exporter tick, sequential
      const fresh = [];
      for (let i = 0; i < (n >= 10000 ? 6 : 12); i++) {
        const r = await get(url);
        if (r.status !== 200) throw new Error(`status ${r.status}`);
        fresh.push(r.ms);
        await sleep(1000);
      }
      out.scrape_1hz_ms = { median: r2(median(fresh)), max: r2(Math.max(...fresh)) };
      const selfm = (await get(url)).body.toString();
      const num = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(selfm)?.[1]);
      out.exporter_tick_mean_ms = r2((num('optifiber_tick_duration_seconds_sum') / num('optifiber_tick_duration_seconds_count')) * 1000);
      out.rss_mb_idle = rssMb(exp.child.pid).rss;
      // 50 concurrent clients for DURATION_S, gzip like Prometheus
      const ac = await autocannon({
        url,
        connections: CONNECTIONS,
        duration: DURATION_S,
        headers: { 'accept-encoding': 'gzip' },
        timeout: 10,
      });
      out.load = {
        connections: CONNECTIONS,
        duration_s: DURATION_S,
        accept_encoding: 'gzip',
        requests: ac.requests.total,
        throughput_rps: r2(ac.requests.average),
        latency_p50_ms: ac.latency.p50,
        latency_p99_ms: ac.latency.p99,
        errors: ac.errors + ac.timeouts + ac.non2xx,
        bytes_per_s: ac.throughput.average,
      };
      const mem = rssMb(exp.child.pid);
      out.rss_mb = mem.rss;
      out.rss_mb_peak = mem.hwm;
    } finally {
      await stopChild(exp.child);
    }
  } finally {
    await stopChild(sim.child);
    rmSync(dir, { recursive: true, force: true });
  }
  console.error(JSON.stringify(out));
  return out;
}

const runs = [];
for (const n of SIZES) runs.push(await runSize(n));
const by = (n) => runs.find((r) => r.sites === n && r.exporter_node_flags === (NODE_FLAGS.join(' ') || 'none'));
const tunedRun = runs.find((r) => r.sites === 1000 && r.exporter_node_flags === TUNED_FLAGS.join(' '));
const targets = [];
if (by(10000)) {
  const r = by(10000);
  targets.push({ name: '10,000-site tick <= 20 ms (median), sampler only: snapshot, rates, history', target_ms: 20, measured_ms: r.tick_without_models_ms.median, pass: r.tick_without_models_ms.median <= 20 });
  targets.push({ name: '10,000-site tick <= 20 ms (median), with the models running in it (informative: inference has its own 50 ms target, bench/ai-inference.mjs)', target_ms: 20, measured_ms: r.tick_ms.median, pass: r.tick_ms.median <= 20 });
}
if (by(1000)) {
  targets.push({ name: '1,000-site /metrics p50 <= 30 ms (HTTP, one scrape per tick like a 1 s Prometheus)', target_ms: 30, measured_ms: by(1000).scrape_1hz_ms.median, pass: by(1000).scrape_1hz_ms.median <= 30 });
  targets.push({ name: 'RSS <= 150 MB at 1,000 sites (peak during load)', target_mb: 150, measured_mb: by(1000).rss_mb_peak, pass: by(1000).rss_mb_peak <= 150 });
}
if (tunedRun)
  targets.push({ name: `RSS <= 150 MB at 1,000 sites, exporter run with ${TUNED_FLAGS.join(' ')} (informative)`, target_mb: 150, measured_mb: tunedRun.rss_mb_peak, pass: tunedRun.rss_mb_peak <= 150 });
for (const r of runs) targets.push({ name: `${r.sites} sites (${r.exporter_node_flags}): 0 errors under ${CONNECTIONS} clients`, measured: r.load.errors, pass: r.load.errors === 0 });
const result = {
  generated: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg_note: 'shared machine; other work was running' },
  method: {
    tick: 'Sampler.tick() in the bench process on the live simulator pages (PageReader snapshot + rates + history + the AI stage: anomaly and forecast inference, as in production), 30 ticks 110 ms apart',
    render: 'registry.render(prometheus) + Buffer.from, same ticks (values change every tick)',
    prom_client: 'prom-client Registry with the same per-site families and sites, await registry.metrics()',
    scrape_1hz: 'sequential GET /metrics of the exporter process, one per exporter tick (a new tick each time; after two such scrapes the exporter pre-renders after each tick)',
    exporter_flags: NODE_FLAGS.join(' ') || 'none',
    load: `autocannon ${CONNECTIONS} connections, ${DURATION_S} s, Accept-Encoding gzip`,
  },
  runs,
  targets,
  pass: targets.filter((t) => !t.name.includes('informative')).every((t) => t.pass),
};
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(opt('out', join(root, 'bench', 'results', 'exporter.json')), JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
process.exit(0);
