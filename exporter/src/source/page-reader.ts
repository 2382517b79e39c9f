// Reads the OptiFiber pages (/proc/optifiber/myinfo or the simulator's file)
// through a read-only shared mapping: no syscalls and no copies per snapshot,
// only the DataView reads of the fields that are decoded.
//
// Consistency follows the header's seqcount protocol to the letter (spin
// while seq is odd, read barrier, copy, read barrier, re-check); the
// directory seq, held across the whole tick by the writer, tells whether all
// sites belong to one tick. Every field, update_time_ns included, is read
// inside such a section. The two smp_rmb() of the header, in JavaScript:
//  - first (seq before the fields): seq is loaded with Atomics.load, which is
//    sequentially consistent, so no later load moves above it (a plain mov on
//    x86, whose loads are not reordered with other loads; ldar on arm64);
//  - second (the fields before the re-check of seq): readBarrier(), an
//    atomic read-modify-write on a private SharedArrayBuffer word. An acquire
//    load alone would not do on arm64: ldar orders what follows it, not the
//    plain ldr of the fields before it, so the CPU could read a field after
//    the re-check and accept a torn copy. A seq_cst RMW (lock xadd on x86;
//    ldaddal or an ldaxr/stlxr loop on arm64) keeps every earlier load before
//    every later one. Its cost: one atomic per page read (measured 50-90 ns
//    on the shared 2-core CI machine; the budget is 1000 ns per site).
// V8 keeps DataView loads and Atomics operations in program order (both sit
// on its effect chain), so the compiler never undoes the CPU ordering.
//
// Each site's recent ring (ABI minor 2) is read in the same seqcount section
// as its page, from the sample after the one the last consistent snapshot
// returned: SiteSample.earlier holds what a slow reader would have missed.
import { fstatSync, statSync, statfsSync } from 'node:fs';
import {
  DIR_OFFSET,
  OPTIFIBER_ABI_MAJOR,
  OPTIFIBER_DIR_F_LIVE,
  OPTIFIBER_DIR_F_SIMULATED,
  OPTIFIBER_HOST_LEN,
  OPTIFIBER_MAGIC,
  OPTIFIBER_MAX_SITES,
  OPTIFIBER_PAGE_SIZE,
  OPTIFIBER_SITE_F_VALID,
  OPTIFIBER_SITE_MAGIC,
  OPTIFIBER_SITE_NAME_LEN,
  SITE_OFFSET,
  mappingLength,
  sitePageOffset,
} from '../abi/layout.js';
import * as abi from '../abi/layout.js';
import { AbiMismatchError, SourceUnavailableError, SyscallError } from './errors.js';
import { closeFd, fileSize, mapShared, openReadOnly, unmap, type Mapping } from './libc.js';
import { FAULT_KINDS, type DirectoryInfo, type FaultKind, type InvalidSite, type LinkState, type SiteSample, type Snapshot } from './types.js';

export interface PageReaderOptions {
  /** Re-reads of one page (odd or changed seq) before it is reported "torn" for this snapshot. Default 64. */
  maxRetries?: number;
  /** Whole-snapshot re-reads while the directory seq does not hold. Default 4. */
  maxSnapshotRetries?: number;
  /**
   * At most how often snapshot() checks that a regular file still covers the
   * mapping (truncated in place: SIGBUS). Default 50 ms: below the shortest
   * tick (100 ms), so every tick is checked, while tight snapshot loops
   * (tests, benchmarks) do not pay a syscall each time.
   */
  sizeCheckIntervalMs?: number;
  /** At most how often snapshot() stats the path to notice deletion or replacement. Default 1000 ms. */
  pathCheckIntervalMs?: number;
  /** A LIVE directory whose update_time has not advanced for this many tick intervals is stale. Default 5. */
  staleTicks?: number;
  /** Return a detached reader instead of throwing SourceUnavailableError when the path is missing. */
  lazy?: boolean;
}

const PROC_SUPER_MAGIC = 0x9fa0;
const TWO_POW_32 = 4294967296;
const LINK_STATES: readonly LinkState[] = ['down', 'up', 'degraded'];
const DIR_SEQ_WORD = DIR_OFFSET.seq >> 2;

// The header's second smp_rmb(): see the comment at the top of this file.
const FENCE_WORD = new Int32Array(new SharedArrayBuffer(4));
function readBarrier(): void {
  Atomics.add(FENCE_WORD, 0, 0);
}

