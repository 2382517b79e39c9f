// PageReader against real page files in a temp dir (written with the layout
// table through page-encoder, never with literal offsets).
import { mkdtempSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIR_OFFSET, OPTIFIBER_ABI_MINOR, OPTIFIBER_DIR_F_SIMULATED, OPTIFIBER_MAX_SITES, OPTIFIBER_PAGE_SIZE, SITE_OFFSET, sitePageOffset } from '../src/abi/layout.js';
import { buildPages, publishSample, type RawSite } from '../src/abi/page-encoder.js';
import { AbiMismatchError, SourceUnavailableError, SyscallError } from '../src/source/errors.js';
import { closeFd, mapShared, openReadOnly } from '../src/source/libc.js';
import { PageReader } from '../src/source/page-reader.js';
import type { SiteSample } from '../src/source/types.js';

let dir: string;
let seqNo = 0;
const readers: PageReader[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'page-reader-'));
});
afterEach(() => {
  for (const reader of readers.splice(0)) reader.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freshPath(): string {
  return join(dir, `myinfo-${++seqNo}`);
}

function open(path: string, options: Parameters<typeof PageReader.open>[1] = {}): PageReader {
  const reader = PageReader.open(path, options);
  readers.push(reader);
  return reader;
}

/** Writes like the simulator: temp file + rename, so every write is a new inode. */
function publish(path: string, image: Uint8Array): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, image);
  renameSync(temp, path);
}

/** Overwrites `value` (u32) in place at `offset`, as a live writer would. */
function pokeU32(path: string, offset: number, value: number): void {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, buffer, 0, 4, offset);
  } finally {
    closeSync(fd);
  }
}

function mappingsOf(path: string): string[] {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter((line) => line.includes(path));
}

function expectAbiMismatch(action: () => unknown, field: string, found: number | string, expected: number | string): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AbiMismatchError);
  const error = caught as AbiMismatchError;
  expect({ field: error.field, found: error.found, expected: error.expected }).toEqual({ field, found, expected });
  expect(error.message).toContain(field);
}

