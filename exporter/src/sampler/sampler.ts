// The sampler: every tick one consistent snapshot of all sites, rates from
// the counters, utilization, the per-site history rings, the TickStage
// hooks, then one published Tick (latest() and onTick()). Consumers never
// touch the pages. When the source is gone it publishes up=false ticks with
// the reader's reason; noticing a stale or replaced file and re-attaching is
// the page reader's job (source/page-reader.ts), not repeated here.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Snapshot, SiteSample } from '../source/types.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { HistoryStore, HISTORY_BYTES_PER_ENTRY, type HistoryEntry } from './history.js';
import type { SiteRates, SiteState, SourceKind, SourceStatus, Tick, TickStage } from './types.js';

/**
 * What the sampler needs from a page reader (PageReader implements it).
 * snapshot() throws while the writer is gone, stale or detached, and
 * re-attaches by itself when the file comes back or is replaced.
 */
export interface SnapshotSource {
  snapshot(): Snapshot;
  close(): void;
}
export type OpenSource = (path: string) => SnapshotSource | Promise<SnapshotSource>;

export interface SamplerOptions {
  kind: SourceKind;
  path: string;
  open: OpenSource;
  intervalMs?: number;
  historyMs?: number;
  historyMaxBytes?: number;
  /** Extra liveness check (the simulator supervisor): a reason string when the source is known dead. */
  deadReason?: () => string | undefined;
  logger?: Logger;
  now?: () => number;
}

export interface SamplerStats {
  readRetriesTotal: number;
  tornReadsTotal: number;
  stageErrorsTotal: number;
  /** Samples read from the pages' recent rings: published between two ticks. */
  ringSamplesTotal: number;
  /** Samples overwritten in a recent ring before a tick read them. */
  lostSamplesTotal: number;
  /** Date.now() of the last snapshot that succeeded, or 0. */
  lastSampleMs: number;
  historyBytes: number;
  historyCapacity: number;
}

/** The previous sample of every site, for rates: typed arrays by slot. */
class PrevSamples {
  generation: bigint | undefined;
  slot = new Map<string, number>();
  free: number[] = [];
  next = 0;
  stamp = 0;
  seq = new Float64Array(0);
  sim = new Float64Array(0);
  upd = new Float64Array(0);
  c = new Float64Array(0); // 5 counters per slot
  seen = new Uint32Array(0);
  rates: (SiteRates | null)[] = [];
  grow(min: number): void {
    const n = Math.max(min, Math.ceil(this.seq.length * 1.5), 16);
    const g = <T extends Float64Array | Uint32Array>(a: T, m: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n * m);
      b.set(a);
      return b;
    };
    this.seq = g(this.seq, 1);
    this.sim = g(this.sim, 1);
    this.upd = g(this.upd, 1);
    this.c = g(this.c, 5);
    this.seen = g(this.seen, 1);
  }
}

const MAX_SNAPSHOT_ATTEMPTS = 3;

export function counters(s: SiteSample): [number, number, number, number, number] {
  return [s.bytes, s.crcErrors, s.fecCorrectedBits, s.fecUncorrectableBlocks, s.losEvents];
}

export class Sampler {
  readonly intervalMs: number;
  readonly historyMs: number;
  readonly historyMaxBytes: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly events = new EventEmitter();
  private readonly stages: TickStage[] = [];
  private reader: SnapshotSource | undefined;
  private readonly prevState = new PrevSamples();
  private readonly store = new HistoryStore();
  private last: Tick | undefined;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inTick: Promise<Tick> | undefined;
  private wasUp: boolean | undefined;
  readonly stats: SamplerStats = {
    readRetriesTotal: 0,
    tornReadsTotal: 0,
    stageErrorsTotal: 0,
    ringSamplesTotal: 0,
    lostSamplesTotal: 0,
    lastSampleMs: 0,
    historyBytes: 0,
    historyCapacity: 0,
  };
  /** Tick durations in seconds since the last drain (the metrics histogram). */
  private readonly tickObservers: ((seconds: number) => void)[] = [];

  constructor(private readonly opts: SamplerOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
    if (this.intervalMs < 100) throw new RangeError('sampler interval must be at least 100 ms');
    this.historyMs = opts.historyMs ?? 3_600_000;
    this.historyMaxBytes = opts.historyMaxBytes ?? 32 * 1024 * 1024;
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.events.setMaxListeners(0);
  }

  get source(): { kind: SourceKind; path: string } {
    return { kind: this.opts.kind, path: this.opts.path };
  }

  addStage(stage: TickStage): void {
    this.stages.push(stage);
  }
  onTickDuration(fn: (seconds: number) => void): void {
    this.tickObservers.push(fn);
  }

  latest(): Tick | undefined {
    return this.last;
  }

  onTick(fn: (t: Tick) => void): () => void {
    this.events.on('tick', fn);
    return () => this.events.off('tick', fn);
  }

  /** SamplerView.history for the API: undefined for a site without a ring. */
  history(site: string, fromMs: number, toMs: number, stepMs: number): HistoryEntry[] | undefined {
    return this.store.query(site, fromMs, toMs, stepMs);
  }