// Field offsets as module constants, so the decoders below read like the
// struct and TurboFan folds them into the loads.
const D_MAGIC = DIR_OFFSET.magic;
const D_ABI_MAJOR = DIR_OFFSET.abi_major;
const D_ABI_MINOR = DIR_OFFSET.abi_minor;
const D_PAGE_SIZE = DIR_OFFSET.page_size;
const D_SITE_COUNT = DIR_OFFSET.site_count;
const D_TICK_INTERVAL_MS = DIR_OFFSET.tick_interval_ms;
const D_TIME_SCALE = DIR_OFFSET.time_scale;
const D_FLAGS = DIR_OFFSET.flags;
const D_GENERATION = DIR_OFFSET.generation;
const D_TICK = DIR_OFFSET.tick;
const D_UPDATE_TIME_NS = DIR_OFFSET.update_time_ns;
const D_SIM_TIME_S = DIR_OFFSET.sim_time_s;
const D_SEED = DIR_OFFSET.seed;
const D_HOST = DIR_OFFSET.host;

const S_SEQ = SITE_OFFSET.seq;
const S_MAGIC = SITE_OFFSET.magic;
const S_ABI_MAJOR = SITE_OFFSET.abi_major;
const S_SITE_INDEX = SITE_OFFSET.site_index;
const S_FLAGS = SITE_OFFSET.flags;
const S_SAMPLE_SEQ = SITE_OFFSET.sample_seq;
const S_UPDATE_TIME_NS = SITE_OFFSET.update_time_ns;
const S_SIM_TIME_S = SITE_OFFSET.sim_time_s;
const S_NAME = SITE_OFFSET.name;
const S_THROUGHPUT_BPS = SITE_OFFSET.throughput_bps;
const S_OFFERED_BPS = SITE_OFFSET.offered_bps;
const S_CAPACITY_BPS = SITE_OFFSET.capacity_bps;
const S_MODULE_CAPACITY_BPS = SITE_OFFSET.module_capacity_bps;
const S_CMD_MODULES = SITE_OFFSET.cmd_modules;
const S_CMD_MODULES_MAX = SITE_OFFSET.cmd_modules_max;
const S_LINK_STATE = SITE_OFFSET.link_state;
const S_BYTES = SITE_OFFSET.bytes;
const S_CRC_ERRORS = SITE_OFFSET.crc_errors;
const S_FEC_CORRECTED_BITS = SITE_OFFSET.fec_corrected_bits;
const S_FEC_UNCORRECTABLE_BLOCKS = SITE_OFFSET.fec_uncorrectable_blocks;
const S_LOS_EVENTS = SITE_OFFSET.los_events;
const S_PRE_FEC_BER_E18 = SITE_OFFSET.pre_fec_ber_e18;
const S_POST_FEC_BER_E18 = SITE_OFFSET.post_fec_ber_e18;
const S_OSNR_CDB = SITE_OFFSET.osnr_cdb;
const S_Q_FACTOR_CDB = SITE_OFFSET.q_factor_cdb;
const S_RX_POWER_CDBM = SITE_OFFSET.rx_power_cdbm;
const S_TX_POWER_CDBM = SITE_OFFSET.tx_power_cdbm;
const S_CHROMATIC_DISPERSION_PS_NM = SITE_OFFSET.chromatic_dispersion_ps_nm;
const S_LASER_BIAS_UA = SITE_OFFSET.laser_bias_ua;
const S_TEMPERATURE_MC = SITE_OFFSET.temperature_mc;
const S_FAULT = SITE_OFFSET.fault;
const S_FAULT_START_SIM_S = SITE_OFFSET.fault_start_sim_s;
const S_FAULT_END_SIM_S = SITE_OFFSET.fault_end_sim_s;
const S_FAULTS_TOTAL = SITE_OFFSET.faults_total;
const S_ABSENT = SITE_OFFSET.absent;
const S_RECENT = SITE_OFFSET.recent;
const RECENT = abi.OPTIFIBER_RECENT;
const SAMPLE_OFFSET = abi.OPTIFIBER_SAMPLE_OFFSET;
const SAMPLE_LEN = abi.OPTIFIBER_SAMPLE_LEN;
const NAME_WORDS = OPTIFIBER_SITE_NAME_LEN / 4;
const HOST_WORDS = OPTIFIBER_HOST_LEN / 4;

