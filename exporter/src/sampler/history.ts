// Per-site history in one time-major store of typed-array columns:
// entry (row r, slot s) lives at r * slots + s. No per-sample objects and no
// per-site arrays (10,000 sites x 38 small typed arrays cost more in
// headers than in data). The columns are allocated zeroed up front (calloc:
// untouched pages are not resident), and rows are written in time order, so
// resident memory grows with the history actually held, up to the budget.
// Counters, times and traffic are float64 (exact); optical and derived
// values are float32 (7 significant digits, plenty for plotting).
import type { FaultKind, LinkState, SiteSample } from '../source/types.js';
import { FAULT_KINDS } from '../source/types.js';
import type { SiteState } from './types.js';

const F64 = [
  'updateTimeMs', 'throughputBps', 'offeredBps', 'capacityBps', 'moduleCapacityBps',
  'bytes', 'crcErrors', 'fecCorrectedBits', 'fecUncorrectableBlocks', 'losEvents', 'rBytes',
] as const;
const F32 = [
  'preFecBer', 'postFecBer', 'osnrDb', 'qFactorDb', 'rxPowerDbm', 'txPowerDbm', 'chromaticDispersionPsNm',
  'laserBiasAmperes', 'temperatureCelsius', 'utilization', 'rCrc', 'rFecc', 'rFecu', 'rLos', 'anomalyScore',
] as const;
// simTimeS and the fault times are u32 seconds (until 2106); counts are u32.
const U32 = ['sampleSeq', 'simTimeS', 'faultStartSimS', 'faultEndSimS', 'faultsTotal', 'cmdModules', 'cmdModulesMax'] as const;
const U8 = ['linkState', 'fault', 'flags'] as const; // flags: FLAG_* below
// A u32 column cannot hold NaN (an absent field: a replay, a NIC), so absence is a flag.
const FLAG_PRESENT = 1;
const FLAG_RATES = 2;
const FLAG_NO_MODULES = 4; // cmdModules, cmdModulesMax absent
const FLAG_NO_FAULT = 8; // faultStartSimS, faultEndSimS, faultsTotal absent

/** Bytes per (site, tick) entry. */
export const HISTORY_BYTES_PER_ENTRY = F64.length * 8 + F32.length * 4 + U32.length * 4 + U8.length;
/** Bytes per tick shared by all sites (seq, time). */
const ROW_BYTES = 12;

const LINK: LinkState[] = ['down', 'up', 'degraded', 'unknown'];
const FAULTS: FaultKind[] = [...FAULT_KINDS, 'unknown'];

// One typed array per element type; column c of n entries at [c * n, (c + 1) * n).
const col = <K extends readonly string[]>(keys: K) => Object.fromEntries(keys.map((k, i) => [k, i])) as Record<K[number], number>;
const C64 = col(F64);
const C32 = col(F32);
const CU = col(U32);
const CB = col(U8);

export interface HistoryEntry {
  seq: number;
  takenAtMs: number;
  state: SiteState;
}

interface SlotInfo {
  slot: number;
  name: string;
  index: number;
}

export class HistoryStore {
  private slots = 0;
  private cap = 0;
  private head = 0; // next row to write
  private count = 0; // rows held
  private rowSeq = new Uint32Array(0);
  private rowTime = new Float64Array(0);
  private n = 0; // entries per column: slots * cap
  private f64 = new Float64Array(0);
  private f32 = new Float32Array(0);
  private u32 = new Uint32Array(0);
  private u8 = new Uint8Array(0);
  private readonly bySite = new Map<string, SlotInfo>();
  private free: number[] = [];
  private nextSlot = 0;
  private row = -1; // row being written, -1 outside begin/end

  /** Entries per site, and slots (sites) the columns hold. */
  get capacity(): number {
    return this.cap;
  }
  get slotCount(): number {
    return this.slots;
  }
  get length(): number {
    return this.count;
  }
  /** Bytes allocated (resident only as rows are written). */
  get bytes(): number {
    return this.slots * this.cap * HISTORY_BYTES_PER_ENTRY + this.cap * ROW_BYTES;
  }

