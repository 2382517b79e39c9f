// Bounds of the push endpoints: slow SSE clients are dropped (not buffered),
// stream and long-poll concurrency limits answer 503 with Retry-After.
import net from 'node:net';
import { startFixture, req } from './api-fixture.js';
import type { Fixture } from './api-fixture.js';
import { schemaErrors } from './api-schema.js';

const until = async (cond: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timeout waiting for condition');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('slow SSE client', () => {
  let f: Fixture;
  beforeAll(async () => {
    const sites = Array.from({ length: 300 }, (_, i) => `s${i}`);
    f = await startFixture({ sites, limits: { maxStreamBufferBytes: 256 * 1024, heartbeatMs: 60000 } });
  });
  afterAll(() => f.close());

  test('a client that does not read is disconnected once its buffer exceeds the bound; a reading client is kept', async () => {
    const url = new URL(f.base);
    // Slow client: sends the request, never reads (paused socket, tiny receive window).
    const slow = net.connect({ host: url.hostname, port: Number(url.port) });
    await new Promise((r) => slow.once('connect', r));
    slow.write('GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n');
    slow.pause();
    let slowClosed = false;
    slow.on('close', () => (slowClosed = true));
    slow.on('error', () => {});
    // Fast client: reads everything.
    let fastBytes = 0;
    const fast = net.connect({ host: url.hostname, port: Number(url.port) });
    fast.on('data', (d) => (fastBytes += d.length));
    fast.write('GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => f.api.hub.stats().streamClients === 2);
    // ~300 sites x ~900 B per tick: 60 ticks are ~16 MB, far above socket buffers + 256 KiB.
    for (let i = 0; i < 80 && f.api.hub.stats().streamClients === 2; i++) {
      await f.tick();
      await new Promise((r) => setTimeout(r, 15)); // let the sockets move data (same process)
    }
    await until(() => f.api.hub.stats().streamClients === 1, 10000);
    const drop = f.logs.find((l) => l.msg === 'SSE client dropped' && /slow client/.test(String(l.fields.reason)));
    expect(drop).toBeDefined();
    await until(() => slowClosed || slow.destroyed, 5000).catch(() => {});
    expect(fastBytes).toBeGreaterThan(256 * 1024);
    // The process did not buffer the slow client's backlog: at the drop, what it held for that
    // client was at most the allowance (the bound, or two events) plus the one event written
    // after the last check; without the bound it would hold every tick sent (~70 MB here).
    // (Process RSS is no measure: jest runs many suites in one worker.)
    const backlog = Number(drop!.fields.backlog_bytes);
    const event = Number(drop!.fields.event_bytes);
    expect(event).toBeGreaterThan(0);
    expect(backlog).toBeGreaterThan(Math.max(256 * 1024, 2 * event));
    // (ticks differ in size by a few per cent: the event written before the check was
    // measured against its own size, so 10 % of slack; unbounded it would be ~70 MB)
    expect(backlog).toBeLessThanOrEqual(1.1 * (Math.max(256 * 1024, 2 * event) + event));
    slow.destroy();
    fast.destroy();
    await until(() => f.api.hub.stats().streamClients === 0);
  });
});

describe('concurrency limits', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ limits: { maxStreamClients: 1, maxPollWaiters: 2 } });
  });
  afterAll(() => f.close());

  test('second SSE client: 503 + Retry-After', async () => {
    const ac = new AbortController();
    const first = await fetch(`${f.base}/api/v1/stream`, { signal: ac.signal });
    expect(first.status).toBe(200);
    const r = await req(`${f.base}/api/v1/stream`);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
    expect(schemaErrors('/api/v1/stream', 'get', 503, r.body)).toEqual([]);
    ac.abort();
    await until(() => f.api.hub.stats().streamClients === 0);
  });

  test('third waiting long-poll: 503 + Retry-After; the two waiting get the next tick', async () => {
    const a = req(`${f.base}/api/v1/poll?timeout=10`);
    const b = req(`${f.base}/api/v1/poll?timeout=10`);
    await until(() => f.api.hub.stats().pollWaiters === 2);
    const c = await req(`${f.base}/api/v1/poll?timeout=10`);
    expect(c.status).toBe(503);
    expect(c.body.message).toMatch(/too many concurrent long-poll requests \(max 2\)/);
    expect(schemaErrors('/api/v1/poll', 'get', 503, c.body)).toEqual([]);
    await f.tick();
    const [ra, rb] = await Promise.all([a, b]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect(ra.body.ticks).toHaveLength(1);
    expect(f.api.hub.stats().pollWaiters).toBe(0);
  });

  test('a long-poll client that goes away frees its slot', async () => {
    const ac = new AbortController();
    const p = fetch(`${f.base}/api/v1/poll?timeout=10`, { signal: ac.signal }).catch(() => undefined);
    await until(() => f.api.hub.stats().pollWaiters === 1);
    ac.abort();
    await p;
    await until(() => f.api.hub.stats().pollWaiters === 0);
  });
});