/** u64 as a number: two u32 loads beat getBigUint64 + Number() by far; exact to 2^53. */
function u64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * TWO_POW_32;
}

const utf8 = new TextDecoder('utf-8');

/** A NUL-terminated, NUL-padded char array. */
function cString(bytes: Uint8Array, offset: number, length: number): string {
  let end = offset;
  const limit = offset + length;
  while (end < limit && bytes[end] !== 0) end++;
  return utf8.decode(bytes.subarray(offset, end));
}

/** One mapping of one file (inode); replaced as a whole on reattach. */
interface Attachment {
  readonly mapping: Mapping;
  readonly view: DataView;
  readonly bytes: Uint8Array;
  readonly words: Int32Array; // for Atomics.load of the seq words
  readonly siteCount: number;
  readonly dev: number;
  readonly ino: number;
  /** A regular file (not procfs): its fd stays open and its size is checked before every read. */
  readonly fd: number | undefined;
  readonly length: number;
  // Site names change (almost) never: decode only when the 32 bytes differ.
  readonly nameWords: Uint32Array;
  readonly names: string[];
  readonly hostWords: Uint32Array;
  host: string;
  /** sample_seq of each site in the last consistent snapshot returned: where its recent ring is read from. */
  readonly lastSeq: Float64Array;
  // Staleness: the last update_time seen and when (performance.now()) it last moved.
  lastUpdateTimeMs: number; // NaN: none seen under a holding seq yet
  lastAdvanceAtMs: number;
}

export class PageReader {
  readonly path: string;
  private readonly maxRetries: number;
  private readonly maxSnapshotRetries: number;
  private readonly pathCheckIntervalMs: number;
  private readonly sizeCheckIntervalMs: number;
  private lastSizeCheckMs = -Infinity;
  private readonly staleTicks: number;
  private attachment: Attachment | null = null;
  private closed = false;
  private lastPathCheckMs = -Infinity;
  private lastAttachAttemptMs = -Infinity;
  private lastUnavailableReason = 'not attached';
  private retries = 0; // page re-reads in the snapshot being taken

  private constructor(path: string, options: PageReaderOptions) {
    this.path = path;
    this.maxRetries = options.maxRetries ?? 64;
    this.maxSnapshotRetries = options.maxSnapshotRetries ?? 4;
    this.pathCheckIntervalMs = options.pathCheckIntervalMs ?? 1000;
    this.sizeCheckIntervalMs = options.sizeCheckIntervalMs ?? 50;
    this.staleTicks = options.staleTicks ?? 5;
  }

  /**
   * Maps `path` and validates its directory page. Throws SourceUnavailableError
   * when the path does not exist (unless `lazy`), AbiMismatchError when the
   * layout is not the one this build reads, SyscallError for other failures.
   */
  static open(path: string, options: PageReaderOptions = {}): PageReader {
    const reader = new PageReader(path, options);
    try {
      reader.attach();
    } catch (error) {
      if (!(options.lazy === true && error instanceof SourceUnavailableError)) throw error;
      reader.lastUnavailableReason = error.reason;
    }
    return reader;
  }

  /** True while a mapping is held. */
  get attached(): boolean {
    return this.attachment !== null;
  }

  /** Site pages in the current mapping, undefined while detached. */
  get siteCount(): number | undefined {
    return this.attachment?.siteCount;
  }

