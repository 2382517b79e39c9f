// The models served by the real exporter process: loaded from models.dir,
// inference in the tick, the AI families on /metrics (promtool-clean), and
// the failure modes: an empty models.dir and a corrupt file keep the raw
// metrics flowing with optifiber_model_up 0 and one clear log line each;
// SIGHUP after fixing the directory brings the models up.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, repoRoot, startCli, type StartedCli } from './helpers/build-cli.js';

const MODELS = join(repoRoot, 'exporter', 'models');

function get(url: string): Promise<string> {
  return new Promise((ok, fail) => {
    http
      .get(url, (r) => {
        let s = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (s += c));
        r.on('end', () => ok(s));
      })
      .on('error', fail);
  });
}

type Proc = StartedCli;

async function until(what: string, fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const value = (body: string, series: string): number | undefined => {
  const line = body.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('models served by the exporter process', () => {
  let cli: string;
  const procs: ChildProcess[] = [];
  const dirs: string[] = [];
  beforeAll(() => {
    cli = buildCli();
  });
  afterEach(() => {
    for (const c of procs.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  test('models loaded: scores and forecasts on a live, promtool-clean scrape', async () => {
    const p = await startCli(cli, [
      `--models.dir=${MODELS}`,
      '--simulator.nsites=4',
      '--simulator.time-scale=60', // 13 five-minute buckets of history in ~7 s
      '--simulator.tick-ms=100',
      '--sampler.interval=100ms',
    ]);
    procs.push(p.child);
    let body = '';
    await until('forecasts for every site', async () => {
      body = await get(`${p.base}/metrics`);
      return (body.match(/^optifiber_forecast_utilization_ratio\{/gm) ?? []).length === 12;
    }, 25_000);
    expect(value(body, 'optifiber_model_up{model="anomaly"}')).toBe(1);
    expect(value(body, 'optifiber_model_up{model="forecast"}')).toBe(1);
    expect(body).toMatch(/^optifiber_model_info\{model="anomaly",version="[^"]+",sha256="[0-9a-f]{64}"\} 1$/m);
    expect(body).toMatch(/^optifiber_model_inference_duration_seconds_count\{model="forecast"\} [1-9]/m);
    expect(body).toMatch(/^optifiber_model_last_inference_timestamp_seconds\{model="forecast"\} \d/m);
    expect(body).toMatch(/^optifiber_model_last_load_timestamp_seconds\{model="anomaly"\} \d/m);
    const sites = [...body.matchAll(/^optifiber_site_info\{site="([^"]+)"/gm)].map((m) => m[1]!);
    expect(sites).toHaveLength(4);
    for (const s of sites) {
      const score = value(body, `optifiber_anomaly_score{site="${s}"}`)!;
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
      const q = ['10', '50', '90'].map((k) => value(body, `optifiber_forecast_throughput_bytes_per_second{site="${s}",percentile="${k}"}`)!);
      expect(q[0]).toBeLessThanOrEqual(q[1]!);
      expect(q[1]).toBeLessThanOrEqual(q[2]!);
      // bytes per second, like optifiber_throughput_bytes_per_second (the model speaks bit/s)
      const now = value(body, `optifiber_throughput_bytes_per_second{site="${s}"}`)!;
      const cap = value(body, `optifiber_capacity_bytes_per_second{site="${s}"}`)!;
      expect(q[1]! / now).toBeGreaterThan(0.2);
      expect(q[1]! / now).toBeLessThan(5);
      const u = value(body, `optifiber_forecast_utilization_ratio{site="${s}",percentile="50"}`)!;
      expect(u).toBeCloseTo(Math.min(1, q[1]! / cap), 2);
    }
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect({ status: lint.status, out: lint.stdout + lint.stderr }).toEqual({ status: 0, out: '' });
  }, 60_000);

  test('empty models.dir, then a corrupt file: raw metrics flow, model_up 0, clear log; SIGHUP after the fix: model_up 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optifiber-models-'));
    dirs.push(dir);
    const p = await startCli(cli, [`--models.dir=${dir}`, '--simulator.nsites=3', '--sampler.interval=200ms']);
    procs.push(p.child);
    const scrape = () => get(`${p.base}/metrics`);
    let body = '';
    await until('raw metrics', async () => (body = await scrape()).includes('\noptifiber_sites 3\n'));
    expect(value(body, 'optifiber_model_up{model="anomaly"}')).toBe(0);
    expect(value(body, 'optifiber_model_up{model="forecast"}')).toBe(0);
    expect(body).not.toMatch(/^optifiber_anomaly_score\{/m);
    expect(body).toMatch(/^optifiber_throughput_bytes_per_second\{site=/m);
    const unavailable = (m: string) => p.logs.filter((l) => l.level === 'error' && String(l.msg).startsWith(`ai: ${m} model unavailable`));
    expect(unavailable('anomaly')).toHaveLength(1);
    expect(unavailable('forecast')).toHaveLength(1);
    expect(String(unavailable('anomaly')[0]!.msg)).toContain('raw metrics continue');
    expect(String(unavailable('anomaly')[0]!.path)).toBe(join(dir, 'anomaly.onnx'));
    expect(spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' }).status).toBe(0);

    // a corrupt anomaly model, a good forecast model
    writeFileSync(join(dir, 'anomaly.onnx'), Buffer.from('not an onnx model\n'.repeat(50)));
    copyFileSync(join(MODELS, 'forecast.onnx'), join(dir, 'forecast.onnx'));
    p.child.kill('SIGHUP');
    await until('forecast up after SIGHUP', async () => value((body = await scrape()), 'optifiber_model_up{model="forecast"}') === 1);
    expect(value(body, 'optifiber_model_up{model="anomaly"}')).toBe(0);
    expect(unavailable('anomaly')).toHaveLength(2);
    expect(body).toMatch(/^optifiber_sites 3$/m);

    // fixed: SIGHUP loads it
    copyFileSync(join(MODELS, 'anomaly.onnx'), join(dir, 'anomaly.onnx'));
    p.child.kill('SIGHUP');
    await until('anomaly up after SIGHUP', async () => value((body = await scrape()), 'optifiber_model_up{model="anomaly"}') === 1);
    await until('scores after SIGHUP', async () => /^optifiber_anomaly_score\{/m.test((body = await scrape())));
    expect(p.logs.some((l) => l.msg === 'ai: anomaly model loaded')).toBe(true);
    p.child.kill('SIGTERM');
    expect(await new Promise((r) => p.child.once('exit', r))).toBe(0);
  }, 60_000);
});
