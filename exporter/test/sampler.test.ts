import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sampler, type SnapshotSource } from '../src/sampler/sampler.js';
import { HistoryStore, HISTORY_BYTES_PER_ENTRY } from '../src/sampler/history.js';
import type { Snapshot } from '../src/source/types.js';
import type { Tick } from '../src/sampler/types.js';
import { makeSample, makeSnapshot } from './helpers/samples.js';

// A real path, as the sampler would be given.
const dir = mkdtempSync(join(tmpdir(), 'optifiber-sampler-test-'));
const path = join(dir, 'myinfo');
writeFileSync(path, 'x');

/** A source whose next snapshot the test sets. */
class Script implements SnapshotSource {
  next: Snapshot | Error = makeSnapshot([]);
  opened = 0;
  closed = 0;
  snapshot(): Snapshot {
    if (this.next instanceof Error) throw this.next;
    return this.next;
  }
  close(): void {
    this.closed++;
  }
}

function sampler(src: Script, over: Partial<ConstructorParameters<typeof Sampler>[0]> = {}): Sampler {
  return new Sampler({
    kind: 'file',
    path,
    open: () => {
      src.opened++;
      return src;
    },
    intervalMs: 1000,
    ...over,
  });
}

describe('sampler: rates from counters', () => {
  test('first sample has no rates; then per simulated second', async () => {
    const src = new Script();
    const s = sampler(src);
    src.next = makeSnapshot([makeSample(0, { sampleSeq: 1, simTimeS: 100, bytes: 1000, crcErrors: 5 })]);
    const t1 = await s.tick();
    expect(t1.sites[0]!.rates).toBeNull();
    expect(t1.source.up).toBe(true);
    src.next = makeSnapshot([makeSample(0, { sampleSeq: 2, simTimeS: 104, bytes: 5000, crcErrors: 9, fecCorrectedBits: 100, fecUncorrectableBlocks: 1, losEvents: 2 })]);
    const t2 = await s.tick();
    expect(t2.sites[0]!.rates).toEqual({
      bytesPerSecond: 1000,
      crcErrorsPerSecond: 1,
      fecCorrectedBitsPerSecond: 0,
      fecUncorrectableBlocksPerSecond: 0,
      losEventsPerSecond: 0.5,
    });
    expect(t2.seq).toBe(2);
    // Same sample again (writer slower than the sampler): same rates, not zero.
    const t3 = await s.tick();
    expect(t3.sites[0]!.rates).toEqual(t2.sites[0]!.rates);
  });

  test('counter reset (decrease) and new generation give null rates, then resume', async () => {
    const src = new Script();
    const s = sampler(src);
    src.next = makeSnapshot([makeSample(0, { sampleSeq: 10, simTimeS: 100, bytes: 1000 })]);
    await s.tick();
    src.next = makeSnapshot([makeSample(0, { sampleSeq: 11, simTimeS: 101, bytes: 10 })]);
    expect((await s.tick()).sites[0]!.rates).toBeNull();
    src.next = makeSnapshot([makeSample(0, { sampleSeq: 12, simTimeS: 102, bytes: 20 })]);
    expect((await s.tick()).sites[0]!.rates!.bytesPerSecond).toBe(10);
    src.next = makeSnapshot([makeSample(0, { sampleSeq: 1, simTimeS: 1, bytes: 30 })], {}, { generation: 2n });
    expect((await s.tick()).sites[0]!.rates).toBeNull();
  });

  test('utilization is throughput/capacity, 0 without capacity', async () => {
    const src = new Script();
    const s = sampler(src);
    src.next = makeSnapshot([makeSample(0, { throughputBps: 25e9, capacityBps: 100e9 }), makeSample(1, { capacityBps: 0 })]);
    const t = await s.tick();
    expect(t.sites.map((x) => x.utilization)).toEqual([0.25, 0]);
  });

  test('inconsistent snapshots are taken again and counted', async () => {
    const src = new Script();
    const s = sampler(src);
    src.next = makeSnapshot([makeSample(0)], { consistent: false, retries: 2 });
    await s.tick();
    expect(s.stats.readRetriesTotal).toBe(2); // 3 attempts
    expect(s.stats.tornReadsTotal).toBe(6);
  });
});

