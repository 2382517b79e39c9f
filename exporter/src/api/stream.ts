// Push delivery of every new tick: a bounded replay ring shared by the SSE
// stream (Last-Event-ID resume), the long-poll endpoint and the snapshot.
//
// Each tick is serialized ONCE into one Buffer, the SSE event itself:
//   id: <seq>\nevent: tick\ndata: {"seq":..,"sites":[...]}\n\n
// Every unfiltered SSE client is written that same Buffer, long-poll
// responses and /api/v1/snapshot are written slices of it (no per-client
// JSON, string or copy), and ?sites= filters are assembled from per-site
// byte ranges. Serialization happens when the tick is published if a stream
// client or poll waiter is there (they are about to need it), else lazily on
// first use. Once serialized, the ring keeps only the bytes, not the Tick.
//
// Slow SSE clients are dropped when their socket buffer exceeds a bound;
// nothing is queued in user space.
import type { Request, Response } from 'express';
import type { Tick } from '../sampler/types.js';
import type { ApiLimits, SamplerView } from './deps.js';
import type { EventLogger as Logger } from '../log/logger.js';
import { ApiError, sendError } from './errors.js';
import { siteJsonText, sourceJson } from './serialize.js';
import { rfc3339 } from './time.js';

interface Serialized {
  /** The whole SSE event for all sites. */
  sse: Buffer;
  /** Byte range of the tick JSON `{...}` in sse. */
  jsonStart: number;
  jsonEnd: number;
  /** Site i's JSON is sse[offs[2i], offs[2i+1]). */
  offs: Uint32Array;
  names: string[];
  byName?: Map<string, number>;
}

interface RingEntry {
  seq: number;
  sites: number;
  header: string; // '"seq":1,"takenAt":"...","takenAtMs":...,"durationSeconds":...'
  /** Until serialized. */
  tick?: Tick;
  ser?: Serialized;
}

const SITES_OPEN = ',"sites":[';

/** Serialize a tick once (see the file comment). */
export function serializeTick(tick: Tick, header: string): Serialized {
  const n = tick.sites.length;
  const parts: string[] = new Array(n);
  const names: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const st = tick.sites[i]!;
    parts[i] = siteJsonText(st);
    names[i] = st.sample.name;
  }
  const pre = `id: ${tick.seq}\nevent: tick\ndata: `;
  const head = `{${header}${SITES_OPEN}`;
  let len = Buffer.byteLength(pre) + Buffer.byteLength(head) + 4 + Math.max(0, n - 1);
  const sizes = new Uint32Array(n);
  for (let i = 0; i < n; i++) len += sizes[i] = Buffer.byteLength(parts[i]!);
  const sse = Buffer.allocUnsafe(len);
  const offs = new Uint32Array(2 * n);
  let o = sse.write(pre, 0);
  const jsonStart = o;
  o += sse.write(head, o);
  for (let i = 0; i < n; i++) {
    if (i > 0) sse[o++] = 0x2c; // ','
    offs[2 * i] = o;
    o += sse.write(parts[i]!, o);
    offs[2 * i + 1] = o;
  }
  o += sse.write(']}', o);
  const jsonEnd = o;
  o += sse.write('\n\n', o);
  return { sse: o === len ? sse : sse.subarray(0, o), jsonStart, jsonEnd, offs, names };
}

function serialized(e: RingEntry): Serialized {
  if (!e.ser) {
    e.ser = serializeTick(e.tick!, e.header);
    delete e.tick; // the bytes are all the ring needs from now on
  }
  return e.ser;
}

