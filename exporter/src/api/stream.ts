// Push delivery of every new tick: a bounded replay ring shared by the SSE
// stream (Last-Event-ID resume) and the long-poll endpoint.
//
// Each tick's per-site JSON is serialized once (lazily, on first use) and
// reused for every client, so N clients cost one JSON.stringify per site.
// Slow SSE clients are dropped when their socket buffer exceeds a bound;
// nothing is queued in user space.
import type { Request, Response } from 'express';
import type { Tick } from '../sampler/types.js';
import type { ApiLimits, Logger, SamplerView } from './deps.js';
import { ApiError, sendError } from './errors.js';
import { siteJson } from './serialize.js';
import { rfc3339 } from './time.js';

interface RingEntry {
  tick: Tick;
  header: string; // '"seq":1,"takenAt":"...","takenAtMs":...,"durationSeconds":...'
  siteJson?: Map<string, string>;
}

function entrySites(e: RingEntry): Map<string, string> {
  if (!e.siteJson) {
    e.siteJson = new Map();
    for (const s of e.tick.sites) e.siteJson.set(s.sample.name, JSON.stringify(siteJson(s)));
  }
  return e.siteJson;
}

/** '{"seq":..,...,"sites":[...]}' for one tick, filtered to `sites` when given. */
function entryJson(e: RingEntry, sites: Set<string> | null): string {
  const m = entrySites(e);
  const parts: string[] = [];
  if (sites) {
    for (const name of sites) {
      const j = m.get(name);
      if (j !== undefined) parts.push(j);
    }
  } else {
    for (const j of m.values()) parts.push(j);
  }
  return `{${e.header},"sites":[${parts.join(',')}]}`;
}

interface Waiter {
  after: number;
  sites: Set<string> | null;
  res: Response;
  timer: NodeJS.Timeout;
}

interface StreamClient {
  res: Response;
  sites: Set<string> | null;
  heartbeat: NodeJS.Timeout;
}