describe('sampler: samples published between ticks (the recent ring)', () => {
  test('each ring sample gets its own rates, in order; the rate of the page sample is from the last of them', async () => {
    const src = new Script();
    const s = sampler(src);
    src.next = makeSnapshot([makeSample(0, { sampleSeq: 1, simTimeS: 100, crcErrors: 0 })]);
    await s.tick();
    const e2 = makeSample(0, { sampleSeq: 2, simTimeS: 101, crcErrors: 50 }); // a burst the page no longer shows
    const e3 = makeSample(0, { sampleSeq: 3, simTimeS: 102, crcErrors: 50 });
    src.next = makeSnapshot([makeSample(0, { sampleSeq: 4, simTimeS: 103, crcErrors: 51, earlier: [e2, e3] })]);
    const t = await s.tick();
    const site = t.sites[0]!;
    expect(site.earlier?.map((e) => [e.sample.sampleSeq, e.rates?.crcErrorsPerSecond])).toEqual([
      [2, 50],
      [3, 0],
    ]);
    expect(site.rates?.crcErrorsPerSecond).toBe(1);
    expect([s.stats.ringSamplesTotal, s.stats.lostSamplesTotal]).toEqual([2, 0]);
  });

  test('samples already seen are not stepped again; a gap the ring does not cover is counted lost', async () => {
    const src = new Script();
    const s = sampler(src);
    src.next = makeSnapshot([makeSample(0, { sampleSeq: 10, simTimeS: 10, bytes: 100 })]);
    await s.tick();
    // delivered again (an inconsistent snapshot the reader did not commit): 9 and 10 are old
    const again = [9, 10, 11].map((q) => makeSample(0, { sampleSeq: q, simTimeS: q, bytes: q * 10 }));
    src.next = makeSnapshot([makeSample(0, { sampleSeq: 12, simTimeS: 12, bytes: 120, earlier: again })]);
    expect((await s.tick()).sites[0]!.earlier?.map((e) => e.sample.sampleSeq)).toEqual([11]);
    // 13..29 published, the ring held 25..29 only: 12 lost
    const tail = [25, 26, 27, 28, 29].map((q) => makeSample(0, { sampleSeq: q, simTimeS: q, bytes: q * 10 }));
    src.next = makeSnapshot([makeSample(0, { sampleSeq: 30, simTimeS: 30, bytes: 300, earlier: tail })]);
    const t = await s.tick();
    expect(t.sites[0]!.earlier?.[0]?.rates).toBeTruthy(); // 25 against 12: a rate over the gap, not none
    expect([s.stats.ringSamplesTotal, s.stats.lostSamplesTotal]).toEqual([6, 12]);
  });
});

describe('sampler: source gone and back', () => {
  // Noticing a stale, detached or replaced file is the page reader's job
  // (page-reader.test.ts: 'LIVE flag cleared', 'stale', 'file replaced by
  // rename'); the sampler reports its reason and keeps the reader.
  test('up=false with the reason, keeps ticking, up again when the source is', async () => {
    const src = new Script();
    const s = sampler(src);
    src.next = makeSnapshot([makeSample(0)]);
    expect((await s.tick()).source.up).toBe(true);
    src.next = new Error('source unavailable: writer detached');
    const down = await s.tick();
    expect(down.source).toMatchObject({ up: false, error: 'source unavailable: writer detached' });
    expect(down.sites).toEqual([]);
    expect(s.latest()).toBe(down);
    src.next = makeSnapshot([makeSample(0)]);
    const back = await s.tick();
    expect(back.source.up).toBe(true);
    expect(src.opened).toBe(1);
    expect(src.closed).toBe(0);
  });

  test('the supervisor can declare the source dead', async () => {
    const src = new Script();
    let dead: string | undefined = 'simulator not running';
    const s = sampler(src, { deadReason: () => dead });
    src.next = makeSnapshot([makeSample(0)]);
    expect((await s.tick()).source).toMatchObject({ up: false, error: 'simulator not running' });
    dead = undefined;
    expect((await s.tick()).source.up).toBe(true);
  });
});

describe('sampler: stages and events', () => {
  test('stages run before publication; a failing stage is counted, the tick still published', async () => {
    const src = new Script();
    const s = sampler(src);
    src.next = makeSnapshot([makeSample(0)]);
    s.addStage((t) => {
      t.sites[0]!.inference.anomalyScore = 0.9;
    });
    s.addStage(() => {
      throw new Error('model broke');
    });
    const seen: Tick[] = [];
    const off = s.onTick((t) => seen.push(t));
    const t = await s.tick();
    expect(seen).toEqual([t]);
    expect(t.sites[0]!.inference.anomalyScore).toBe(0.9);
    expect(s.stats.stageErrorsTotal).toBe(1);
    off();
    await s.tick();
    expect(seen).toHaveLength(1);
  });

  test('the loop ticks at the interval and stops', async () => {
    const src = new Script();
    const s = sampler(src, { intervalMs: 100 });
    src.next = makeSnapshot([makeSample(0)]);
    let n = 0;
    s.onTick(() => n++);
    s.start();
    await new Promise((r) => setTimeout(r, 550));
    await s.stop();
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(7);
    const after = n;
    await new Promise((r) => setTimeout(r, 250));
    expect(n).toBe(after);
    expect(() => sampler(src, { intervalMs: 50 })).toThrow(/at least 100 ms/);
  });

  test('sites that disappear are dropped from ticks and history', async () => {
    const src = new Script();
    const s = sampler(src);
    src.next = makeSnapshot([makeSample(0), makeSample(1)]);
    const t1 = await s.tick();
    src.next = makeSnapshot([makeSample(0)]);
    const t2 = await s.tick();
    expect(t2.sites.map((x) => x.sample.name)).toEqual(['site-0']);
    expect(s.history('site-1', 0, Infinity, 0)).toBeUndefined();
    expect(s.history('site-0', 0, Infinity, 0)!.map((p) => p.seq)).toEqual([t1.seq, t2.seq]);
  });
});

