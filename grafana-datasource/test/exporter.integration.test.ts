// The data source against the real exporter + user-space simulator (built by
// `npm run build` at the root), through a fetcher that stands in for Grafana's
// data-source proxy. Skipped (reported as skipped) when they are not built.
import { dateTime, type DataQueryRequest, type DataSourceInstanceSettings } from '@grafana/data';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, map, take, toArray } from 'rxjs';
import type { Fetcher } from '../src/api.js';
import { DataSource } from '../src/datasource.js';
import type { OptiFiberOptions, OptiFiberQuery } from '../src/types.js';
import { DATASOURCE_TYPE } from '../src/constants.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'exporter/dist/cli.js');
const built = existsSync(cli) && existsSync(join(root, 'kernel/build/optifiber-sim'));
const port = 30000 + Math.floor(Math.random() * 1000);
const target = `http://127.0.0.1:${port}`;

/** Grafana's proxy: /api/datasources/proxy/uid/of/open/<path> -> exporter/<path>. */
const proxyFetcher: Fetcher = (url, opts) => new Promise((resolve, reject) => {
  const path = url.replace(/^\/api\/datasources\/proxy\/uid\/of\/open/, '');
  const req = http.get(`${target}${path}`, { signal: opts?.signal }, (res) => {
    let body = '';
    res.on('data', (c) => { body += c; });
    res.on('end', () => { let data: unknown = body; try { data = JSON.parse(body); } catch { /* text */ } resolve({ status: res.statusCode ?? 0, data }); });
  });
  req.on('error', reject);
});

function ds(): DataSource {
  return new DataSource({ id: 1, uid: 'of', name: 'OptiFiber', type: DATASOURCE_TYPE, url: '/api/datasources/proxy/uid/of', access: 'proxy', readOnly: false, meta: {} as never, jsonData: { url: target, authType: 'none', pollTimeoutSeconds: 5 } } as DataSourceInstanceSettings<OptiFiberOptions>, { fetcher: proxyFetcher, interpolate: (v) => v });
}

function request(targets: Array<Partial<OptiFiberQuery>>, spanMs = 30_000): DataQueryRequest<OptiFiberQuery> {
  const now = Date.now();
  return { requestId: 'r', interval: '1s', intervalMs: 500, range: { from: dateTime(now - spanMs), to: dateTime(now), raw: { from: 'now-30s', to: 'now' } }, scopedVars: {}, targets: targets.map((t, i) => ({ refId: String.fromCharCode(65 + i), ...t })) as OptiFiberQuery[], timezone: 'utc', app: 'dashboard', startTime: now } as DataQueryRequest<OptiFiberQuery>;
}

const maybe = built ? describe : describe.skip;

maybe('against a running exporter (user-space simulator)', () => {
  let proc: ChildProcess;
  beforeAll(async () => {
    proc = spawn(process.execPath, [cli, 'start', `--web.listen-address=127.0.0.1:${port}`, '--simulator.nsites=4', '--sampler.interval=500ms', '--simulator.tick-ms=500', '--log.level=warn'], { cwd: root, stdio: 'ignore' });
    const until = Date.now() + 20_000;
    for (;;) {
      const ok = await proxyFetcher('/api/datasources/proxy/uid/of/open/-/ready').then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() > until) throw new Error('exporter not ready');
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 1500)); // a few ticks of history
  }, 30_000);
  afterAll(() => { proc?.kill('SIGTERM'); });

  test('Save & Test, variables, history, events, forecast, live', async () => {
    const d = ds();
    const health = await d.testDatasource();
    expect(health).toMatchObject({ status: 'success' });
    expect(health.message).toMatch(/OptiFiber exporter OK: 4 sites/);

    const sites = await d.siteNames();
    expect(sites).toHaveLength(4);

    const hist = await lastValueFrom(d.query(request([{ sites: [String(sites[0])], metric: 'throughputBps', mode: 'history' }])));
    expect(hist.errors).toBeUndefined();
    expect(hist.data).toHaveLength(1);
    expect(hist.data[0].fields[1].config.unit).toBe('bps');
    expect(hist.data[0].fields[1].values.length).toBeGreaterThanOrEqual(2);

    const events = await lastValueFrom(d.query(request([{ mode: 'events' }])));
    expect(events.errors).toBeUndefined();
    expect(events.data[0].fields.map((f: { name: string }) => f.name)).toEqual(['time', 'title', 'text', 'tags', 'site', 'kind']);

    const fc = await lastValueFrom(d.query(request([{ mode: 'forecast', metric: 'utilization' }])));
    if (fc.data.length) {
      expect(fc.data[0].fields[0].values.at(-1)).toBeGreaterThan(Date.now());
    } else {
      expect(fc.errors?.[0]?.message).toMatch(/without forecast models/);
    }

    const t0 = Date.now();
    // frames are mutated in place (bounded buffer): read each emission as it comes
    const times = await lastValueFrom(d.query(request([{ mode: 'live', metric: 'utilization', sites: [String(sites[1])] }]))
      .pipe(take(3), map((r) => { const v = r.data[0].fields[0].values; return v[v.length - 1] as number; }), toArray()));
    expect(times[1]).toBeGreaterThan(times[0]!);
    expect(times[2]).toBeGreaterThan(times[1]!);
    // two new ticks at 500 ms arrive well within 1 s each
    expect(Date.now() - t0).toBeLessThan(2500);
  }, 30_000);
});
