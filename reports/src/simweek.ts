// A simulated week in Prometheus, for tests and demos of the reports.
//
// Drives the real simulation core tick by tick (the AI stage's sim-trace
// tool: one tick = 60 simulated seconds), writes the exporter's metrics as
// OpenMetrics with the exporter's labels (job="optifiber",
// instance, site) and backfills them with
// `promtool tsdb create-blocks-from openmetrics`. The recording rules the
// reports read (site:optifiber_utilization:ratio, the forecast p50/p90) are
// then evaluated by `promtool tsdb create-blocks-from rules` from the
// checked-in prometheus/rules/optifiber-recording.yml against a Prometheus
// serving that TSDB, so they are real rule output, not a copy of the formula.
//
// Stand-ins (the models are not run here): optifiber_anomaly_score comes from
// the simulator's ground-truth fault (about 0.85 during a fault, 0.05..0.25
// otherwise) and optifiber_forecast_* from a trailing 60-minute linear fit
// extrapolated 15 minutes, p10/p90 at +-1.28 residual standard deviations.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { repoRoot, runSim, type SimPoint } from '@optifiber/exporter/sim/trace';

export interface SimWeekOptions {
  start: number; // unix s of the first sample (- 60)
  days?: number; // default 7
  nsites?: number; // default 6
  seed?: number; // default 7
  faultRate?: number; // faults per site per day x1000; default 400
  instance?: string; // default 127.0.0.1:9886
}

const TICK_S = 60;

interface Row {
  t: number;
  p: SimPoint;
  fc?: [number, number, number]; // forecast throughput p10/p50/p90 (bytes/s)
}

function forecasts(rows: Row[]): void {
  const W = 60; // minutes of history
  const H = 15; // minutes ahead
  for (let i = 0; i < rows.length; i++) {
    const lo = Math.max(0, i - W + 1);
    const n = i - lo + 1;
    let sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (let j = lo; j <= i; j++) {
      const x = j - i;
      const y = rows[j]!.p.sample.offeredBps / 8;
      sx += x; sy += y; sxx += x * x; sxy += x * y;
    }
    const den = n * sxx - sx * sx;
    const b = den > 0 ? (n * sxy - sx * sy) / den : 0;
    const a = (sy - b * sx) / n;
    let ss = 0;
    for (let j = lo; j <= i; j++) {
      const r = rows[j]!.p.sample.offeredBps / 8 - (a + b * (j - i));
      ss += r * r;
    }
    const sd = Math.sqrt(ss / Math.max(1, n - 2)) + 0.01 * Math.abs(a);
    const p50 = Math.max(0, a + b * H);
    rows[i]!.fc = [Math.max(0, p50 - 1.28 * sd), p50, p50 + 1.28 * sd];
  }
}