  /** Reallocate for `slots` sites and `cap` rows, keeping the newest rows and every slot number below `slots`. */
  resize(slots: number, cap: number): void {
    if (slots === this.slots && cap === this.cap) return;
    const keep = Math.min(this.count, cap);
    const old = { f64: this.f64, f32: this.f32, u32: this.u32, u8: this.u8, seq: this.rowSeq, time: this.rowTime, n: this.n };
    const oldSlots = this.slots;
    const oldCap = this.cap;
    const oldHead = this.head;
    const n = slots * cap;
    this.f64 = new Float64Array(n * F64.length);
    this.f32 = new Float32Array(n * F32.length);
    this.u32 = new Uint32Array(n * U32.length);
    this.u8 = new Uint8Array(n * U8.length);
    this.rowSeq = new Uint32Array(cap);
    this.rowTime = new Float64Array(cap);
    const w = Math.min(oldSlots, slots);
    const copy = (src: Float64Array | Float32Array | Uint32Array | Uint8Array, dst: typeof src, ncols: number, a: number, b: number) => {
      for (let c = 0; c < ncols; c++) dst.set(src.subarray(c * old.n + a, c * old.n + a + w), c * n + b);
    };
    for (let k = 0; k < keep; k++) {
      const src = (oldHead - keep + k + oldCap) % oldCap;
      this.rowSeq[k] = old.seq[src]!;
      this.rowTime[k] = old.time[src]!;
      const a = src * oldSlots;
      const b = k * slots;
      copy(old.f64, this.f64, F64.length, a, b);
      copy(old.f32, this.f32, F32.length, a, b);
      copy(old.u32, this.u32, U32.length, a, b);
      copy(old.u8, this.u8, U8.length, a, b);
    }
    this.n = n;
    this.slots = slots;
    this.cap = cap;
    this.count = keep;
    this.head = cap > 0 ? keep % cap : 0;
    for (const [name, info] of this.bySite) if (info.slot >= slots) this.bySite.delete(name);
    this.free = this.free.filter((s) => s < slots);
    this.nextSlot = Math.min(this.nextSlot, slots);
  }

  /** Sites held now. */
  sites(): number {
    return this.bySite.size;
  }

  /** Forget sites not in `names`; their slots are reused (and wiped) later. */
  retain(names: Set<string>): void {
    for (const [name, info] of this.bySite)
      if (!names.has(name)) {
        this.bySite.delete(name);
        this.free.push(info.slot);
      }
  }

  /** Slots needed to add these sites. */
  slotsNeeded(sites: SiteState[]): number {
    let add = 0;
    for (const s of sites) {
      const i = this.bySite.get(s.sample.name);
      if (!i || i.index !== s.sample.index) add++;
    }
    return this.bySite.size + add;
  }

  beginRow(seq: number, takenAtMs: number): void {
    if (this.cap === 0) return;
    this.row = this.head;
    this.rowSeq[this.row] = seq;
    this.rowTime[this.row] = takenAtMs;
    const f = CB.flags * this.n;
    this.u8.fill(0, f + this.row * this.slots, f + (this.row + 1) * this.slots);
  }

  endRow(): void {
    if (this.cap === 0 || this.row < 0) return;
    this.head = (this.row + 1) % this.cap;
    if (this.count < this.cap) this.count++;
    this.row = -1;
  }

  private slotFor(name: string, index: number): number {
    let info = this.bySite.get(name);
    if (info && info.index !== index) {
      this.free.push(info.slot);
      info = undefined;
    }
    if (!info) {
      const slot = this.free.pop() ?? this.nextSlot++;
      // wipe whatever a previous owner left in this slot
      const f = CB.flags * this.n;
      for (let r = 0; r < this.cap; r++) this.u8[f + r * this.slots + slot] = 0;
      info = { slot, name, index };
      this.bySite.set(name, info);
    }
    return info.slot;
  }

