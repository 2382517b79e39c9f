import { dateTime, LoadingState, type DataQueryRequest, type DataQueryResponse, type DataSourceInstanceSettings } from '@grafana/data';
import { firstValueFrom, lastValueFrom, map, take, toArray } from 'rxjs';
import type { FetchOptions, FetchResult } from '../src/api.js';
import { LIVE_MAX_POINTS } from '../src/live.js';
import { DataSource } from '../src/datasource.js';
import type { OptiFiberOptions, OptiFiberQuery } from '../src/types.js';
import { points, site, snapshot } from './fixtures.js';
import { DATASOURCE_TYPE } from '../src/constants.js';


function settings(jsonData: Partial<OptiFiberOptions> = {}): DataSourceInstanceSettings<OptiFiberOptions> {
  return { id: 1, uid: 'of', type: DATASOURCE_TYPE, name: 'OptiFiber', url: '/api/datasources/proxy/uid/of', access: 'proxy', jsonData: { url: 'http://127.0.0.1:9886', ...jsonData }, meta: {} as never, readOnly: false } as DataSourceInstanceSettings<OptiFiberOptions>;
}

function request(targets: Array<Partial<OptiFiberQuery>>): DataQueryRequest<OptiFiberQuery> {
  return {
    requestId: 'r', interval: '1s', intervalMs: 1000, range: { from: dateTime(0), to: dateTime(60_000), raw: { from: 'now-1m', to: 'now' } },
    scopedVars: {}, targets: targets.map((t, i) => ({ refId: String.fromCharCode(65 + i), ...t })) as OptiFiberQuery[], timezone: 'utc', app: 'dashboard', startTime: 0,
  } as DataQueryRequest<OptiFiberQuery>;
}

function fakeExporter(routes: Record<string, (url: URL) => FetchResult | Promise<FetchResult>>) {
  const calls: string[] = [];
  const options: FetchOptions[] = [];
  const fetcher = async (u: string, o: FetchOptions = {}): Promise<FetchResult> => {
    calls.push(u);
    options.push(o);
    const url = new URL(u, 'http://grafana');
    for (const [prefix, h] of Object.entries(routes)) if (url.pathname.endsWith(prefix) || url.pathname.includes(prefix)) return h(url);
    return { status: 404, data: { error: 'not_found', message: 'no route' } };
  };
  return { fetcher, calls, options };
}

const sitesBody = { seq: 7, takenAt: 'x', source: { kind: 'userspace', up: true }, sites: [{ name: 'b', index: 1, valid: true }, { name: 'a', index: 0, valid: true }, { index: 2, valid: false, reason: 'bad magic' }] };