/** Writes the OpenMetrics file; returns the site names. */
export async function writeSimWeekOpenMetrics(path: string, o: SimWeekOptions): Promise<string[]> {
  const days = o.days ?? 7;
  const nsites = o.nsites ?? 6;
  const perSite: Row[][] = Array.from({ length: nsites }, () => []);
  runSim({ seed: o.seed ?? 7, nsites, ticks: days * 1440, timeScale: TICK_S, faultRate: o.faultRate ?? 400 }, (tick, pts) => {
    pts.forEach((p, i) => perSite[i]!.push({ t: o.start + (tick + 1) * TICK_S, p }));
  });
  perSite.forEach(forecasts);
  const inst = o.instance ?? '127.0.0.1:9886';
  const names = perSite.map((r) => r[0]!.p.sample.name);
  const ws = createWriteStream(path);
  const w = (s: string) => (ws.write(s) ? Promise.resolve() : new Promise<void>((r) => ws.once('drain', () => r())));
  const rnd = (i: number, t: number) => {
    const x = Math.sin(i * 12.9898 + t * 0.0078233) * 43758.5453;
    return x - Math.floor(x);
  };
  type Fam = { name: string; type: 'gauge'; extra?: string; get: (r: Row, site: number) => number };
  const fams: Fam[] = [
    { name: 'optifiber_throughput_bytes_per_second', type: 'gauge', get: (r) => r.p.sample.throughputBps / 8 },
    { name: 'optifiber_offered_load_bytes_per_second', type: 'gauge', get: (r) => r.p.sample.offeredBps / 8 },
    { name: 'optifiber_capacity_bytes_per_second', type: 'gauge', get: (r) => r.p.sample.capacityBps / 8 },
    { name: 'optifiber_cmd_module_capacity_bytes_per_second', type: 'gauge', get: (r) => r.p.sample.moduleCapacityBps / 8 },
    { name: 'optifiber_cmd_modules', type: 'gauge', get: (r) => r.p.sample.cmdModules },
    { name: 'optifiber_cmd_modules_max', type: 'gauge', get: (r) => r.p.sample.cmdModulesMax },
    { name: 'optifiber_link_up', type: 'gauge', get: (r) => (r.p.sample.linkState === 'up' || r.p.sample.linkState === 'degraded' ? 1 : 0) },
    { name: 'optifiber_osnr_db', type: 'gauge', get: (r) => r.p.sample.osnrDb },
    { name: 'optifiber_pre_fec_bit_error_ratio', type: 'gauge', get: (r) => r.p.sample.preFecBer },
    { name: 'optifiber_anomaly_score', type: 'gauge', get: (r, i) => (r.p.sample.fault !== 'none' ? 0.8 + 0.15 * rnd(i, r.t) : 0.05 + 0.2 * rnd(i, r.t)) },
    { name: 'optifiber_anomaly_score_threshold', type: 'gauge', get: () => 0.7 },
    { name: 'optifiber_utilization_high_threshold_ratio', type: 'gauge', get: () => 0.9 },
    ...(['10', '50', '90'] as const).flatMap((q, k): Fam[] => [
      { name: 'optifiber_forecast_throughput_bytes_per_second', type: 'gauge', extra: `percentile="${q}"`, get: (r) => r.fc![k]! },
      { name: 'optifiber_forecast_utilization_ratio', type: 'gauge', extra: `percentile="${q}"`, get: (r) => (r.p.sample.capacityBps > 0 ? r.fc![k]! / (r.p.sample.capacityBps / 8) : 0) },
    ]),
  ];
  const seen = new Set<string>();
  // OpenMetrics: all samples of a family together, so group the percentile variants.
  const order = [...new Set(fams.map((f) => f.name))];
  for (const name of order) {
    const group = fams.filter((f) => f.name === name);
    if (!seen.has(name)) await w(`# TYPE ${name} gauge\n`);
    seen.add(name);
    for (const f of group) {
      for (let i = 0; i < nsites; i++) {
        const labels = `instance="${inst}",job="optifiber",site="${names[i]}"${f.extra ? ',' + f.extra : ''}`;
        let buf = '';
        for (const r of perSite[i]!) buf += `${name}{${labels}} ${f.get(r, i)} ${r.t}\n`;
        await w(buf);
      }
    }
  }
  await w('# EOF\n');
  await new Promise<void>((r) => ws.end(() => r()));
  return names;
}