  put(st: SiteState): void {
    if (this.row < 0) return;
    const s = st.sample;
    const slot = this.slotFor(s.name, s.index);
    if (slot >= this.slots) return; // caller did not resize; never overflow
    const i = this.row * this.slots + slot;
    const n = this.n;
    const d = this.f64;
    d[C64.updateTimeMs * n + i] = s.updateTimeMs;
    d[C64.throughputBps * n + i] = s.throughputBps;
    d[C64.offeredBps * n + i] = s.offeredBps;
    d[C64.capacityBps * n + i] = s.capacityBps;
    d[C64.moduleCapacityBps * n + i] = s.moduleCapacityBps;
    d[C64.bytes * n + i] = s.bytes;
    d[C64.crcErrors * n + i] = s.crcErrors;
    d[C64.fecCorrectedBits * n + i] = s.fecCorrectedBits;
    d[C64.fecUncorrectableBlocks * n + i] = s.fecUncorrectableBlocks;
    d[C64.losEvents * n + i] = s.losEvents;
    const f = this.f32;
    f[C32.preFecBer * n + i] = s.preFecBer;
    f[C32.postFecBer * n + i] = s.postFecBer;
    f[C32.osnrDb * n + i] = s.osnrDb;
    f[C32.qFactorDb * n + i] = s.qFactorDb;
    f[C32.rxPowerDbm * n + i] = s.rxPowerDbm;
    f[C32.txPowerDbm * n + i] = s.txPowerDbm;
    f[C32.chromaticDispersionPsNm * n + i] = s.chromaticDispersionPsNm;
    f[C32.laserBiasAmperes * n + i] = s.laserBiasAmperes;
    f[C32.temperatureCelsius * n + i] = s.temperatureCelsius;
    f[C32.utilization * n + i] = st.utilization;
    f[C32.anomalyScore * n + i] = st.inference.anomalyScore ?? NaN;
    const r = st.rates;
    d[C64.rBytes * n + i] = r ? r.bytesPerSecond : 0;
    f[C32.rCrc * n + i] = r ? r.crcErrorsPerSecond : 0;
    f[C32.rFecc * n + i] = r ? r.fecCorrectedBitsPerSecond : 0;
    f[C32.rFecu * n + i] = r ? r.fecUncorrectableBlocksPerSecond : 0;
    f[C32.rLos * n + i] = r ? r.losEventsPerSecond : 0;
    const u = this.u32;
    u[CU.sampleSeq * n + i] = s.sampleSeq;
    u[CU.simTimeS * n + i] = s.simTimeS;
    u[CU.faultStartSimS * n + i] = s.faultStartSimS;
    u[CU.faultEndSimS * n + i] = s.faultEndSimS;
    u[CU.faultsTotal * n + i] = s.faultsTotal;
    u[CU.cmdModules * n + i] = s.cmdModules;
    u[CU.cmdModulesMax * n + i] = s.cmdModulesMax;
    const b = this.u8;
    b[CB.linkState * n + i] = Math.max(0, LINK.indexOf(s.linkState));
    b[CB.fault * n + i] = Math.max(0, FAULTS.indexOf(s.fault));
    b[CB.flags * n + i] =
      FLAG_PRESENT | (r ? FLAG_RATES : 0) | (Number.isNaN(s.cmdModules) ? FLAG_NO_MODULES : 0) | (Number.isNaN(s.faultsTotal) ? FLAG_NO_FAULT : 0);
  }