  /** Entries the ring of each site can hold now (the history budget may shorten the configured history). */
  historyCapacity(): number {
    return this.store.capacity;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = async (due: number) => {
      if (!this.running) return;
      try {
        await this.tick();
      } catch (e) {
        this.log.error({ err: e }, 'sampler tick failed');
      }
      if (!this.running) return;
      let next = due + this.intervalMs;
      const now = performance.now();
      if (next < now) next = now + this.intervalMs - ((now - due) % this.intervalMs); // skip missed ticks
      this.timer = setTimeout(() => void loop(next), Math.max(0, next - now));
    };
    void loop(performance.now());
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inTick) await this.inTick.catch(() => undefined);
    this.closeReader();
  }

  private closeReader(): void {
    try {
      this.reader?.close();
    } catch {
      /* already gone */
    }
    this.reader = undefined;
  }

  /** Take one tick now (the loop calls this; tests may too). Concurrent calls share one tick. */
  tick(): Promise<Tick> {
    if (!this.inTick) this.inTick = this.doTick().finally(() => (this.inTick = undefined));
    return this.inTick;
  }

  private async read(): Promise<Snapshot> {
    const dead = this.opts.deadReason?.();
    if (dead !== undefined) {
      this.closeReader();
      throw new Error(dead);
    }
    this.reader ??= await this.opts.open(this.opts.path);
    let snap = this.reader.snapshot();
    this.stats.tornReadsTotal += snap.retries;
    for (let attempt = 1; !snap.consistent && attempt < MAX_SNAPSHOT_ATTEMPTS; attempt++) {
      this.stats.readRetriesTotal++;
      snap = this.reader.snapshot();
      this.stats.tornReadsTotal += snap.retries;
    }
    return snap;
  }

  private async doTick(): Promise<Tick> {
    const t0 = performance.now();
    let snap: Snapshot | undefined;
    let error: string | undefined;
    try {
      snap = await this.read();
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const takenAtMs = snap?.takenAtMs ?? this.now();
    const source: SourceStatus = { kind: this.opts.kind, path: this.opts.path, up: snap !== undefined };
    if (error !== undefined) source.error = error;
    if (snap) source.dir = snap.dir;
    if (this.wasUp !== source.up) {
      if (source.up) this.log.info({ kind: source.kind, path: source.path, sites: snap!.sites.length }, 'source up');
      else if (this.wasUp === undefined && source.kind === 'kernel')
        this.log.warn(
          { kind: source.kind, path: source.path, error },
          `kernel module not available (${source.path}: ${error}): serving optifiber_source_up 0 and attaching when the module is loaded; simulated data only with --source.kind=userspace`,
        );
      else if (this.wasUp === undefined) this.log.info({ kind: source.kind, path: source.path, error }, 'waiting for the source');
      else this.log.warn({ kind: source.kind, path: source.path, error }, 'source down; serving up=false and retrying');
      this.wasUp = source.up;
    }
    const seq = ++this.seq;
    const sites: SiteState[] = snap ? this.derive(snap) : [];
    if (snap) {
      this.stats.lastSampleMs = takenAtMs;
      this.record(seq, takenAtMs, sites);
    }
    const tick: Tick = {
      seq,
      takenAtMs,
      durationSeconds: 0,
      source,
      sites,
      invalid: snap?.invalid ?? [],
    };
    for (const stage of this.stages) {
      try {
        await stage(tick);
      } catch (e) {
        this.stats.stageErrorsTotal++;
        this.log.error({ err: e, seq }, 'tick stage failed');
      }
    }
    tick.durationSeconds = (performance.now() - t0) / 1000;
    for (const o of this.tickObservers) o(tick.durationSeconds);
    this.last = tick;
    this.events.emit('tick', tick);
    return tick;
  }

  /**
   * Rates (reset-aware, per simulated second) and utilization for every
   * valid site, and the same for the samples the writer published since the
   * last tick (SiteState.earlier, from the pages' recent rings). The previous
   * sample of each site lives in typed arrays indexed by a per-name slot: no
   * per-site allocation but the Tick's own objects (10,000 sites per tick
   * must stay well under the GC's radar).
   */
  private derive(snap: Snapshot): SiteState[] {
    const p = this.prevState;
    if (p.generation !== snap.dir.generation) {
      p.slot.clear(); // the writer was reloaded: every counter restarted
      p.free = [];
      p.next = 0;
      p.generation = snap.dir.generation;
    }
    const stamp = ++p.stamp;
    const n = snap.sites.length;
    if (p.seq.length < p.next + n) p.grow(p.next + n);
    const out: SiteState[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const s = snap.sites[i]!;
      let k = p.slot.get(s.name);
      let earlier: { sample: SiteSample; rates: SiteRates | null }[] | undefined;
      if (k === undefined) {
        k = p.free.pop() ?? p.next++;
        p.slot.set(s.name, k);
        if (k >= p.seq.length) p.grow(k + 1);
        p.seq[k] = 0;
      } else if (s.sampleSeq > p.seq[k]! + 1) {
        earlier = this.catchUp(k, s);
      }
      const rates = p.seq[k] === 0 ? this.remember(k, s, null) : this.step(k, s);
      p.seen[k] = stamp;
      // NaN when either side is absent (a recording without it): unknown, not idle
      const util = Number.isNaN(s.capacityBps) || Number.isNaN(s.throughputBps) ? NaN : s.capacityBps > 0 ? Math.min(1, Math.max(0, s.throughputBps / s.capacityBps)) : 0;
      out[i] = earlier ? { sample: s, rates, utilization: util, inference: {}, earlier } : { sample: s, rates, utilization: util, inference: {} };
    }
    if (p.slot.size > n) {
      // sites vanished: forget them, so a site that comes back starts without rates
      for (const [name, k] of p.slot)
        if (p.seen[k] !== stamp) {
          p.slot.delete(name);
          p.rates[k] = null;
          p.free.push(k);
        }
    }
    return out;
  }

  /** The ring samples between slot k's previous sample and `s`, stepped in order; counts what the ring no longer held. */
  private catchUp(k: number, s: SiteSample): { sample: SiteSample; rates: SiteRates | null }[] | undefined {
    const gap = s.sampleSeq - this.prevState.seq[k]! - 1;
    let got = 0;
    let out: { sample: SiteSample; rates: SiteRates | null }[] | undefined;
    for (const e of s.earlier ?? []) {
      if (e.sampleSeq <= this.prevState.seq[k]!) continue; // delivered again after an inconsistent snapshot
      got++;
      (out ??= []).push({ sample: e, rates: this.step(k, e) });
    }
    this.stats.ringSamplesTotal += got;
    this.stats.lostSamplesTotal += gap - got;
    return out;
  }

  /** Rates from slot k's previous sample to `s` (null across a counter reset), then `s` becomes the previous one. */
  private step(k: number, s: SiteSample): SiteRates | null {
    const p = this.prevState;
    if (p.seq[k] === s.sampleSeq) return p.rates[k] ?? null; // the writer has not ticked since: same sample, same rates
    const c = p.c;
    const base = k * 5;
    const reset =
      s.sampleSeq < p.seq[k]! ||
      s.bytes < c[base]! ||
      s.crcErrors < c[base + 1]! ||
      s.fecCorrectedBits < c[base + 2]! ||
      s.fecUncorrectableBlocks < c[base + 3]! ||
      s.losEvents < c[base + 4]!;
    const dt = s.simTimeS > p.sim[k]! ? s.simTimeS - p.sim[k]! : (s.updateTimeMs - p.upd[k]!) / 1000;
    let rates: SiteRates | null = null;
    if (!reset && dt > 0) {
      rates = {
        bytesPerSecond: (s.bytes - c[base]!) / dt,
        crcErrorsPerSecond: (s.crcErrors - c[base + 1]!) / dt,
        fecCorrectedBitsPerSecond: (s.fecCorrectedBits - c[base + 2]!) / dt,
        fecUncorrectableBlocksPerSecond: (s.fecUncorrectableBlocks - c[base + 3]!) / dt,
        losEventsPerSecond: (s.losEvents - c[base + 4]!) / dt,
      };
    }
    return this.remember(k, s, rates);
  }

  private remember(k: number, s: SiteSample, rates: SiteRates | null): SiteRates | null {
    const p = this.prevState;
    p.seq[k] = s.sampleSeq;
    p.sim[k] = s.simTimeS;
    p.upd[k] = s.updateTimeMs;
    const base = k * 5;
    p.c[base] = s.bytes;
    p.c[base + 1] = s.crcErrors;
    p.c[base + 2] = s.fecCorrectedBits;
    p.c[base + 3] = s.fecUncorrectableBlocks;
    p.c[base + 4] = s.losEvents;
    p.rates[k] = rates;
    return rates;
  }

  private record(seq: number, takenAtMs: number, sites: SiteState[]): void {
    const wanted = Math.floor(this.historyMs / this.intervalMs);
    if (wanted <= 0) return;
    const store = this.store;
    let need = store.slotsNeeded(sites);
    if (need !== sites.length) {
      // some sites vanished (or moved): free their slots first
      store.retain(new Set(sites.map((s) => s.sample.name)));
      need = store.slotsNeeded(sites);
    }
    if (need > store.slotCount || store.capacity === 0) {
      // Room for the sites (plus a quarter, so a few new sites do not reallocate), within the byte budget.
      const slots = Math.max(need, Math.ceil(sites.length * 1.25), 1);
      const cap = Math.max(1, Math.min(wanted, Math.floor(this.historyMaxBytes / (slots * HISTORY_BYTES_PER_ENTRY + 12))));
      if (cap < wanted)
        this.log.warn(
          { sites: sites.length, entries: cap, wanted, historyMaxBytes: this.historyMaxBytes },
          `history shortened to ${Math.round((cap * this.intervalMs) / 1000)} s per site by sampler.history_max_bytes`,
        );
      store.resize(slots, cap);
    }
    store.beginRow(seq, takenAtMs);
    for (const st of sites) store.put(st);
    store.endRow();
    this.stats.historyBytes = store.bytes;
    this.stats.historyCapacity = store.capacity;
  }
}
