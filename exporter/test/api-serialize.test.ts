// Shared serialization: every tick is serialized once (api/stream.ts) and the
// same bytes go to every client. These tests check that those bytes are
// exactly what per-client serialization (JSON.stringify of the documented
// objects) gives, for the snapshot, the SSE stream and the long poll, with
// and without ?sites=, and that the exposition written into a reused buffer
// equals the string render.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { apiRouter } from '../src/api/router.js';
import type { SamplerView } from '../src/api/deps.js';
import { siteJson, siteJsonText, snapshotJson } from '../src/api/serialize.js';
import { serializeTick } from '../src/api/stream.js';
import { rfc3339 } from '../src/api/time.js';
import type { SiteState, Tick } from '../src/sampler/types.js';
import type { SiteSample } from '../src/source/types.js';
import { standardRegistry } from '../src/metrics/catalogue.js';
import { ByteSink } from '../src/metrics/sink.js';
import { loadConfig } from '../src/config/load.js';

function sample(i: number, seq: number): SiteSample {
  return {
    index: i, name: `site-${i}`, sampleSeq: seq, updateTimeMs: 1_700_000_000_123.5 + seq, simTimeS: 1_800_000_000 + seq,
    throughputBps: 1.25e11 * (i + 1) + seq * 0.1, offeredBps: 1.3e11, capacityBps: 4e11, moduleCapacityBps: 1e11, cmdModules: 4, cmdModulesMax: 16,
    linkState: i % 3 === 0 ? 'degraded' : 'up', bytes: 2 ** 53 - 1 - i, crcErrors: seq, fecCorrectedBits: 123456789012, fecUncorrectableBlocks: 0, losEvents: 1,
    preFecBer: 1.234e-5, postFecBer: 0, osnrDb: -0, qFactorDb: 12.34, rxPowerDbm: -3.21, txPowerDbm: 1.5, chromaticDispersionPsNm: -17,
    laserBiasAmperes: 0.0451, temperatureCelsius: 41.125, fault: i === 1 ? 'osnr_degrade' : 'none', faultStartSimS: 0, faultEndSimS: 0, faultsTotal: i,
  };
}

function state(i: number, seq: number): SiteState {
  const s: SiteState = {
    sample: sample(i, seq),
    rates: i === 2 ? null : { bytesPerSecond: 1.5e10, crcErrorsPerSecond: NaN, fecCorrectedBitsPerSecond: Infinity, fecUncorrectableBlocksPerSecond: 0, losEventsPerSecond: 1 / 3 },
    utilization: 0.3125,
    inference: {},
  };
  if (i !== 3) s.inference.anomalyScore = 0.1 * i + 0.05;
  if (i === 1) s.inference.contributions = [{ feature: 'osnr_drop', value: 0.42 }, { feature: 'ber "log"', value: 1e-3 }];
  if (i !== 0) s.inference.forecast = { horizonSeconds: 900, throughputBps: { p10: 1e11, p50: 1.2e11, p90: 1.5e11 }, utilization: { p10: 0.25, p50: 0.3, p90: 0.375 } };
  return s;
}

function tick(seq: number, n = 5): Tick {
  return {
    seq, takenAtMs: 1_700_000_000_000 + seq * 1000 + 0.25, durationSeconds: 0.0123, sites: Array.from({ length: n }, (_, i) => state(i, seq)),
    source: { kind: 'file', path: '/tmp/pages', up: true }, invalid: [{ index: 9, reason: 'bad magic' }],
  };
}

/** The per-client serialization the shared bytes replace. */
const perClient = (t: Tick, names?: string[]): string => {
  const sites = names ? names.map((n) => t.sites.find((s) => s.sample.name === n)!).filter(Boolean) : t.sites;
  return JSON.stringify({ seq: t.seq, takenAt: rfc3339(t.takenAtMs), takenAtMs: t.takenAtMs, durationSeconds: t.durationSeconds, sites: sites.map(siteJson) });
};

class FakeSampler implements SamplerView {
  last: Tick | undefined;
  fns = new Set<(t: Tick) => void>();
  latest() { return this.last; }
  onTick(fn: (t: Tick) => void) { this.fns.add(fn); return () => void this.fns.delete(fn); }
  history() { return undefined; }
  publish(t: Tick) { this.last = t; for (const f of this.fns) f(t); }
}

function get(url: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((ok, fail) => {
    http.get(url, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (b += c));
      res.on('end', () => ok({ status: res.statusCode!, body: b, headers: res.headers }));
    }).on('error', fail);
  });
}

describe('siteJsonText', () => {
  it('is byte-identical to JSON.stringify(siteJson(s)), including null rates, NaN/Infinity, -0 and every inference shape', () => {
    for (let i = 0; i < 5; i++) {
      const s = state(i, 7);
      expect(siteJsonText(s)).toBe(JSON.stringify(siteJson(s)));
    }
  });
  it('falls back to the generic path for a field of another type', () => {
    const s = state(0, 1);
    (s.sample as unknown as Record<string, unknown>).bytes = undefined;
    expect(siteJsonText(s)).toBe(JSON.stringify(siteJson(s)));
  });
});