  private at(row: number, info: SlotInfo): HistoryEntry {
    const i = row * this.slots + info.slot;
    const n = this.n;
    const d = this.f64;
    const f = this.f32;
    const u = this.u32;
    const b = this.u8;
    const flags = b[CB.flags * n + i]!;
    const modules = (k: number) => (flags & FLAG_NO_MODULES ? NaN : u[k * n + i]!);
    const faultU32 = (k: number) => (flags & FLAG_NO_FAULT ? NaN : u[k * n + i]!);
    const sample: SiteSample = {
      index: info.index,
      name: info.name,
      sampleSeq: u[CU.sampleSeq * n + i]!,
      updateTimeMs: d[C64.updateTimeMs * n + i]!,
      simTimeS: u[CU.simTimeS * n + i]!,
      throughputBps: d[C64.throughputBps * n + i]!,
      offeredBps: d[C64.offeredBps * n + i]!,
      capacityBps: d[C64.capacityBps * n + i]!,
      moduleCapacityBps: d[C64.moduleCapacityBps * n + i]!,
      cmdModules: modules(CU.cmdModules),
      cmdModulesMax: modules(CU.cmdModulesMax),
      linkState: LINK[b[CB.linkState * n + i]!]!,
      bytes: d[C64.bytes * n + i]!,
      crcErrors: d[C64.crcErrors * n + i]!,
      fecCorrectedBits: d[C64.fecCorrectedBits * n + i]!,
      fecUncorrectableBlocks: d[C64.fecUncorrectableBlocks * n + i]!,
      losEvents: d[C64.losEvents * n + i]!,
      preFecBer: f[C32.preFecBer * n + i]!,
      postFecBer: f[C32.postFecBer * n + i]!,
      osnrDb: f[C32.osnrDb * n + i]!,
      qFactorDb: f[C32.qFactorDb * n + i]!,
      rxPowerDbm: f[C32.rxPowerDbm * n + i]!,
      txPowerDbm: f[C32.txPowerDbm * n + i]!,
      chromaticDispersionPsNm: f[C32.chromaticDispersionPsNm * n + i]!,
      laserBiasAmperes: f[C32.laserBiasAmperes * n + i]!,
      temperatureCelsius: f[C32.temperatureCelsius * n + i]!,
      fault: FAULTS[b[CB.fault * n + i]!]!,
      faultStartSimS: faultU32(CU.faultStartSimS),
      faultEndSimS: faultU32(CU.faultEndSimS),
      faultsTotal: faultU32(CU.faultsTotal),
    };
    const score = f[C32.anomalyScore * n + i]!;
    return {
      seq: this.rowSeq[row]!,
      takenAtMs: this.rowTime[row]!,
      state: {
        sample,
        rates:
          flags & FLAG_RATES
            ? {
                bytesPerSecond: d[C64.rBytes * n + i]!,
                crcErrorsPerSecond: f[C32.rCrc * n + i]!,
                fecCorrectedBitsPerSecond: f[C32.rFecc * n + i]!,
                fecUncorrectableBlocksPerSecond: f[C32.rFecu * n + i]!,
                losEventsPerSecond: f[C32.rLos * n + i]!,
              }
            : null,
        utilization: f[C32.utilization * n + i]!,
        inference: Number.isNaN(score) ? {} : { anomalyScore: score },
      },
    };
  }

  /** Entries of one site with takenAtMs in [fromMs, toMs], oldest first; with stepMs > 0 the last entry of each step bucket. Undefined for an unknown site. */
  query(site: string, fromMs: number, toMs: number, stepMs = 0): HistoryEntry[] | undefined {
    const info = this.bySite.get(site);
    if (!info) return undefined;
    const rows: number[] = [];
    let lastBucket = NaN;
    const start = (this.head - this.count + this.cap) % Math.max(1, this.cap);
    for (let k = 0; k < this.count; k++) {
      const r = (start + k) % this.cap;
      const ts = this.rowTime[r]!;
      if (ts < fromMs || ts > toMs || !(this.u8[CB.flags * this.n + r * this.slots + info.slot]! & 1)) continue;
      if (stepMs > 0) {
        const bucket = Math.floor((ts - fromMs) / stepMs);
        if (bucket === lastBucket) rows.pop();
        lastBucket = bucket;
      }
      rows.push(r);
    }
    return rows.map((r) => this.at(r, info));
  }
}