  /**
   * One snapshot of all sites. Throws SourceUnavailableError while there is no
   * live writer (the reader keeps trying to reattach on later calls, at most
   * once per pathCheckIntervalMs), AbiMismatchError if a replacement file has
   * another layout.
   */
  snapshot(): Snapshot {
    if (this.closed) throw new Error(`PageReader ${this.path} is closed`);
    const nowMs = performance.now();
    if (this.attachment === null) {
      if (nowMs - this.lastAttachAttemptMs < this.pathCheckIntervalMs) {
        throw new SourceUnavailableError(this.path, this.lastUnavailableReason);
      }
      this.attachRemembering();
    } else if (nowMs - this.lastPathCheckMs >= this.pathCheckIntervalMs) {
      this.lastPathCheckMs = nowMs;
      this.checkPath();
    }
    const attachment = this.attachment;
    if (attachment === null) throw new SourceUnavailableError(this.path, 'not attached');
    this.checkSize(attachment);

    const snapshot = this.read(attachment);
    const dir = snapshot.dir;
    const magic = attachment.view.getUint32(D_MAGIC, true);
    if (magic !== OPTIFIBER_MAGIC || dir.abiMajor !== OPTIFIBER_ABI_MAJOR || dir.siteCount !== attachment.siteCount || dir.pageSize !== OPTIFIBER_PAGE_SIZE) {
      // The writer re-laid out (or something overwrote) the same file; validate and map it again next time.
      this.detach();
      throw new SourceUnavailableError(this.path, `layout changed (magic 0x${magic.toString(16)}, abi_major ${dir.abiMajor}, site_count ${dir.siteCount}, page_size ${dir.pageSize})`);
    }
    if (!dir.live) throw new SourceUnavailableError(this.path, 'writer detached (LIVE flag clear)');
    this.checkStale(attachment, snapshot, performance.now());
    // Only a consistent snapshot moves the ring's read position: the sampler
    // retries an inconsistent one, and its retry must get the same samples.
    if (snapshot.consistent) for (const site of snapshot.sites) attachment.lastSeq[site.index] = site.sampleSeq;
    return snapshot;
  }

  /** Unmaps; snapshot() fails afterwards. */
  close(): void {
    this.closed = true;
    this.detach();
  }

  private read(attachment: Attachment): Snapshot {
    const { view, words, siteCount } = attachment;
    this.retries = 0;
    let dir: DirectoryInfo;
    let sites: SiteSample[];
    let invalid: InvalidSite[];
    let consistent: boolean;
    for (let round = 0; ; round++) {
      if (round > 0) this.retries++; // the directory page, re-read
      const dirSeq = this.awaitEvenDirSeq(words);
      dir = this.decodeDir(attachment);
      sites = [];
      invalid = [];
      for (let index = 0; index < siteCount; index++) {
        if (round > 0) this.retries++;
        const result = this.readSite(attachment, view, words, index);
        if (typeof result === 'string') invalid.push({ index, reason: result });
        else sites.push(result);
      }
      readBarrier(); // every page above read before the directory seq again
      consistent = (dirSeq & 1) === 0 && (Atomics.load(words, DIR_SEQ_WORD) >>> 0) === dirSeq;
      if (consistent || round >= this.maxSnapshotRetries) break;
    }
    return { dir, sites, invalid, consistent, retries: this.retries, takenAtMs: Date.now() };
  }

  /** The directory seq, after a short bounded wait for the writer to finish its tick. */
  private awaitEvenDirSeq(words: Int32Array): number {
    let seq = Atomics.load(words, DIR_SEQ_WORD) >>> 0;
    for (let spin = 0; (seq & 1) !== 0 && spin < this.maxRetries * 16; spin++) {
      seq = Atomics.load(words, DIR_SEQ_WORD) >>> 0;
    }
    return seq;
  }

