// The read API against a real Sampler + PageReader over a page file written by a test writer.
import http from 'node:http';
import { startFixture, req } from './api-fixture.js';
import type { Fixture } from './api-fixture.js';
import { schemaErrors, componentErrors } from './api-schema.js';

let f: Fixture;

beforeAll(async () => {
  f = await startFixture({ ticks: 5 });
});
afterAll(async () => {
  await f.close();
});

function noStack(text: string): void {
  expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/);
  expect(text).not.toMatch(/node_modules|Error:/);
}

async function expectError(url: string, route: string, status: number, message: RegExp) {
  const r = await req(url);
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/application\/json/);
  expect(r.body.message).toMatch(message);
  expect(schemaErrors(route, 'get', status, r.body)).toEqual([]);
  noStack(r.text);
  return r;
}

describe('GET /api/v1/sites', () => {
  test('lists the sites of the page file', async () => {
    const r = await req(`${f.base}/api/v1/sites`);
    expect(r.status).toBe(200);
    expect(schemaErrors('/api/v1/sites', 'get', 200, r.body)).toEqual([]);
    expect(r.body.sites.map((s: any) => s.name)).toEqual(['paris-1', 'lyon-2', 'nice-3']);
    expect(r.body.sites[1]).toMatchObject({ index: 1, valid: true, cmdModules: 4, cmdModulesMax: 16, capacityBps: 4e11, linkState: 'up', fault: 'none' });
    expect(r.body.seq).toBe(f.sampler.latest()!.seq);
  });
  test('unknown query parameter is a 400', async () => {
    await expectError(`${f.base}/api/v1/sites?foo=1`, '/api/v1/sites', 400, /unknown query parameter "foo"/);
  });
});

describe('GET /api/v1/snapshot', () => {
  test('the latest packet in domain units, with rates and source', async () => {
    const r = await req(`${f.base}/api/v1/snapshot`);
    expect(r.status).toBe(200);
    expect(schemaErrors('/api/v1/snapshot', 'get', 200, r.body)).toEqual([]);
    const s = r.body.sites[0];
    expect(s).toMatchObject({ name: 'paris-1', osnrDb: 28.5, rxPowerDbm: -5.2, txPowerDbm: 1, temperatureCelsius: 41.25, laserBiasAmperes: 0.045, preFecBer: 1e-6 });
    expect(s.rates.bytesPerSecond).toBeCloseTo(5e9);
    expect(s.utilization).toBeCloseTo(0.1);
    expect(r.body.source).toMatchObject({ kind: 'file', up: true });
    expect(r.body.source.dir.generation).toBe('1');
    expect(r.body.seq).toBe(f.sampler.latest()!.seq);
  });
  test('?sites= filters; unknown site 404; bad name 400', async () => {
    const r = await req(`${f.base}/api/v1/snapshot?sites=nice-3`);
    expect(r.body.sites.map((s: any) => s.name)).toEqual(['nice-3']);
    await expectError(`${f.base}/api/v1/snapshot?sites=nope`, '/api/v1/snapshot', 404, /unknown site: nope/);
    await expectError(`${f.base}/api/v1/snapshot?sites=a%20b`, '/api/v1/snapshot', 400, /not a site name/);
    await expectError(`${f.base}/api/v1/snapshot?sites=a&sites=b`, '/api/v1/snapshot', 400, /once/);
  });
});