function expectUnavailable(reader: PageReader, reasonPart: string): void {
  let caught: unknown;
  try {
    reader.snapshot();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SourceUnavailableError);
  expect((caught as SourceUnavailableError).reason).toContain(reasonPart);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const knownSite: RawSite = {
  name: 'ams-fra-01',
  sample_seq: 1234,
  update_time_ns: 1_750_000_000_123_000_000n,
  sim_time_s: 86_400,
  throughput_bps: 387_500_000_000,
  offered_bps: 412_000_000_000,
  capacity_bps: 400_000_000_000,
  module_capacity_bps: 100_000_000_000,
  cmd_modules: 4,
  cmd_modules_max: 8,
  link_state: 2,
  bytes: 2 ** 53 - 1, // the largest exact counter
  crc_errors: 5_000_000_000, // above 2^32
  fec_corrected_bits: 77,
  fec_uncorrectable_blocks: 3,
  los_events: 2,
  pre_fec_ber_e18: 2_500_000_000_000n, // 2.5e-6
  post_fec_ber_e18: 1_000, // 1e-15
  osnr_cdb: 1850, // 18.50 dB
  q_factor_cdb: -125, // -1.25 dB
  rx_power_cdbm: -1234, // -12.34 dBm
  tx_power_cdbm: 150, // 1.50 dBm
  chromatic_dispersion_ps_nm: -40,
  laser_bias_ua: 45_250, // 0.04525 A
  temperature_mc: -5_125, // -5.125 degC
  fault: 3,
  fault_start_sim_s: 86_000,
  fault_end_sim_s: 90_000,
  faults_total: 9,
};

describe('decoding', () => {
  test('every field of a known page, in domain units', () => {
    const path = freshPath();
    publish(path, buildPages(
      { flags: 1 | OPTIFIBER_DIR_F_SIMULATED, tick: 1234, tick_interval_ms: 60_000, time_scale: 60, generation: 2n ** 63n + 5n, seed: 42n, sim_time_s: 86_400, host: 'kernel' },
      [{}, knownSite],
    ));
    const snapshot = open(path).snapshot();

    expect(snapshot.dir).toEqual({
      abiMajor: 1, abiMinor: OPTIFIBER_ABI_MINOR, pageSize: OPTIFIBER_PAGE_SIZE, siteCount: 2,
      tickIntervalMs: 60_000, timeScale: 60, live: true, simulated: true, replay: false,
      generation: 2n ** 63n + 5n, tick: 1234, updateTimeMs: expect.any(Number) as number,
      simTimeS: 86_400, seed: 42n, host: 'kernel',
    });
    expect(snapshot.invalid).toEqual([]);
    expect(snapshot.consistent).toBe(true);
    expect(snapshot.retries).toBe(0);
    expect(snapshot.sites.map((s) => s.index)).toEqual([0, 1]);
    expect(snapshot.sites[0]?.name).toBe('site-0');
    const expected: SiteSample = {
      index: 1,
      name: 'ams-fra-01',
      sampleSeq: 1234,
      updateTimeMs: 1_750_000_000_123,
      simTimeS: 86_400,
      throughputBps: 387_500_000_000,
      offeredBps: 412_000_000_000,
      capacityBps: 400_000_000_000,
      moduleCapacityBps: 100_000_000_000,
      cmdModules: 4,
      cmdModulesMax: 8,
      linkState: 'degraded',
      bytes: 2 ** 53 - 1,
      crcErrors: 5_000_000_000,
      fecCorrectedBits: 77,
      fecUncorrectableBlocks: 3,
      losEvents: 2,
      preFecBer: 2.5e-6,
      postFecBer: 1e-15,
      osnrDb: 18.5,
      qFactorDb: -1.25,
      rxPowerDbm: -12.34,
      txPowerDbm: 1.5,
      chromaticDispersionPsNm: -40,
      laserBiasAmperes: 0.04525,
      temperatureCelsius: -5.125,
      fault: 'ber_creep',
      faultStartSimS: 86_000,
      faultEndSimS: 90_000,
      faultsTotal: 9,
      absent: 0,
    };
    expect(snapshot.sites[1]).toEqual(expected);
  });

  test('unknown link state and fault values decode as "unknown"', () => {
    const path = freshPath();
    publish(path, buildPages({}, [{ link_state: 9, fault: 7 }, { link_state: 1, fault: 6 }]));
    const [unknown, known] = open(path).snapshot().sites;
    expect([unknown?.linkState, unknown?.fault]).toEqual(['unknown', 'unknown']);
    expect([known?.linkState, known?.fault]).toEqual(['up', 'traffic_surge']);
  });

  test('in-place writes are visible without reopening (shared mapping)', () => {
    const path = freshPath();
    publish(path, buildPages({}, [{ osnr_cdb: 1000 }]));
    const reader = open(path);
    expect(reader.snapshot().sites[0]?.osnrDb).toBe(10);
    pokeU32(path, sitePageOffset(0) + SITE_OFFSET.osnr_cdb, 2222);
    expect(reader.snapshot().sites[0]?.osnrDb).toBe(22.22);
  });
});

describe('the recent ring (ABI minor 2)', () => {
  /** A writer at work on one file: samples published in place, as the C writer does. */
  function writer(path: string) {
    const image = buildPages({}, [{ sample_seq: 1, osnr_cdb: 2000, sim_time_s: 1 }]);
    publishSample(image, 0, { sample_seq: 1 });
    publish(path, image);
    let seq = 1;
    return {
      /** Publishes `n` samples; sample k has OSNR 20 dB + k/100 and sim time k. */
      advance(n: number): void {
        for (let i = 0; i < n; i++) {
          seq++;
          publishSample(image, 0, { sample_seq: seq, osnr_cdb: 2000 + seq, sim_time_s: seq });
        }
        writeFileSync(path, image, { flag: 'r+' }); // same inode: the reader keeps its mapping
      },
      setDirSeq(v: number): void {
        pokeU32(path, DIR_OFFSET.seq, v);
      },
    };
  }
  const seqs = (s: SiteSample | undefined) => (s?.earlier ?? []).map((e) => e.sampleSeq);

  test('the samples published between two snapshots come back, oldest first, with their values', () => {
    const path = freshPath();
    const w = writer(path);
    const reader = open(path);
    expect(reader.snapshot().sites[0]?.earlier).toBeUndefined(); // first sight: nothing before it
    w.advance(5);
    const site = reader.snapshot().sites[0];
    expect(site?.sampleSeq).toBe(6);
    expect(seqs(site)).toEqual([2, 3, 4, 5]);
    expect(site?.earlier?.map((e) => [e.osnrDb, e.simTimeS, e.name])).toEqual([2, 3, 4, 5].map((k) => [20 + k / 100, k, 'site-0']));
    expect(reader.snapshot().sites[0]?.earlier).toBeUndefined(); // read once
  });

  test('a reader more than 16 samples behind gets the 15 the ring still holds', () => {
    const path = freshPath();
    const w = writer(path);
    const reader = open(path);
    reader.snapshot();
    w.advance(40);
    expect(seqs(reader.snapshot().sites[0])).toEqual(Array.from({ length: 15 }, (_, i) => 26 + i));
  });

  test('an inconsistent snapshot does not move the read position; a writer without a ring gives nothing', () => {
    const path = freshPath();
    const w = writer(path);
    const reader = open(path);
    reader.snapshot();
    w.advance(3);
    w.setDirSeq(1); // a tick in progress, as far as the reader can tell
    const torn = reader.snapshot();
    expect(torn.consistent).toBe(false);
    expect(seqs(torn.sites[0])).toEqual([2, 3]);
    w.setDirSeq(2);
    expect(seqs(reader.snapshot().sites[0])).toEqual([2, 3]);

    // ABI minor 1: the ring is reserved space, zero; sample_seq jumps with no entries
    const old = freshPath();
    publish(old, buildPages({ abi_minor: 1 }, [{ abi_minor: 1, sample_seq: 1 }]));
    const r1 = open(old);
    r1.snapshot();
    writeFileSync(old, buildPages({ abi_minor: 1 }, [{ abi_minor: 1, sample_seq: 9 }]), { flag: 'r+' });
    const jumped = r1.snapshot().sites[0];
    expect([jumped?.sampleSeq, jumped?.earlier]).toEqual([9, undefined]);
  });
});

describe('validation', () => {
  test('bad directory magic', () => {
    const path = freshPath();
    publish(path, buildPages({ magic: 0x12345678 }, [{}]));
    expectAbiMismatch(() => open(path), 'magic', 0x12345678, 0x5242464f);
  });

  test('wrong ABI major names abi_major', () => {
    const path = freshPath();
    publish(path, buildPages({ abi_major: 2 }, [{}]));
    expectAbiMismatch(() => open(path), 'abi_major', 2, 1);
  });

  test('a newer ABI minor is accepted', () => {
    const path = freshPath();
    publish(path, buildPages({ abi_minor: 7 }, [{ abi_minor: 7 }]));
    expect(open(path).snapshot().dir.abiMinor).toBe(7);
  });

  test('wrong page size', () => {
    const path = freshPath();
    publish(path, buildPages({ page_size: 8192 }, [{}]));
    expectAbiMismatch(() => open(path), 'page_size', 8192, OPTIFIBER_PAGE_SIZE);
  });

  test('site_count larger than the file', () => {
    const path = freshPath();
    publish(path, buildPages({ site_count: 5 }, [{}, {}]));
    expectAbiMismatch(() => open(path), 'file size', 3 * OPTIFIBER_PAGE_SIZE, `>= ${6 * OPTIFIBER_PAGE_SIZE} for site_count 5`);
  });

  test('file shorter than the directory page', () => {
    const path = freshPath();
    publish(path, buildPages({}, []).subarray(0, 100));
    expectAbiMismatch(() => open(path), 'file size', 100, `>= ${OPTIFIBER_PAGE_SIZE} (one directory page)`);
  });

  test('site_count above OPTIFIBER_MAX_SITES', () => {
    const path = freshPath();
    publish(path, buildPages({ site_count: OPTIFIBER_MAX_SITES + 1 }, [{}]));
    expectAbiMismatch(() => open(path), 'site_count', OPTIFIBER_MAX_SITES + 1, `<= ${OPTIFIBER_MAX_SITES} (OPTIFIBER_MAX_SITES)`);
  });

  test('missing path: SourceUnavailableError, or a detached reader when lazy', () => {
    const path = freshPath();
    expect(() => open(path)).toThrow(SourceUnavailableError);
    const reader = open(path, { lazy: true, pathCheckIntervalMs: 0 });
    expect(reader.attached).toBe(false);
    expectUnavailable(reader, 'no such file');
    const throttled = open(path, { lazy: true }); // retries attaching once per second, same reason meanwhile
    expectUnavailable(throttled, 'no such file');
    publish(path, buildPages({}, [{}]));
    expect(reader.snapshot().sites).toHaveLength(1);
    expect(reader.attached).toBe(true);
  });

  test('corrupt site pages go to invalid, the others are unaffected', () => {
    const path = freshPath();
    publish(path, buildPages({}, [
      { osnr_cdb: 100 },
      { magic: 0 },
      { abi_major: 3 },
      { site_index: 7 },
      { flags: 0 },
      { osnr_cdb: 500 },
    ]));
    const snapshot = open(path).snapshot();
    expect(snapshot.sites.map((s) => [s.index, s.osnrDb])).toEqual([[0, 1], [5, 5]]);
    expect(snapshot.invalid).toEqual([
      { index: 1, reason: 'bad magic 0x00000000 (expected 0x5453464f)' },
      { index: 2, reason: 'abi_major 3 (expected 1)' },
      { index: 3, reason: 'site_index 7 (expected 3)' },
      { index: 4, reason: 'no sample yet' },
    ]);
  });

  test('a page whose seq stays odd is reported torn', () => {
    const path = freshPath();
    publish(path, buildPages({}, [{ seq: 3 }, { seq: 4 }]));
    const snapshot = open(path, { maxRetries: 5 }).snapshot();
    expect(snapshot.invalid).toEqual([{ index: 0, reason: 'torn' }]);
    expect(snapshot.sites.map((s) => s.index)).toEqual([1]);
    expect(snapshot.retries).toBe(5);
  });

  test('a directory seq that stays odd gives consistent: false after bounded retries', () => {
    const path = freshPath();
    publish(path, buildPages({ seq: 1 }, [{}, {}]));
    const snapshot = open(path, { maxSnapshotRetries: 2 }).snapshot();
    expect(snapshot.consistent).toBe(false);
    expect(snapshot.sites).toHaveLength(2);
    expect(snapshot.retries).toBe(2 * 3); // two whole re-reads of dir + 2 sites
  });
});

describe('source lifecycle', () => {
  test('file deleted → SourceUnavailableError → recreated → reattached', async () => {
    const path = freshPath();
    publish(path, buildPages({ tick: 1 }, [{}]));
    const reader = open(path, { pathCheckIntervalMs: 20 });
    expect(reader.snapshot().dir.tick).toBe(1);
    unlinkSync(path);
    await sleep(30);
    expectUnavailable(reader, 'path gone (ENOENT)');
    expect(reader.attached).toBe(false);
    expect(mappingsOf(path)).toEqual([]); // the old mapping is gone
    await sleep(30);
    expectUnavailable(reader, 'no such file');
    publish(path, buildPages({ tick: 2 }, [{}, {}]));
    await sleep(30);
    const snapshot = reader.snapshot();
    expect([snapshot.dir.tick, snapshot.sites.length, reader.siteCount]).toEqual([2, 2, 2]);
  });

  test('the path is checked at most once per pathCheckIntervalMs', async () => {
    const path = freshPath();
    publish(path, buildPages({}, [{}]));
    const reader = open(path, { pathCheckIntervalMs: 200 });
    unlinkSync(path);
    expect(() => reader.snapshot()).not.toThrow(); // within the interval: no stat yet
    await sleep(220);
    expectUnavailable(reader, 'path gone');
  });

  test('file replaced by rename (new inode) → new mapping, old one unmapped', async () => {
    const path = freshPath();
    publish(path, buildPages({ tick: 1 }, [{ osnr_cdb: 100 }]));
    const reader = open(path, { pathCheckIntervalMs: 20 });
    expect(reader.snapshot().sites[0]?.osnrDb).toBe(1);
    publish(path, buildPages({ tick: 2 }, [{ osnr_cdb: 200 }, { osnr_cdb: 300 }]));
    // Until the next path check the old inode is still what we read.
    expect(mappingsOf(path)).toEqual([expect.stringContaining('(deleted)')]);
    await sleep(30);
    const snapshot = reader.snapshot();
    expect(snapshot.sites.map((s) => s.osnrDb)).toEqual([2, 3]);
    const maps = mappingsOf(path);
    expect(maps).toHaveLength(1);
    expect(maps[0]).not.toContain('(deleted)');
  });

  test('LIVE flag cleared → unavailable; set again → available', () => {
    const path = freshPath();
    publish(path, buildPages({}, [{}]));
    const reader = open(path);
    expect(reader.snapshot().dir.live).toBe(true);
    pokeU32(path, DIR_OFFSET.flags, 0);
    expectUnavailable(reader, 'LIVE flag clear');
    pokeU32(path, DIR_OFFSET.flags, 1);
    expect(reader.snapshot().dir.live).toBe(true);
  });

  test('a LIVE directory whose update_time stopped for > 5 ticks is stale', () => {
    const path = freshPath();
    publish(path, buildPages({ tick_interval_ms: 1000, update_time_ns: BigInt(Date.now() - 6000) * 1_000_000n }, [{}]));
    const reader = open(path);
    expectUnavailable(reader, 'stale');
    // The writer moves again: available at once.
    const now = BigInt(Date.now()) * 1_000_000n;
    pokeU32(path, DIR_OFFSET.update_time_ns, Number(now & 0xffffffffn));
    pokeU32(path, DIR_OFFSET.update_time_ns + 4, Number(now >> 32n));
    expect(reader.snapshot().dir.live).toBe(true);
  });

  test('4 ticks without an update is not yet stale', () => {
    const path = freshPath();
    publish(path, buildPages({ tick_interval_ms: 1000, update_time_ns: BigInt(Date.now() - 4000) * 1_000_000n }, [{}]));
    expect(() => open(path).snapshot()).not.toThrow();
  });

  test('close() unmaps and later snapshots fail', () => {
    const path = freshPath();
    publish(path, buildPages({}, [{}]));
    const reader = PageReader.open(path);
    expect(mappingsOf(path)).toHaveLength(1);
    reader.close();
    expect(mappingsOf(path)).toEqual([]);
    expect(reader.attached).toBe(false);
    expect(() => reader.snapshot()).toThrow(/closed/);
  });

  test('open errors name the syscall, the path and the errno', () => {
    const path = join(freshPath(), 'below-a-file');
    writeFileSync(join(path, '..'), 'x');
    expect(() => open(path)).toThrow(`open ${path}: ENOTDIR`);
  });

  test('mmap errors name the syscall, the path and the errno', () => {
    // A directory opens O_RDONLY but cannot be mapped.
    const fd = openReadOnly(dir);
    try {
      expect(() => mapShared(fd, OPTIFIBER_PAGE_SIZE, dir)).toThrow(new SyscallError('mmap', dir, 19, 'ENODEV'));
      expect(() => mapShared(fd, OPTIFIBER_PAGE_SIZE, dir)).toThrow(`mmap ${dir}: ENODEV`);
    } finally {
      closeFd(fd, dir);
    }
  });
});
