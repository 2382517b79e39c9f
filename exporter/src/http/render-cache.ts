// The rendered /metrics bodies: one cached render per format and tick,
// written into pooled buffers (slabs) that are reused only once no response
// or compression still reads them, gzipped at most once per render, and
// pre-rendered right after a tick for scrapers that keep up with it.
import { gzip } from 'node:zlib';
import type { Format } from '../metrics/format.js';
import type { CollectContext, Registry } from '../metrics/registry.js';
import { ByteSink } from '../metrics/sink.js';

function gzipAsync(body: Buffer): Promise<Buffer> {
  return new Promise<Buffer>((ok, fail) => gzip(body, { level: 1 }, (e, b) => (e ? fail(e) : ok(b))));
}

/**
 * A reusable output buffer for one rendered exposition. `refs` counts the
 * users that may still read the bytes (the cache entry while it is current,
 * responses being written, a gzip in progress); a slab is reused for a later
 * render only at refs 0, so the bytes a slow client is being sent are never
 * overwritten. Steady state: two slabs per format, no per-tick allocation
 * of the multi-megabyte body (which, held for a tick, would be promoted
 * and freed only by a full GC).
 */
interface Slab {
  buf: Buffer;
  refs: number;
}

export interface Rendered {
  key: string;
  body: Buffer;
  slab: Slab;
  gz?: Promise<Buffer>;
}

/** Per format: the render scratch and the output slabs. */
class RenderBuffers {
  readonly sink = new ByteSink();
  private readonly slabs: Slab[] = [];

  /** A slab holding a copy of `bytes`, with one reference taken. */
  take(bytes: Buffer): Slab {
    let slab = this.slabs.find((s) => s.refs === 0 && s.buf.length >= bytes.length);
    if (!slab) {
      const idle = this.slabs.findIndex((s) => s.refs === 0);
      if (idle >= 0) this.slabs.splice(idle, 1); // too small: replace it
      slab = { buf: Buffer.allocUnsafe(Math.ceil(bytes.length * 1.25) + 4096), refs: 0 };
      // Bounded: slabs pinned by very slow clients are dropped from the pool (and freed by the GC once sent).
      if (this.slabs.length < 4) this.slabs.push(slab);
    }
    bytes.copy(slab.buf, 0);
    slab.refs = 1;
    return slab;
  }
}

export class RenderCache {
  private readonly cache = new Map<Format, Rendered>();
  private readonly buffers = new Map<Format, RenderBuffers>();

  /**
   * @param context what the collectors render from (the latest tick, ...)
   * @param closing true once the server is shutting down: no pre-rendering then
   */
  constructor(
    private readonly registry: Registry,
    private readonly context: () => CollectContext,
    private readonly closing: () => boolean,
  ) {}

  /**
   * Pre-render: when a format was scraped on each of the last ticks (a
   * scraper at least as fast as the sampler), render it, and compress it if
   * it was asked gzipped, right after the next tick instead of inside that
   * scrape. Slower scrapers keep rendering on demand, so no CPU is spent on
   * expositions nobody fetches.
   */
  private readonly demand = new Map<Format, { lastSeq: number; streak: number; gzip: boolean }>();

  noteScrape(format: Format, seq: number, gzip: boolean): void {
    const d = this.demand.get(format) ?? { lastSeq: -1, streak: 0, gzip };
    if (seq === d.lastSeq + 1) d.streak++;
    else if (seq !== d.lastSeq) d.streak = 1;
    d.lastSeq = seq;
    d.gzip = gzip;
    this.demand.set(format, d);
  }

  prerender(seq: number): void {
    for (const [format, d] of this.demand) {
      if (d.lastSeq !== seq - 1 || d.streak < 2) continue;
      setImmediate(() => {
        if (this.closing()) return;
        const r = this.render(format);
        if (d.gzip) this.gzipOnce(r);
      });
    }
  }

  render(format: Format): Rendered {
    const ctx = this.context();
    const key = ctx.tick ? String(ctx.tick.seq) : 'none';
    const hit = this.cache.get(format);
    if (hit && hit.key === key && key !== 'none') return hit;
    let bufs = this.buffers.get(format);
    if (!bufs) this.buffers.set(format, (bufs = new RenderBuffers()));
    const bytes = this.registry.renderTo(bufs.sink, format, ctx);
    const slab = bufs.take(bytes);
    const r: Rendered = { key, body: slab.buf.subarray(0, bytes.length), slab };
    if (hit) hit.slab.refs--; // the cache's reference to the previous render
    this.cache.set(format, r);
    return r;
  }

  /** The gzipped body, compressed once per render (the slab is held until the compression has read it). */
  gzipOnce(r: Rendered): Promise<Buffer> {
    if (!r.gz) {
      r.slab.refs++;
      r.gz = gzipAsync(r.body);
      const release = () => void r.slab.refs--;
      r.gz.then(release, release);
    }
    return r.gz;
  }
}