describe('serializeTick', () => {
  it('holds the SSE event, the tick JSON and each site at its byte range', () => {
    const t = tick(3);
    const header = `"seq":3,"takenAt":${JSON.stringify(rfc3339(t.takenAtMs))},"takenAtMs":${t.takenAtMs},"durationSeconds":${t.durationSeconds}`;
    const s = serializeTick(t, header);
    expect(s.sse.toString()).toBe(`id: 3\nevent: tick\ndata: ${perClient(t)}\n\n`);
    expect(s.sse.subarray(s.jsonStart, s.jsonEnd).toString()).toBe(perClient(t));
    t.sites.forEach((st, i) => expect(s.sse.subarray(s.offs[2 * i]!, s.offs[2 * i + 1]!).toString()).toBe(JSON.stringify(siteJson(st))));
  });
});

describe('shared serialization over HTTP', () => {
  let server: http.Server;
  let base: string;
  let sampler: FakeSampler;
  let router: ReturnType<typeof apiRouter>;
  beforeAll(async () => {
    sampler = new FakeSampler();
    sampler.publish(tick(1));
    router = apiRouter({ sampler });
    const app = express();
    app.use(router);
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    router.close();
    await new Promise((r) => server.close(r));
  });

  it('snapshot: same bytes as JSON.stringify(snapshotJson(tick)), unfiltered and filtered (tick order)', async () => {
    const t = sampler.latest()!;
    const all = await get(`${base}/api/v1/snapshot`);
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(all.body).toBe(JSON.stringify(snapshotJson(t)));
    const some = await get(`${base}/api/v1/snapshot?sites=site-3,site-1`);
    expect(some.body).toBe(JSON.stringify(snapshotJson({ ...t, sites: t.sites.filter((s) => s.sample.name === 'site-1' || s.sample.name === 'site-3') })));
  });

  it('SSE: every client gets the per-client serialization, byte for byte, with and without ?sites=', async () => {
    const open = (q: string) => {
      let buf = '';
      const r = http.get(`${base}/api/v1/stream${q}`, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c) => (buf += c));
      });
      return { text: () => buf, close: () => r.destroy() };
    };
    const a = open('');
    const b = open('');
    const f = open('?sites=site-4,site-0');
    await new Promise((r) => setTimeout(r, 150));
    const t2 = tick(2);
    sampler.publish(t2);
    await new Promise((r) => setTimeout(r, 150));
    const ev = (t: Tick, names?: string[]) => `id: ${t.seq}\nevent: tick\ndata: ${perClient(t, names)}\n\n`;
    const t1 = tick(1);
    expect(a.text()).toBe(`retry: 2000\n\n${ev(t1)}${ev(t2)}`);
    expect(b.text()).toBe(a.text());
    expect(f.text()).toBe(`retry: 2000\n\n${ev(t1, ['site-4', 'site-0'])}${ev(t2, ['site-4', 'site-0'])}`);
    for (const c of [a, b, f]) c.close();
  });

  it('long poll: the per-client body, several ticks and a filter (filter order)', async () => {
    const t3 = tick(3);
    sampler.publish(t3);
    const r = await get(`${base}/api/v1/poll?after=1`);
    expect(r.body).toBe(`{"lastSeq":3,"gap":false,"ticks":[${perClient(tick(2))},${perClient(t3)}]}`);
    const f = await get(`${base}/api/v1/poll?after=2&sites=site-2,site-1`);
    expect(f.body).toBe(`{"lastSeq":3,"gap":false,"ticks":[${perClient(t3, ['site-2', 'site-1'])}]}`);
    expect(JSON.parse(f.body).ticks[0].sites.map((s: { name: string }) => s.name)).toEqual(['site-2', 'site-1']);
  });
});

describe('Registry.renderTo', () => {
  it('writes the same bytes as the string render, into a reused buffer', () => {
    const { registry } = standardRegistry();
    const thresholds = loadConfig({ argv: [], env: {} }).config.thresholds;
    const stats = { readRetriesTotal: 0, tornReadsTotal: 0, stageErrorsTotal: 0, lastSampleMs: 0, historyBytes: 0, historyCapacity: 0 };
    const build = { version: 't', revision: 't', nodejsVersion: 'v0' };
    const sink = new ByteSink(16); // forces growth
    for (const seq of [1, 2, 2, 3]) {
      for (const format of ['prometheus', 'openmetrics'] as const) {
        const t = tick(seq, 40);
        const text = registry.render(format, { tick: t, thresholds, stats, build });
        const bytes = registry.renderTo(sink, format, { tick: t, thresholds, stats, build });
        // the collector durations differ between two renders: compare without them
        const strip = (s: string) => s.replace(/^optifiber_scrape_collector_duration_seconds\{.*$/gm, '').replace(/^process_.*$/gm, '');
        expect(strip(bytes.toString())).toBe(strip(text));
        expect(text).toContain('optifiber_throughput_bytes_per_second{site="site-39"}');
      }
    }
  });
});