describe('GET /api/v1/sites/{site}/history', () => {
  const route = '/api/v1/sites/{site}/history';
  test('returns the ring, oldest first, validated', async () => {
    const r = await req(`${f.base}/api/v1/sites/lyon-2/history?from=${Math.floor(Date.now() / 1000) - 5}&step=1ms`);
    expect(r.status).toBe(200);
    expect(schemaErrors(route, 'get', 200, r.body)).toEqual([]);
    expect(r.body.points.length).toBeGreaterThanOrEqual(5);
    const seqs = r.body.points.map((p: any) => p.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(r.body.points.at(-1).site.name).toBe('lyon-2');
    expect(r.body.points.at(-1).site.sampleSeq).toBe(f.writer.sites[1]!.sampleSeq);
    expect(r.body.stepSeconds).toBe(0.001);
    // default step: bounded by the point limit over the default 1 h range
    const d = await req(`${f.base}/api/v1/sites/lyon-2/history`);
    expect(d.status).toBe(200);
    expect(3600 / d.body.stepSeconds).toBeLessThanOrEqual(11000);
  });
  test('from/to in unix seconds and RFC 3339 bound the points', async () => {
    const latest = f.sampler.latest()!;
    const to = latest.takenAtMs / 1000;
    const r1 = await req(`${f.base}/api/v1/sites/paris-1/history?from=${to}&to=${to}`);
    expect(r1.status).toBe(200);
    expect(r1.body.points.map((p: any) => p.seq)).toEqual([latest.seq]);
    const iso = new Date(latest.takenAtMs + 1).toISOString();
    const r2 = await req(`${f.base}/api/v1/sites/paris-1/history?from=${encodeURIComponent(iso)}`);
    expect(r2.body.points).toEqual([]);
    // one huge step: at most one point
    const r3 = await req(`${f.base}/api/v1/sites/paris-1/history?from=0&to=${to}&step=100000000`);
    expect(r3.status).toBe(200);
    expect(r3.body.points.length).toBe(1);
  });
  test('bad input: precise 400s, unknown site 404', async () => {
    const u = `${f.base}/api/v1/sites/paris-1/history`;
    await expectError(`${u}?from=yesterday`, route, 400, /from: expected RFC 3339 .* or unix seconds/);
    await expectError(`${u}?to=2026-02-30T00:00:00Z`, route, 400, /not a valid calendar date/);
    await expectError(`${u}?from=2026-13-01T00:00:00Z`, route, 400, /not a valid RFC 3339/);
    await expectError(`${u}?from=2000&to=1000`, route, 400, /is after to/);
    await expectError(`${u}?step=0`, route, 400, /step: must be > 0/);
    await expectError(`${u}?step=fast`, route, 400, /step: expected seconds/);
    await expectError(`${u}?from=0&to=86400&step=1`, route, 400, /86401 points \(max 11000\); increase step/);
    await expectError(`${u}?bogus=1`, route, 400, /unknown query parameter/);
    await expectError(`${f.base}/api/v1/sites/atlantis/history`, route, 404, /unknown site: atlantis/);
    await expectError(`${f.base}/api/v1/sites/${'x'.repeat(40)}/history`, route, 400, /not a site name/);
  });
});

describe('GET /api/v1/poll', () => {
  const route = '/api/v1/poll';
  test('answers at once with ticks newer than after', async () => {
    const latest = f.sampler.latest()!.seq;
    const r = await req(`${f.base}/api/v1/poll?after=${latest - 2}&sites=paris-1`);
    expect(r.status).toBe(200);
    expect(schemaErrors(route, 'get', 200, r.body)).toEqual([]);
    expect(r.body.ticks.map((t: any) => t.seq)).toEqual([latest - 1, latest]);
    expect(r.body.ticks[0].sites.map((s: any) => s.name)).toEqual(['paris-1']);
    expect(r.body.lastSeq).toBe(latest);
  });
  test('waits for the next tick and delivers it', async () => {
    const latest = f.sampler.latest()!.seq;
    const t0 = Date.now();
    const p = req(`${f.base}/api/v1/poll?after=${latest}&timeout=10`);
    await new Promise((r) => setTimeout(r, 150));
    await f.tick();
    const r = await p;
    expect(r.status).toBe(200);
    expect(schemaErrors(route, 'get', 200, r.body)).toEqual([]);
    expect(r.body.ticks.map((t: any) => t.seq)).toEqual([latest + 1]);
    expect(r.body.ticks[0].sites).toHaveLength(3);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
  test('times out with 200 and an empty list', async () => {
    const t0 = Date.now();
    const r = await req(`${f.base}/api/v1/poll?timeout=0.3`);
    expect(r.status).toBe(200);
    expect(r.body.ticks).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(schemaErrors(route, 'get', 200, r.body)).toEqual([]);
  });
  test('bad input', async () => {
    await expectError(`${f.base}/api/v1/poll?after=-1`, route, 400, /after: expected a tick seq/);
    await expectError(`${f.base}/api/v1/poll?timeout=61`, route, 400, /above the maximum of 60/);
    await expectError(`${f.base}/api/v1/poll?timeout=abc`, route, 400, /timeout: expected seconds/);
    await expectError(`${f.base}/api/v1/poll?sites=nope`, route, 404, /unknown site/);
  });
});

describe('GET /api/v1/stream (SSE)', () => {
  function openStream(query = '', headers: Record<string, string> = {}) {
    return new Promise<{ res: http.IncomingMessage; events: () => { id: string; event: string; data: any }[]; raw: () => string; close: () => void }>((resolve, reject) => {
      const r = http.get(`${f.base}/api/v1/stream${query}`, { headers }, (res) => {
        let raw = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (raw += d));
        res.on('error', () => {});
        const events = () =>
          raw
            .split('\n\n')
            .filter((b) => b.includes('data: '))
            .map((b) => {
              const get = (k: string) => b.split('\n').find((l) => l.startsWith(`${k}: `))?.slice(k.length + 2) ?? '';
              return { id: get('id'), event: get('event'), data: JSON.parse(get('data')) };
            });
        resolve({ res, events, raw: () => raw, close: () => r.destroy() });
      });
      r.on('error', reject);
    });
  }
  const until = async (cond: () => boolean, ms = 3000) => {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > ms) throw new Error('timeout waiting for condition');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  test('sends the latest tick, then every new tick with id = seq; heartbeats', async () => {
    const s = await openStream('?sites=lyon-2');
    expect(s.res.statusCode).toBe(200);
    expect(s.res.headers['content-type']).toMatch(/text\/event-stream/);
    await until(() => s.events().length >= 1);
    const first = s.events()[0]!;
    expect(Number(first.id)).toBe(f.sampler.latest()!.seq);
    await f.tick();
    await until(() => s.events().length >= 2);
    const ev = s.events()[1]!;
    expect(ev.event).toBe('tick');
    expect(Number(ev.id)).toBe(Number(first.id) + 1);
    expect(componentErrors('TickEvent', ev.data)).toEqual([]);
    expect(ev.data.sites.map((x: any) => x.name)).toEqual(['lyon-2']);
    await until(() => s.raw().includes(': heartbeat'), 2000);
    s.close();
    await until(() => f.api.hub.stats().streamClients === 0);
  });

  test('Last-Event-ID resumes from the ring', async () => {
    const latest = f.sampler.latest()!.seq;
    const s = await openStream('', { 'Last-Event-ID': String(latest - 3) });
    await until(() => s.events().length >= 3);
    expect(s.events().map((e) => Number(e.id))).toEqual([latest - 2, latest - 1, latest]);
    s.close();
  });

  test('bad Last-Event-ID is a 400, unknown site 404', async () => {
    const r = await req(`${f.base}/api/v1/stream?lastEventId=abc`);
    expect(r.status).toBe(400);
    expect(schemaErrors('/api/v1/stream', 'get', 400, r.body)).toEqual([]);
    const r2 = await req(`${f.base}/api/v1/stream?sites=zzz`);
    expect(r2.status).toBe(404);
  });
});

test('unknown /api path is a JSON 404', async () => {
  const r = await req(`${f.base}/api/v1/nothing`);
  expect(r.status).toBe(404);
  expect(componentErrors('Error', r.body)).toEqual([]);
});