  /** A site sample, or the reason the page is invalid in this snapshot. */
  private readSite(attachment: Attachment, view: DataView, words: Int32Array, index: number): SiteSample | string {
    const base = sitePageOffset(index);
    const seqWord = (base + S_SEQ) >> 2;
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      if (attempt > 0) this.retries++;
      const seq = Atomics.load(words, seqWord);
      if ((seq & 1) !== 0) continue;
      const result = this.decodeSite(attachment, view, base, index);
      readBarrier();
      if (Atomics.load(words, seqWord) === seq) return result;
    }
    return 'torn';
  }

  private decodeSite(attachment: Attachment, view: DataView, base: number, index: number): SiteSample | string {
    const magic = view.getUint32(base + S_MAGIC, true);
    if (magic !== OPTIFIBER_SITE_MAGIC) {
      return `bad magic 0x${magic.toString(16).padStart(8, '0')} (expected 0x${OPTIFIBER_SITE_MAGIC.toString(16)})`;
    }
    const abiMajor = view.getUint16(base + S_ABI_MAJOR, true);
    if (abiMajor !== OPTIFIBER_ABI_MAJOR) return `abi_major ${abiMajor} (expected ${OPTIFIBER_ABI_MAJOR})`;
    const siteIndex = view.getUint32(base + S_SITE_INDEX, true);
    if (siteIndex !== index) return `site_index ${siteIndex} (expected ${index})`;
    const flags = view.getUint32(base + S_FLAGS, true);
    if ((flags & OPTIFIBER_SITE_F_VALID) === 0) return 'no sample yet';
    const sample = decodeSample(view, base, index, this.siteName(attachment, view, base, index), flags);
    this.readRecent(attachment, view, base, sample, flags);
    return sample;
  }

  /**
   * The samples the writer published since the last consistent snapshot and
   * before the page's own, oldest first, from the page's ring (ABI minor 2;
   * see "Recent samples" in the header). An entry counts only if it holds the
   * sample_seq it is read for; an older writer's zeroed ring yields nothing.
   */
  private readRecent(attachment: Attachment, view: DataView, base: number, latest: SiteSample, flags: number): void {
    const last = attachment.lastSeq[latest.index]!;
    const head = latest.sampleSeq;
    if (last === 0 || head <= last + 1) return; // first sight, a restarted writer, or nothing in between
    let earlier: SiteSample[] | undefined;
    for (let seq = Math.max(last + 1, head - RECENT + 1); seq < head; seq++) {
      const entry = base + S_RECENT + (seq % RECENT) * SAMPLE_LEN;
      if (u64(view, entry) !== seq) continue;
      (earlier ??= []).push(decodeSample(view, entry - SAMPLE_OFFSET, latest.index, latest.name, flags));
    }
    if (earlier) latest.earlier = earlier;
  }
  private siteName(attachment: Attachment, view: DataView, base: number, index: number): string {
    const cache = attachment.nameWords;
    const first = index * NAME_WORDS;
    let same = true;
    for (let w = 0; w < NAME_WORDS; w++) {
      const word = view.getUint32(base + S_NAME + w * 4, true);
      if (cache[first + w] !== word) {
        cache[first + w] = word;
        same = false;
      }
    }
    if (same) return attachment.names[index] ?? '';
    const name = cString(attachment.bytes, base + S_NAME, OPTIFIBER_SITE_NAME_LEN);
    attachment.names[index] = name;
    return name;
  }

  private decodeDir(attachment: Attachment): DirectoryInfo {
    const view = attachment.view;
    const flags = view.getUint32(D_FLAGS, true);
    // host rarely changes: decode it only when its bytes do.
    let hostChanged = false;
    for (let w = 0; w < HOST_WORDS; w++) {
      const word = view.getUint32(D_HOST + w * 4, true);
      if (attachment.hostWords[w] !== word) {
        attachment.hostWords[w] = word;
        hostChanged = true;
      }
    }
    if (hostChanged) attachment.host = cString(attachment.bytes, D_HOST, OPTIFIBER_HOST_LEN);
    return {
      abiMajor: view.getUint16(D_ABI_MAJOR, true),
      abiMinor: view.getUint16(D_ABI_MINOR, true),
      pageSize: view.getUint32(D_PAGE_SIZE, true),
      siteCount: view.getUint32(D_SITE_COUNT, true),
      tickIntervalMs: view.getUint32(D_TICK_INTERVAL_MS, true),
      timeScale: view.getUint32(D_TIME_SCALE, true),
      live: (flags & OPTIFIBER_DIR_F_LIVE) !== 0,
      simulated: (flags & OPTIFIBER_DIR_F_SIMULATED) !== 0,
      replay: (flags & abi.OPTIFIBER_DIR_F_REPLAY) !== 0,
      generation: view.getBigUint64(D_GENERATION, true),
      tick: u64(view, D_TICK),
      updateTimeMs: u64(view, D_UPDATE_TIME_NS) / 1e6,
      simTimeS: u64(view, D_SIM_TIME_S),
      seed: view.getBigUint64(D_SEED, true),
      host: attachment.host,
    };
  }

  /**
   * A LIVE writer whose update_time stopped moving (killed -9, hung) is as good
   * as gone. update_time comes from the snapshot, read under the directory
   * seq; a snapshot whose directory seq did not hold saw the writer at work,
   * which counts as an advance.
   */
  private checkStale(attachment: Attachment, snapshot: Snapshot, nowMs: number): void {
    const dir = snapshot.dir;
    if (!snapshot.consistent || dir.updateTimeMs !== attachment.lastUpdateTimeMs) {
      attachment.lastUpdateTimeMs = snapshot.consistent ? dir.updateTimeMs : NaN;
      attachment.lastAdvanceAtMs = nowMs;
      return;
    }
    if (dir.tickIntervalMs === 0) return;
    const limitMs = this.staleTicks * dir.tickIntervalMs;
    const stillMs = nowMs - attachment.lastAdvanceAtMs;
    if (stillMs > limitMs) {
      throw new SourceUnavailableError(
        this.path,
        `stale: update_time has not advanced for ${Math.round(stillMs)} ms (> ${this.staleTicks} ticks of ${dir.tickIntervalMs} ms)`,
      );
    }
  }

  /**
   * A regular file truncated in place (same inode) would make the next read
   * of the mapping raise SIGBUS and kill the process: every snapshot fstats
   * the mapped file first and lets go of the mapping when the file no longer
   * covers it. (procfs: the module's mapping never shrinks.)
   */
  private checkSize(attachment: Attachment): void {
    if (attachment.fd === undefined) return;
    const now = performance.now();
    if (now - this.lastSizeCheckMs < this.sizeCheckIntervalMs) return;
    this.lastSizeCheckMs = now;
    const size = fileSize(attachment.fd);
    if (size >= attachment.length) return;
    this.detach();
    this.lastUnavailableReason = `file truncated to ${size} bytes while mapped (${attachment.length} needed); reattaching when it is whole again`;
    throw new SourceUnavailableError(this.path, this.lastUnavailableReason);
  }

  /** Deleted or replaced (new inode) since we mapped it? Then remap, or report it gone. */
  private checkPath(): void {
    const attachment = this.attachment;
    if (attachment === null) return;
    let stat;
    try {
      stat = statSync(this.path);
    } catch (error) {
      this.detach();
      this.lastUnavailableReason = `path gone (${(error as NodeJS.ErrnoException).code ?? 'stat failed'})`;
      throw new SourceUnavailableError(this.path, this.lastUnavailableReason, { cause: error });
    }
    if (stat.ino !== attachment.ino || stat.dev !== attachment.dev) {
      this.detach();
      this.attachRemembering();
    }
  }

  /** attach(), keeping why it failed to repeat while reattaching is throttled. */
  private attachRemembering(): void {
    try {
      this.attach();
    } catch (error) {
      this.lastUnavailableReason = error instanceof SourceUnavailableError ? error.reason : (error as Error).message;
      throw error;
    }
  }

  private attach(): void {
    this.lastAttachAttemptMs = performance.now();
    let fd: number;
    try {
      fd = openReadOnly(this.path);
    } catch (error) {
      if (error instanceof SyscallError && error.code === 'ENOENT') {
        throw new SourceUnavailableError(this.path, 'no such file', { cause: error });
      }
      throw error;
    }
    try {
      const stat = fstatSync(fd);
      // procfs reports size 0 and the module's mmap bounds the length; a
      // regular file must hold every page or reading past EOF raises SIGBUS.
      const sizeIsReal = !(stat.size === 0 && statfsSync(this.path).type === PROC_SUPER_MAGIC);
      if (sizeIsReal && stat.size < OPTIFIBER_PAGE_SIZE) {
        throw new AbiMismatchError(this.path, 'file size', stat.size, `>= ${OPTIFIBER_PAGE_SIZE} (one directory page)`);
      }
      const head = mapShared(fd, OPTIFIBER_PAGE_SIZE, this.path);
      let siteCount: number;
      try {
        siteCount = this.validateDirectory(new DataView(head.buffer), stat.size, sizeIsReal);
      } finally {
        unmap(head, this.path);
      }
      const length = mappingLength(siteCount);
      const mapping = mapShared(fd, length, this.path);
      const view = new DataView(mapping.buffer);
      const words = new Int32Array(mapping.buffer);
      const updateTimeMs = this.dirUpdateTimeMs(view, words);
      // Before the first advance we see, trust the writer's wall clock for the age.
      const ageMs = Number.isNaN(updateTimeMs) ? 0 : Math.max(0, Date.now() - updateTimeMs);
      this.attachment = {
        mapping,
        view,
        bytes: new Uint8Array(mapping.buffer),
        words,
        siteCount,
        dev: stat.dev,
        ino: stat.ino,
        fd: sizeIsReal ? fd : undefined,
        length,
        nameWords: new Uint32Array(siteCount * NAME_WORDS),
        names: new Array<string>(siteCount).fill(''),
        hostWords: new Uint32Array(HOST_WORDS),
        host: '',
        lastSeq: new Float64Array(siteCount),
        lastUpdateTimeMs: updateTimeMs,
        lastAdvanceAtMs: performance.now() - ageMs,
      };
      this.lastPathCheckMs = performance.now();
    } finally {
      if (this.attachment?.fd !== fd) closeFd(fd, this.path);
    }
  }

  /** update_time_ns (as ms) read under the directory seqcount; NaN while the writer holds it odd. */
  private dirUpdateTimeMs(view: DataView, words: Int32Array): number {
    for (let spin = 0; spin < this.maxRetries * 16; spin++) {
      const seq = Atomics.load(words, DIR_SEQ_WORD);
      if ((seq & 1) !== 0) continue;
      const ms = u64(view, D_UPDATE_TIME_NS) / 1e6;
      readBarrier();
      if (Atomics.load(words, DIR_SEQ_WORD) === seq) return ms;
    }
    return Number.NaN;
  }

  /** Throws AbiMismatchError naming the first field this build cannot read; returns site_count. */
  private validateDirectory(view: DataView, fileSize: number, sizeIsReal: boolean): number {
    const magic = view.getUint32(D_MAGIC, true);
    if (magic !== OPTIFIBER_MAGIC) throw new AbiMismatchError(this.path, 'magic', magic, OPTIFIBER_MAGIC);
    const abiMajor = view.getUint16(D_ABI_MAJOR, true);
    if (abiMajor !== OPTIFIBER_ABI_MAJOR) throw new AbiMismatchError(this.path, 'abi_major', abiMajor, OPTIFIBER_ABI_MAJOR);
    const pageSize = view.getUint32(D_PAGE_SIZE, true);
    if (pageSize !== OPTIFIBER_PAGE_SIZE) throw new AbiMismatchError(this.path, 'page_size', pageSize, OPTIFIBER_PAGE_SIZE);
    const siteCount = view.getUint32(D_SITE_COUNT, true);
    if (siteCount > OPTIFIBER_MAX_SITES) {
      throw new AbiMismatchError(this.path, 'site_count', siteCount, `<= ${OPTIFIBER_MAX_SITES} (OPTIFIBER_MAX_SITES)`);
    }
    const needed = mappingLength(siteCount);
    if (sizeIsReal && fileSize < needed) {
      throw new AbiMismatchError(this.path, 'file size', fileSize, `>= ${needed} for site_count ${siteCount}`);
    }
    return siteCount;
  }

  private detach(): void {
    const attachment = this.attachment;
    if (attachment === null) return;
    this.attachment = null; // nothing may read the views once unmapped
    unmap(attachment.mapping, this.path);
    if (attachment.fd !== undefined) closeFd(attachment.fd, this.path);
  }
}