describe('history ring', () => {
  test('bounded by history/interval; keeps the newest; round-trips the state', async () => {
    const src = new Script();
    const s = sampler(src, { intervalMs: 100, historyMs: 1000 }); // 10 entries
    for (let i = 1; i <= 25; i++) {
      src.next = makeSnapshot([makeSample(0, { sampleSeq: i, simTimeS: 1000 + i, bytes: 1000 * i, osnrDb: 20 + i / 4 })], { takenAtMs: 1_000_000 + i * 100 });
      await s.tick();
    }
    const h = s.history('site-0', 0, Infinity, 0)!;
    expect(h.map((p) => p.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    const last = h[9]!;
    expect(last.takenAtMs).toBe(1_000_000 + 2500);
    expect(last.state.sample).toMatchObject({ name: 'site-0', sampleSeq: 25, bytes: 25_000, osnrDb: 26.25, linkState: 'up', fault: 'none' });
    expect(last.state.rates!.bytesPerSecond).toBe(1000);
    // time range and step (last sample of each 300 ms bucket)
    const r = s.history('site-0', 1_000_000 + 1700, 1_000_000 + 2300, 300)!;
    expect(r.map((p) => p.seq)).toEqual([19, 22, 23]);
  });

  test('absent fields come back absent (NaN), also from the u32 columns', () => {
    const h = new HistoryStore();
    h.resize(2, 4);
    // a NIC's page: no CMD modules, no fault ground truth, no OSNR; the other site has them all
    const nic = makeSample(0, { cmdModules: NaN, cmdModulesMax: NaN, faultStartSimS: NaN, faultEndSimS: NaN, faultsTotal: NaN, osnrDb: NaN });
    h.beginRow(1, 1000);
    h.put({ sample: nic, rates: null, utilization: NaN, inference: {} });
    h.put({ sample: makeSample(1, { cmdModules: 0, faultsTotal: 0 }), rates: null, utilization: 0.5, inference: {} });
    h.endRow();
    const got = h.query('site-0', 0, Infinity)![0]!.state.sample;
    for (const k of ['cmdModules', 'cmdModulesMax', 'faultStartSimS', 'faultEndSimS', 'faultsTotal', 'osnrDb'] as const) expect(got[k]).toBeNaN();
    expect(got.bytes).toBe(nic.bytes);
    // a real 0 stays 0
    expect(h.query('site-1', 0, Infinity)![0]!.state.sample).toMatchObject({ cmdModules: 0, faultsTotal: 0 });
  });

  test('the byte budget shortens the history and is respected', async () => {
    const src = new Script();
    const budget = 20 * 4 * HISTORY_BYTES_PER_ENTRY; // 4 sites x 20 entries
    const s = sampler(src, { intervalMs: 100, historyMs: 3_600_000, historyMaxBytes: budget });
    for (let i = 1; i <= 50; i++) {
      src.next = makeSnapshot([0, 1, 2, 3].map((k) => makeSample(k, { sampleSeq: i })));
      await s.tick();
    }
    // 4 sites get 5 slots (room for one more without reallocating), 12 bytes per row shared
    const cap = Math.floor(budget / (5 * HISTORY_BYTES_PER_ENTRY + 12));
    expect(cap).toBe(15);
    expect(s.historyCapacity()).toBe(cap);
    expect(s.history('site-3', 0, Infinity, 0)).toHaveLength(cap);
    expect(s.stats.historyBytes).toBeLessThanOrEqual(budget);
  });

  test('store: wraps, resizes keeping the newest, reuses slots of vanished sites without leaking their history', () => {
    const h = new HistoryStore();
    h.resize(2, 200);
    expect(h.bytes).toBe(2 * 200 * HISTORY_BYTES_PER_ENTRY + 200 * 12);
    const st = (i: number) => ({ sample: makeSample(i), rates: null, utilization: 0.5, inference: {} });
    for (let i = 1; i <= 500; i++) {
      h.beginRow(i, i);
      h.put(st(0));
      if (i % 2 === 0) h.put(st(1));
      h.endRow();
    }
    expect(h.length).toBe(200);
    const q = h.query('site-0', 0, Infinity)!;
    expect(q).toHaveLength(200);
    expect(q[0]!.seq).toBe(301);
    expect(q[199]!.seq).toBe(500);
    expect(h.query('site-1', 0, Infinity)!.map((e) => e.seq).slice(0, 3)).toEqual([302, 304, 306]);
    h.resize(3, 50);
    expect(h.query('site-0', 0, Infinity)!.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 451 + i));
    // site-1 vanishes, site-9 takes its slot: none of site-1's entries show up as site-9's
    h.retain(new Set(['site-0']));
    h.beginRow(501, 501);
    h.put(st(0));
    h.put(st(9));
    h.endRow();
    expect(h.query('site-9', 0, Infinity)!.map((e) => e.seq)).toEqual([501]);
    expect(h.query('site-1', 0, Infinity)).toBeUndefined();
  });
});