function run(bin: string, args: string[]): void {
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout || r.error}`);
}

export interface RunningPrometheus {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Debian's prometheus on 127.0.0.1:<port> over `dataDir`, no scrape targets. */
export async function startPrometheus(bin: string, dataDir: string, port: number, logFile: string): Promise<RunningPrometheus> {
  const cfg = join(dataDir, '..', 'prometheus-report-test.yml');
  writeFileSync(cfg, 'global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\nscrape_configs: []\n');
  const log = createWriteStream(logFile, { flags: 'a' });
  await new Promise<void>((r) => log.once('open', () => r()));
  const child = spawn(bin, [
    `--config.file=${cfg}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=3650d', '--log.level=warn', '--web.enable-admin-api',
  ], { stdio: ['ignore', log, log] });
  let exited = false;
  const exitP = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (exited) throw new Error(`prometheus exited: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    try {
      const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('prometheus not ready after 60 s'); }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: child.pid ?? -1,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitP;
      clearTimeout(t);
      log.end();
    },
  };
}

/** The recording rules the reports read, copied from prometheus/rules/optifiber-recording.yml. */
export function reportRecordingRules(): string {
  const doc = parseYaml(readFileSync(join(repoRoot(), 'prometheus/rules/optifiber-recording.yml'), 'utf8')) as { groups: { name: string; rules: { record?: string }[] }[] };
  const want = new Set(['site:optifiber_utilization:ratio', 'site:optifiber_forecast_utilization_p50:ratio', 'site:optifiber_forecast_utilization_p90:ratio']);
  const rules = doc.groups.flatMap((g) => g.rules).filter((r) => r.record && want.has(r.record));
  if (rules.length !== want.size) throw new Error(`recording rules missing from optifiber-recording.yml: expected ${[...want].join(', ')}`);
  return stringifyYaml({ groups: [{ name: 'optifiber.report.backfill', interval: '1m', rules }] });
}

export interface SimWeekTsdb {
  dataDir: string;
  sites: string[];
  prometheus: RunningPrometheus;
}

/**
 * Build a TSDB with a simulated period starting at `o.start` under `dir` and
 * serve it with Prometheus on `port`. Needs prometheus and promtool.
 */
export async function buildSimWeekTsdb(dir: string, o: SimWeekOptions & { port: number; prometheus: string; promtool: string }): Promise<SimWeekTsdb> {
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'data');
  const om = join(dir, 'simweek.om');
  const sites = await writeSimWeekOpenMetrics(om, o);
  run(o.promtool, ['tsdb', 'create-blocks-from', 'openmetrics', om, dataDir]);
  rmSync(om, { force: true });
  let prom = await startPrometheus(o.prometheus, dataDir, o.port, join(dir, 'prometheus.log'));
  const rulesFile = join(dir, 'report-rules.yml');
  writeFileSync(rulesFile, reportRecordingRules());
  const end = o.start + (o.days ?? 7) * 86400 + TICK_S;
  try {
    run(o.promtool, ['tsdb', 'create-blocks-from', 'rules', `--start=${o.start}`, `--end=${end}`, `--url=${prom.url}`, `--output-dir=${join(dir, 'rules-data')}`, '--eval-interval=60s', rulesFile]);
  } finally {
    await prom.stop();
  }
  // move the rule blocks into the TSDB and serve it again
  const { readdirSync, renameSync } = await import('node:fs');
  for (const b of readdirSync(join(dir, 'rules-data'))) renameSync(join(dir, 'rules-data', b), join(dataDir, b));
  prom = await startPrometheus(o.prometheus, dataDir, o.port, join(dir, 'prometheus.log'));
  return { dataDir, sites, prometheus: prom };
}

/**
 * buildSimWeekTsdb, cached: the finished TSDB is kept under
 * <tmpdir>/optifiber-report-simweek/<key> (key: simulation core, this file,
 * the recording rules it evaluates, the options) and copied into `dir` for each run, so only the first run
 * pays for the simulation and the two promtool backfills (~80 s on 2 cores).
 */
export async function cachedSimWeekTsdb(dir: string, o: SimWeekOptions & { port: number; prometheus: string; promtool: string }): Promise<SimWeekTsdb> {
  const { createHash } = await import('node:crypto');
  const { cpSync, existsSync: exists, renameSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { simCoreHash } = await import('@optifiber/exporter/sim/trace');
  const { fileURLToPath } = await import('node:url');
  const self = readFileSync(fileURLToPath(import.meta.url));
  const key = createHash('sha256').update(simCoreHash()).update(self).update(reportRecordingRules()).update(JSON.stringify({ ...o, port: 0, prometheus: '', promtool: '' })).digest('hex').slice(0, 16);
  const cache = join(tmpdir(), 'optifiber-report-simweek', key);
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'data');
  if (exists(join(cache, 'data')) && exists(join(cache, 'sites.json'))) {
    cpSync(join(cache, 'data'), dataDir, { recursive: true });
    const prometheus = await startPrometheus(o.prometheus, dataDir, o.port, join(dir, 'prometheus.log'));
    return { dataDir, sites: JSON.parse(readFileSync(join(cache, 'sites.json'), 'utf8')) as string[], prometheus };
  }
  const built = await buildSimWeekTsdb(dir, o);
  await built.prometheus.stop();
  const staging = `${cache}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  cpSync(dataDir, join(staging, 'data'), { recursive: true });
  writeFileSync(join(staging, 'sites.json'), JSON.stringify(built.sites));
  rmSync(cache, { recursive: true, force: true });
  try {
    renameSync(staging, cache);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run won the race
  }
  rmSync(join(dir, 'simweek.om'), { force: true });
  const prometheus = await startPrometheus(o.prometheus, dataDir, o.port, join(dir, 'prometheus.log'));
  return { dataDir, sites: built.sites, prometheus };
}