/** The tick JSON: one shared slice, or pieces for a site filter (in filter order). */
function entryPieces(e: RingEntry, sites: Set<string> | null): Buffer[] {
  const s = serialized(e);
  if (!sites) return [s.sse.subarray(s.jsonStart, s.jsonEnd)];
  if (!s.byName) {
    s.byName = new Map();
    s.names.forEach((n, i) => s.byName!.set(n, i));
  }
  const out: Buffer[] = [Buffer.from(`{${e.header}${SITES_OPEN}`)];
  let first = true;
  for (const name of sites) {
    const i = s.byName.get(name);
    if (i === undefined) continue;
    if (!first) out.push(COMMA);
    first = false;
    out.push(s.sse.subarray(s.offs[2 * i]!, s.offs[2 * i + 1]!));
  }
  out.push(CLOSE);
  return out;
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');
const EVENT_END = Buffer.from('\n\n');

function tickHeaderText(t: Tick): string {
  return `"seq":${t.seq},"takenAt":${JSON.stringify(rfc3339(t.takenAtMs))},"takenAtMs":${t.takenAtMs},"durationSeconds":${t.durationSeconds}`;
}

/** Write pieces as one response body (Content-Length set, one writev). */
function sendPieces(res: Response, pieces: Buffer[]): void {
  let len = 0;
  for (const p of pieces) len += p.length;
  res.status(200);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', len);
  res.cork();
  for (const p of pieces) res.write(p);
  res.end();
  res.uncork();
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
    if (last && t.seq <= last.seq) {
      // The sampler restarted its counter (new process) or replayed: start over.
      if (t.seq === last.seq) return last;
      this.ring.length = 0;
    }
    const header = tickHeaderText(t);
    const e: RingEntry = { seq: t.seq, sites: t.sites.length, header, tick: t };
    this.ring.push(e);
    const maxTicks = Math.max(1, Math.min(this.limits.replayTicks, Math.floor(this.limits.replaySiteSamples / Math.max(1, t.sites.length))));
    while (this.ring.length > maxTicks) this.ring.shift();
    return e;
  }

  private onTick(t: Tick): void {
    const e = this.push(t);
    if (this.clients.size === 0 && this.waiters.size === 0) return; // serialized lazily, if ever
    const sse = serialized(e).sse;
    for (const c of this.clients) this.sendEvent(c, e, sse);
    for (const w of this.waiters) {
      if (t.seq > w.after) this.finishWaiter(w);
    }
  }

  /** Ring entries with seq > after, oldest first; gap when entries were already evicted. */
  private since(after: number): { entries: RingEntry[]; gap: boolean } {
    const entries = this.ring.filter((e) => e.seq > after);
    const oldest = this.ring[0]?.seq;
    // after > the latest seq: the client's tick number is from before an exporter restart (seq starts at 1 again).
    const gap = (oldest !== undefined && after < oldest - 1 && after > 0) || after > this.latestSeq();
    return { entries, gap };
  }

  latestSeq(): number {
    return this.ring[this.ring.length - 1]?.seq ?? 0;
  }

  /**
   * GET /api/v1/snapshot body for `t` (the latest tick), sites in tick order,
   * filtered to `filter` when given: the shared per-tick bytes plus the
   * source and invalid parts. Byte-identical to JSON.stringify(snapshotJson(t)).
   */
  snapshot(res: Response, t: Tick, filter: Set<string> | null): void {
    let e = this.ring[this.ring.length - 1];
    if (!e || e.seq !== t.seq) e = { seq: t.seq, sites: t.sites.length, header: tickHeaderText(t), tick: t };
    const s = serialized(e);
    const pieces: Buffer[] = [Buffer.from(`{${e.header},"source":${JSON.stringify(sourceJson(t.source))}${SITES_OPEN}`)];
    if (!filter) {
      // the sites array of the shared bytes: from the first site to the last
      if (s.names.length) pieces.push(s.sse.subarray(s.offs[0]!, s.offs[2 * s.names.length - 1]!));
    } else {
      let first = true;
      for (let i = 0; i < s.names.length; i++) {
        if (!filter.has(s.names[i]!)) continue;
        if (!first) pieces.push(COMMA);
        first = false;
        pieces.push(s.sse.subarray(s.offs[2 * i]!, s.offs[2 * i + 1]!));
      }
    }
    pieces.push(Buffer.from(`],"invalid":${JSON.stringify(t.invalid.map((i) => ({ index: i.index, reason: i.reason })))}}`));
    sendPieces(res, pieces);
  }

  // --- Server-Sent Events -------------------------------------------------

  private sendEvent(c: StreamClient, e: RingEntry, all?: Buffer): void {
    const res = c.res;
    if (res.destroyed || res.writableEnded) return;
    // Unfiltered: the tick's one shared Buffer. Filtered: assembled from its byte ranges.
    const chunk = c.sites === null ? (all ?? serialized(e).sse) : Buffer.concat([Buffer.from(`id: ${e.seq}\nevent: tick\ndata: `), ...entryPieces(e, c.sites), EVENT_END]);
    // Backlog allowed before this event: the configured bound, or two events for
    // very large ticks (10,000 sites unfiltered), so a client that keeps up with
    // one event per tick is never dropped.
    if (res.writableLength > Math.max(this.limits.maxStreamBufferBytes, 2 * chunk.length)) {
      this.dropClient(c, 'slow client: send buffer exceeded', { backlog_bytes: res.writableLength, event_bytes: chunk.length });
      return;
    }
    res.write(chunk);
  }

  private dropClient(c: StreamClient, reason: string, extra: Record<string, number> = {}): void {
    if (!this.clients.delete(c)) return;
    clearInterval(c.heartbeat);
    if (reason !== 'closed') this.logger.warn({ reason, remote: c.res.req.socket.remoteAddress, ...extra }, 'SSE client dropped');
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
      if (gap) res.write(`: resume gap: ticks after ${lastId} before ${this.ring[0]!.seq} are no longer kept\n\n`);
      for (const e of entries) this.sendEvent(client, e);
    } else {
      const last = this.ring[this.ring.length - 1];
      if (last) this.sendEvent(client, last);
    }
  }

  // --- long poll ------------------------------------------------------------

  private respondPoll(res: Response, after: number, sites: Set<string> | null): void {
    const { entries, gap } = this.since(after);
    const pieces: Buffer[] = [Buffer.from(`{"lastSeq":${this.latestSeq()},"gap":${gap},"ticks":[`)];
    entries.forEach((e, i) => {
      if (i > 0) pieces.push(COMMA);
      pieces.push(...entryPieces(e, sites));
    });
    pieces.push(CLOSE);
    sendPieces(res, pieces);
  }

  private finishWaiter(w: Waiter): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    if (!w.res.destroyed && !w.res.headersSent) this.respondPoll(w.res, w.after, w.sites);
  }

  poll(res: Response, after: number | undefined, timeoutMs: number, sites: Set<string> | null): void {
    const a = after ?? this.latestSeq();
    // A seq from the future was issued by an earlier run of the exporter: answer at once (gap: true), never wait it out.
    if (this.latestSeq() > a || timeoutMs === 0 || a > this.latestSeq()) {
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