/**
 * The measurements at `base` (a site page, or a recent entry minus
 * OPTIFIBER_SAMPLE_OFFSET: the same offsets), converted to domain units.
 */
function decodeSample(view: DataView, base: number, index: number, name: string, flags: number): SiteSample {
  // bits 0..20 of a u64: the low word holds them all
  const absent = view.getUint32(base + S_ABSENT, true) & abi.OPTIFIBER_ABSENT_ALL;
  const linkState = absent & abi.OPTIFIBER_ABSENT_LINK_STATE ? -1 : view.getUint32(base + S_LINK_STATE, true);
  const fault = absent & abi.OPTIFIBER_ABSENT_FAULT ? -1 : view.getUint32(base + S_FAULT, true);
  const sample: SiteSample = {
    index,
    name,
    sampleSeq: u64(view, base + S_SAMPLE_SEQ),
    updateTimeMs: u64(view, base + S_UPDATE_TIME_NS) / 1e6,
    simTimeS: u64(view, base + S_SIM_TIME_S),

    throughputBps: u64(view, base + S_THROUGHPUT_BPS),
    offeredBps: u64(view, base + S_OFFERED_BPS),
    capacityBps: u64(view, base + S_CAPACITY_BPS),
    moduleCapacityBps: u64(view, base + S_MODULE_CAPACITY_BPS),
    cmdModules: view.getUint32(base + S_CMD_MODULES, true),
    cmdModulesMax: view.getUint32(base + S_CMD_MODULES_MAX, true),
    linkState: LINK_STATES[linkState] ?? 'unknown',

    bytes: u64(view, base + S_BYTES),
    crcErrors: u64(view, base + S_CRC_ERRORS),
    fecCorrectedBits: u64(view, base + S_FEC_CORRECTED_BITS),
    fecUncorrectableBlocks: u64(view, base + S_FEC_UNCORRECTABLE_BLOCKS),
    losEvents: u64(view, base + S_LOS_EVENTS),

    preFecBer: u64(view, base + S_PRE_FEC_BER_E18) / 1e18,
    postFecBer: u64(view, base + S_POST_FEC_BER_E18) / 1e18,
    osnrDb: view.getInt32(base + S_OSNR_CDB, true) / 100,
    qFactorDb: view.getInt32(base + S_Q_FACTOR_CDB, true) / 100,
    rxPowerDbm: view.getInt32(base + S_RX_POWER_CDBM, true) / 100,
    txPowerDbm: view.getInt32(base + S_TX_POWER_CDBM, true) / 100,
    chromaticDispersionPsNm: view.getInt32(base + S_CHROMATIC_DISPERSION_PS_NM, true),
    laserBiasAmperes: view.getUint32(base + S_LASER_BIAS_UA, true) / 1e6,
    temperatureCelsius: view.getInt32(base + S_TEMPERATURE_MC, true) / 1000,

    fault: (FAULT_KINDS[fault] as FaultKind | undefined) ?? 'unknown',
    faultStartSimS: u64(view, base + S_FAULT_START_SIM_S),
    faultEndSimS: u64(view, base + S_FAULT_END_SIM_S),
    faultsTotal: u64(view, base + S_FAULTS_TOTAL),
    absent,
  };
  if (flags & abi.OPTIFIBER_SITE_F_INTERFACE) sample.interface = true;
  if (absent !== 0) markAbsent(sample, absent);
  return sample;
}