describe('DataSource', () => {
  test('requests go through the proxy route chosen by the auth type (bearer token injected server-side)', async () => {
    const { fetcher, calls } = fakeExporter({ '/api/v1/sites': () => ({ status: 200, data: sitesBody }) });
    await new DataSource(settings({ authType: 'bearer' }), { fetcher }).siteNames();
    await new DataSource(settings(), { fetcher }).siteNames();
    expect(calls).toEqual(['/api/datasources/proxy/uid/of/bearer/api/v1/sites', '/api/datasources/proxy/uid/of/open/api/v1/sites']);
  });

  test('history: one frame per site, step from the panel interval', async () => {
    const { fetcher, calls } = fakeExporter({
      '/history': (u) => {
        const name = decodeURIComponent(/sites\/([^/]+)\/history/.exec(u.pathname)![1]!);
        return { status: 200, data: { site: name, from: 'x', to: 'y', stepSeconds: 1, points: points(name, 3, 0, 1000) } };
      },
      '/api/v1/sites': () => ({ status: 200, data: sitesBody }),
    });
    const ds = new DataSource(settings(), { fetcher, interpolate: (v) => (v === '$site' ? 'a,b' : v) });
    const res = await lastValueFrom(ds.query(request([{ sites: ['$site'], metric: 'osnrDb', mode: 'history' }])));
    expect(res.data.map((f) => f.name)).toEqual(['a OSNR', 'b OSNR']);
    expect(res.data[0].fields[1].config.unit).toBe('dB');
    expect(calls[0]).toBe('/api/datasources/proxy/uid/of/open/api/v1/sites/a/history?from=0.000&to=60.000&step=1');
    // empty site list = every valid site
    const all = await lastValueFrom(ds.query(request([{ metric: 'utilization' }])));
    expect(all.data).toHaveLength(2);
  });

  test('invalid queries report errors instead of calling the exporter', async () => {
    const { fetcher, calls } = fakeExporter({});
    const res = await lastValueFrom(new DataSource(settings(), { fetcher }).query(request([{ mode: 'forecast', metric: 'osnrDb' }])));
    expect(res.errors?.[0]?.message).toMatch(/no forecast/);
    expect(calls).toEqual([]);
  });

  test('forecast: frames with future timestamps; sites without models are reported', async () => {
    const now = Date.now();
    const { fetcher } = fakeExporter({ '/api/v1/snapshot': () => ({ status: 200, data: snapshot(3, now, [site('a', { inference: { forecast: { horizonSeconds: 900, throughputBps: { p10: 1, p50: 2, p90: 3 }, utilization: { p10: 0.4, p50: 0.6, p90: 0.7 } } } }), site('b')]) }) });
    const res = await lastValueFrom(new DataSource(settings(), { fetcher }).query(request([{ mode: 'forecast', metric: 'utilization' }])));
    expect(res.data).toHaveLength(1);
    expect(res.data[0].fields[0].values.at(-1)).toBe(now + 900_000);
    expect(res.errors?.[0]?.message).toMatch(/No forecast for 1 site/);
  });

  test('live: snapshot, then each long-poll answer is emitted as a streaming frame', async () => {
    let polls = 0;
    const T = Date.now();
    const { fetcher, calls } = fakeExporter({
      '/api/v1/snapshot': () => ({ status: 200, data: snapshot(10, T, [site('a', { utilization: 0.1 })]) }),
      '/history': () => ({ status: 200, data: { site: 'a', from: 'x', to: 'y', stepSeconds: 1, points: [] } }),
      '/api/v1/poll': async (u) => {
        polls++;
        await new Promise((r) => setTimeout(r, 5));
        const after = Number(u.searchParams.get('after'));
        return { status: 200, data: { lastSeq: after + 1, gap: false, ticks: [snapshot(after + 1, T + (after - 9) * 1000, [site('a', { utilization: 0.1 + polls / 10 })])] } };
      },
    });
    const ds = new DataSource(settings({ pollTimeoutSeconds: 5 }), { fetcher });
    const out = await lastValueFrom(ds.query(request([{ mode: 'live', sites: ['a'] }])).pipe(
      take(3), map((r: DataQueryResponse) => ({ state: r.state, values: [...r.data[0].fields[1].values] })), toArray()));
    expect(out.every((r) => r.state === LoadingState.Streaming)).toBe(true);
    expect(out[2]!.values).toEqual([0.1, 0.2, 0.30000000000000004]);
    expect(calls[0]).toContain('/open/api/v1/snapshot?sites=a');
    expect(calls[1]).toMatch(/\/open\/api\/v1\/sites\/a\/history\?from=/);
    expect(calls[2]).toContain('/open/api/v1/poll?after=10&timeout=5&sites=a');
    expect(calls[3]).toContain('after=11');
  });

  test('live: backfilled from history over the panel window, then bounded however long it runs', async () => {
    const t0 = 1_000_000_000;
    let seq = 100;
    let now = t0;
    const { fetcher, calls } = fakeExporter({
      '/api/v1/snapshot': () => ({ status: 200, data: snapshot(seq, now, [site('a', { utilization: 0.9 })]) }),
      // 24 h of history at the buffer's step (window / LIVE_MAX_POINTS)
      '/history': (u) => {
        const step = Number(u.searchParams.get('step')) * 1000;
        const from = Number(u.searchParams.get('from')) * 1000;
        const n = Math.floor((now - from) / step);
        return { status: 200, data: { site: 'a', from: 'x', to: 'y', stepSeconds: step / 1000, points: points('a', n, from, step, () => ({ utilization: 0.5 })) } };
      },
      '/api/v1/poll': async (u) => {
        await new Promise((r) => setTimeout(r, 1));
        const after = Number(u.searchParams.get('after'));
        // 200 ticks per answer, one per second of simulated time
        const ticks = Array.from({ length: 200 }, (_, i) => snapshot(after + 1 + i, (now += 1000), [site('a', { utilization: 0.7 })]));
        return { status: 200, data: { lastSeq: after + 200, gap: false, ticks } };
      },
    });
    const day = 86_400_000;
    const ds = new DataSource(settings(), { fetcher });
    const req = { ...request([{ mode: 'live', sites: ['a'], metric: 'utilization' }]), range: { from: dateTime(t0 - day), to: dateTime(t0), raw: { from: 'now-24h', to: 'now' } } } as DataQueryRequest<OptiFiberQuery>;
    const lengths = await lastValueFrom(ds.query(req).pipe(take(60), map((r: DataQueryResponse) => ({
      n: r.data[0].length, first: r.data[0].fields[1].values[0], last: r.data[0].fields[1].values.at(-1), t: r.data[0].fields[0].values.at(-1),
    })), toArray()));
    expect(calls[1]).toMatch(/history\?from=\d+\.\d+&to=\d+\.\d+&step=86\.4$/);
    // the first emission already covers the day from history (+ the snapshot row)
    expect(lengths[0]!.n).toBeGreaterThanOrEqual(LIVE_MAX_POINTS - 1);
    expect(lengths[0]!.first).toBe(0.5);
    expect(lengths[0]!.last).toBe(0.9);
    // 59 x 200 = 11,800 ticks later: still at most LIVE_MAX_POINTS rows, the newest tick last
    for (const l of lengths) expect(l.n).toBeLessThanOrEqual(LIVE_MAX_POINTS);
    expect(lengths.at(-1)!.last).toBe(0.7);
    expect(lengths.at(-1)!.t).toBe(now);
  });

  test('template variables: applyTemplateVariables and interpolateVariablesInQueries expand sites and step', () => {
    const vars: Record<string, string> = { $site: 'Dallas,Stone', $all: '$__all', $step: '30s' };
    const ds = new DataSource(settings(), { fetcher: async () => ({ status: 200, data: {} }), interpolate: (v) => v.replace(/\$[a-z]+/g, (k) => vars[k] ?? k) });
    const q: OptiFiberQuery = { refId: 'A', sites: ['$site', 'Dobbins'], metric: 'osnrDb', mode: 'history', step: '$step' };
    expect(ds.applyTemplateVariables(q, {})).toMatchObject({ sites: ['Dallas', 'Dobbins', 'Stone'], step: '30s' });
    expect(ds.applyTemplateVariables({ ...q, sites: ['$all'] }, {}).sites).toEqual([]);
    const [out] = ds.interpolateVariablesInQueries([q], {});
    expect(out).toMatchObject({ sites: ['Dallas', 'Dobbins', 'Stone'], step: '30s', datasource: { uid: 'of', type: DATASOURCE_TYPE } });
  });

  test('requestId per panel, query and site; unsubscribing aborts the superseded requests', async () => {
    const signals: AbortSignal[] = [];
    const ids: Array<string | undefined> = [];
    const fetcher = (_u: string, o: FetchOptions = {}) => {
      signals.push(o.signal!);
      ids.push(o.requestId);
      return new Promise<FetchResult>((_resolve, reject) => o.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    };
    const ds = new DataSource(settings(), { fetcher });
    const req = { ...request([{ sites: ['a', 'b'], metric: 'osnrDb' }]), panelId: 7 } as DataQueryRequest<OptiFiberQuery>;
    const sub = ds.query(req).subscribe();
    await new Promise((r) => setTimeout(r, 5));
    expect(ids).toEqual(['optifiber-7-A-a', 'optifiber-7-A-b']);
    expect(signals.every((s) => !s.aborted)).toBe(true);
    sub.unsubscribe();
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  test.each([
    [{ status: 200, data: sitesBody }, 'success', /OptiFiber exporter OK: 2 sites \(\+1 invalid page\), userspace source up, tick 7/],
    [{ status: 502, data: { message: 'Bad Gateway' } }, 'error', /cannot reach the exporter at http:\/\/127.0.0.1:9886/],
    [{ status: 401, data: { error: 'unauthorized', message: 'x' } }, 'error', /asks for credentials \(401\)/],
    [{ status: 403, data: {} }, 'error', /refused access \(403\)/],
    [{ status: 404, data: 'Not Found' }, 'error', /not like an OptiFiber exporter/],
    [{ status: 200, data: { status: 'success', data: [] } }, 'error', /not like an OptiFiber exporter/],
    [{ status: 503, data: { error: 'unavailable', message: 'no tick' } }, 'error', /no data yet/],
  ])('Save & Test %#', async (res, status, message) => {
    const ds = new DataSource(settings(), { fetcher: async () => res as FetchResult });
    const r = await ds.testDatasource();
    expect(r.status).toBe(status);
    expect(r.message).toMatch(message);
  });

  test('Save & Test without a URL asks for one', async () => {
    const r = await new DataSource(settings({ url: '' }), { fetcher: async () => ({ status: 200, data: sitesBody }) }).testDatasource();
    expect(r.message).toMatch(/Set the exporter URL/);
  });

  test('annotations run the query in events mode', () => {
    const ds = new DataSource(settings(), { fetcher: async () => ({ status: 200, data: {} }) });
    expect(ds.annotations?.prepareQuery?.({ target: { sites: ['a'], metric: 'utilization', mode: 'history' } } as never)).toMatchObject({ mode: 'events', sites: ['a'] });
    void firstValueFrom;
  });
});