export class TickHub {
  private readonly ring: RingEntry[] = [];
  private readonly clients = new Set<StreamClient>();
  private readonly waiters = new Set<Waiter>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly sampler: SamplerView,
    private readonly limits: ApiLimits,
    private readonly logger: Logger,
  ) {
    const first = sampler.latest();
    if (first) this.push(first);
    this.unsubscribe = sampler.onTick((t) => this.onTick(t));
  }

  close(): void {
    this.unsubscribe();
    for (const c of this.clients) this.dropClient(c, 'shutdown');
    for (const w of this.waiters) this.finishWaiter(w);
  }

  stats(): { streamClients: number; pollWaiters: number; ringTicks: number } {
    return { streamClients: this.clients.size, pollWaiters: this.waiters.size, ringTicks: this.ring.length };
  }

  private push(t: Tick): RingEntry {
    const last = this.ring[this.ring.length - 1];
    if (last && t.seq <= last.tick.seq) {
      // The sampler restarted its counter (new process) or replayed: start over.
      if (t.seq === last.tick.seq) return last;
      this.ring.length = 0;
    }
    const header = `"seq":${t.seq},"takenAt":${JSON.stringify(rfc3339(t.takenAtMs))},"takenAtMs":${t.takenAtMs},"durationSeconds":${t.durationSeconds}`;
    const e: RingEntry = { tick: t, header };
    this.ring.push(e);
    const maxTicks = Math.max(1, Math.min(this.limits.replayTicks, Math.floor(this.limits.replaySiteSamples / Math.max(1, t.sites.length))));
    while (this.ring.length > maxTicks) this.ring.shift();
    return e;
  }

  private onTick(t: Tick): void {
    const e = this.push(t);
    for (const c of this.clients) this.sendEvent(c, e);
    for (const w of this.waiters) {
      if (t.seq > w.after) this.finishWaiter(w);
    }
  }

  /** Ring entries with seq > after, oldest first; gap when entries were already evicted. */
  private since(after: number): { entries: RingEntry[]; gap: boolean } {
    const entries = this.ring.filter((e) => e.tick.seq > after);
    const oldest = this.ring[0]?.tick.seq;
    const gap = oldest !== undefined && after < oldest - 1 && after > 0;
    return { entries, gap };
  }

  latestSeq(): number {
    return this.ring[this.ring.length - 1]?.tick.seq ?? 0;
  }

  // --- Server-Sent Events -------------------------------------------------

  private sendEvent(c: StreamClient, e: RingEntry): void {
    const res = c.res;
    if (res.destroyed || res.writableEnded) return;
    const chunk = `id: ${e.tick.seq}\nevent: tick\ndata: ${entryJson(e, c.sites)}\n\n`;
    // Backlog allowed before this event: the configured bound, or two events for
    // very large ticks (10,000 sites unfiltered), so a client that keeps up with
    // one event per tick is never dropped.
    if (res.writableLength > Math.max(this.limits.maxStreamBufferBytes, 2 * chunk.length)) {
      this.dropClient(c, 'slow client: send buffer exceeded');
      return;
    }
    res.write(chunk);
  }

  private dropClient(c: StreamClient, reason: string): void {
    if (!this.clients.delete(c)) return;
    clearInterval(c.heartbeat);
    if (reason !== 'closed') this.logger.warn({ reason, remote: c.res.req.socket.remoteAddress }, 'SSE client dropped');
    // destroy(): do not wait for a slow reader to drain a final chunk.
    if (reason === 'shutdown') c.res.end();
    else c.res.destroy();
  }

  stream(req: Request, res: Response, sites: Set<string> | null): void {
    if (this.clients.size >= this.limits.maxStreamClients) {
      sendError(res, 503, `too many stream clients (max ${this.limits.maxStreamClients}); retry later or use /api/v1/poll`, {
        'Retry-After': '5',
      });
      return;
    }
    const lastIdRaw = req.get('Last-Event-ID') ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
    let lastId: number | undefined;
    if (lastIdRaw !== undefined && lastIdRaw !== '') {
      if (!/^\d{1,15}$/.test(lastIdRaw)) throw new ApiError(400, `Last-Event-ID: expected a tick seq (integer), got "${lastIdRaw.slice(0, 32)}"`);
      lastId = Number(lastIdRaw);
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.setHeader('Connection', 'keep-alive');
    res.flushHeaders();
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    const client: StreamClient = {
      res,
      sites,
      heartbeat: setInterval(() => {
        // Only when idle: data in flight already keeps the connection alive; tick writes do the slow-client check.
        if (res.writableLength === 0) res.write(': heartbeat\n\n');
      }, this.limits.heartbeatMs),
    };
    client.heartbeat.unref();
    this.clients.add(client);
    res.on('close', () => this.dropClient(client, 'closed'));
    res.write('retry: 2000\n\n');
    if (lastId !== undefined) {
      const { entries, gap } = this.since(lastId);
      if (gap) res.write(`: resume gap: ticks after ${lastId} before ${this.ring[0]!.tick.seq} are no longer kept\n\n`);
      for (const e of entries) this.sendEvent(client, e);
    } else {
      const last = this.ring[this.ring.length - 1];
      if (last) this.sendEvent(client, last);
    }
  }

  // --- long poll ------------------------------------------------------------

  private respondPoll(res: Response, after: number, sites: Set<string> | null): void {
    const { entries, gap } = this.since(after);
    const body = `{"lastSeq":${this.latestSeq()},"gap":${gap},"ticks":[${entries.map((e) => entryJson(e, sites)).join(',')}]}`;
    res.status(200).setHeader('Cache-Control', 'no-store').type('application/json').send(body);
  }

  private finishWaiter(w: Waiter): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    if (!w.res.destroyed && !w.res.headersSent) this.respondPoll(w.res, w.after, w.sites);
  }

  poll(res: Response, after: number | undefined, timeoutMs: number, sites: Set<string> | null): void {
    const a = after ?? this.latestSeq();
    if (this.latestSeq() > a || timeoutMs === 0) {
      this.respondPoll(res, a, sites);
      return;
    }
    if (this.waiters.size >= this.limits.maxPollWaiters) {
      sendError(res, 503, `too many concurrent long-poll requests (max ${this.limits.maxPollWaiters}); retry later`, { 'Retry-After': '1' });
      return;
    }
    const w: Waiter = { after: a, sites, res, timer: setTimeout(() => this.finishWaiter(w), timeoutMs) };
    this.waiters.add(w);
    res.on('close', () => {
      if (this.waiters.delete(w)) clearTimeout(w.timer);
    });
  }
}