/** SiteSample fields per OPTIFIBER_ABSENT_* bit: NaN when the writer marks them absent. */
const ABSENT_FIELDS: readonly [number, readonly (keyof SiteSample)[]][] = [
  [abi.OPTIFIBER_ABSENT_THROUGHPUT, ['throughputBps']],
  [abi.OPTIFIBER_ABSENT_OFFERED, ['offeredBps']],
  [abi.OPTIFIBER_ABSENT_CAPACITY, ['capacityBps']],
  [abi.OPTIFIBER_ABSENT_MODULE_CAPACITY, ['moduleCapacityBps']],
  [abi.OPTIFIBER_ABSENT_CMD_MODULES, ['cmdModules', 'cmdModulesMax']],
  [abi.OPTIFIBER_ABSENT_BYTES, ['bytes']],
  [abi.OPTIFIBER_ABSENT_CRC_ERRORS, ['crcErrors']],
  [abi.OPTIFIBER_ABSENT_FEC_CORRECTED, ['fecCorrectedBits']],
  [abi.OPTIFIBER_ABSENT_FEC_UNCORRECTABLE, ['fecUncorrectableBlocks']],
  [abi.OPTIFIBER_ABSENT_LOS_EVENTS, ['losEvents']],
  [abi.OPTIFIBER_ABSENT_PRE_FEC_BER, ['preFecBer']],
  [abi.OPTIFIBER_ABSENT_POST_FEC_BER, ['postFecBer']],
  [abi.OPTIFIBER_ABSENT_OSNR, ['osnrDb']],
  [abi.OPTIFIBER_ABSENT_Q_FACTOR, ['qFactorDb']],
  [abi.OPTIFIBER_ABSENT_RX_POWER, ['rxPowerDbm']],
  [abi.OPTIFIBER_ABSENT_TX_POWER, ['txPowerDbm']],
  [abi.OPTIFIBER_ABSENT_CD, ['chromaticDispersionPsNm']],
  [abi.OPTIFIBER_ABSENT_LASER_BIAS, ['laserBiasAmperes']],
  [abi.OPTIFIBER_ABSENT_TEMPERATURE, ['temperatureCelsius']],
  [abi.OPTIFIBER_ABSENT_FAULT, ['faultStartSimS', 'faultEndSimS', 'faultsTotal']],
];

/** Off the hot path: only pages whose writer lacks fields (a replay, a NIC) come here. */
function markAbsent(sample: SiteSample, absent: number): void {
  const out = sample as unknown as Record<string, number>;
  for (const [bit, keys] of ABSENT_FIELDS) if (absent & bit) for (const k of keys) out[k] = NaN;
}
