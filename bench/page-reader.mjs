// Benchmark of PageReader.snapshot() against the physical floor (a plain copy
// of the mapped bytes) and the procfs way (read() a text rendering and parse
// it, as node_exporter parses /proc). Run after `npx tsc -b exporter`:
//
//   node bench/page-reader.mjs            (writes bench/results/page-reader.json)
//
// Bounded in time: each configuration runs RUNS timed runs of about RUN_MS.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPTIFIBER_PAGE_SIZE, SITE_FIELDS, mappingLength } from '../exporter/dist/abi/layout.js';
import { buildPages } from '../exporter/dist/abi/page-encoder.js';
import { closeFd, mapShared, openReadOnly, unmap } from '../exporter/dist/source/libc.js';
import { PageReader } from '../exporter/dist/source/page-reader.js';
import { FAULT_KINDS } from '../exporter/dist/source/types.js';

const SITE_COUNTS = [4, 1000, 10000];
const RUNS = 15;
const RUN_MS = 60;
const TARGET_NS_PER_SITE = 1000;
const TARGET_COPY_RATIO = 10;
// Bytes of a site page that carry its latest sample: what a snapshot must
// read. The recent ring behind them (ABI minor 2) is read only for the
// samples a slow reader missed, none here; the rest is __reserved.
const SITE_USED_BYTES = SITE_FIELDS.find((f) => f.name === 'recent').offset;

const here = fileURLToPath(new URL('.', import.meta.url));
const workDir = mkdtempSync(join(os.tmpdir(), 'bench-page-reader-'));

function siteValues(i) {
  return {
    name: `dci-${String(i).padStart(5, '0')}`,
    sample_seq: 1000 + i,
    update_time_ns: BigInt(Date.now()) * 1_000_000n,
    sim_time_s: 3600,
    throughput_bps: 250_000_000_000 + i * 1000,
    offered_bps: 260_000_000_000 + i,
    capacity_bps: 400_000_000_000,
    module_capacity_bps: 100_000_000_000,
    cmd_modules: 4,
    cmd_modules_max: 8,
    link_state: i % 3,
    bytes: 123_456_789_012 + i,
    crc_errors: i * 3,
    fec_corrected_bits: 9_876_543_210 + i,
    fec_uncorrectable_blocks: i % 5,
    los_events: i % 2,
    pre_fec_ber_e18: 1_200_000_000_000n,
    post_fec_ber_e18: 0,
    osnr_cdb: 1800 + (i % 300),
    q_factor_cdb: 900,
    rx_power_cdbm: -800 - (i % 100),
    tx_power_cdbm: 100,
    chromatic_dispersion_ps_nm: -20,
    laser_bias_ua: 45_000,
    temperature_mc: 41_250,
    fault: i % 7,
    fault_start_sim_s: 0,
    fault_end_sim_s: 0,
    faults_total: i % 4,
  };
}

// One line per site, like /proc/net/dev: "name: v1 v2 ... v28".
const TEXT_FIELDS = Object.keys(siteValues(0)).filter((k) => k !== 'name');
function renderProcText(count) {
  const lines = ['site: ' + TEXT_FIELDS.join(' ')];
  for (let i = 0; i < count; i++) {
    const v = siteValues(i);
    lines.push(`${v.name}: ${TEXT_FIELDS.map((k) => String(v[k])).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

const LINK_STATES = ['down', 'up', 'degraded'];
/** read() + parse into the same SiteSample objects PageReader produces. */
function procSnapshot(path) {
  const text = readFileSync(path, 'latin1');
  const sites = [];
  let lineStart = text.indexOf('\n') + 1;
  let index = 0;
  while (lineStart < text.length) {
    const lineEnd = text.indexOf('\n', lineStart);
    const colon = text.indexOf(':', lineStart);
    const name = text.slice(lineStart, colon);
    const f = text.slice(colon + 2, lineEnd).split(' ').map(Number);
    sites.push({
      index: index++, name, sampleSeq: f[0], updateTimeMs: f[1] / 1e6, simTimeS: f[2],
      throughputBps: f[3], offeredBps: f[4], capacityBps: f[5], moduleCapacityBps: f[6],
      cmdModules: f[7], cmdModulesMax: f[8], linkState: LINK_STATES[f[9]] ?? 'unknown',
      bytes: f[10], crcErrors: f[11], fecCorrectedBits: f[12], fecUncorrectableBlocks: f[13], losEvents: f[14],
      preFecBer: f[15] / 1e18, postFecBer: f[16] / 1e18, osnrDb: f[17] / 100, qFactorDb: f[18] / 100,
      rxPowerDbm: f[19] / 100, txPowerDbm: f[20] / 100, chromaticDispersionPsNm: f[21],
      laserBiasAmperes: f[22] / 1e6, temperatureCelsius: f[23] / 1000,
      fault: FAULT_KINDS[f[24]] ?? 'unknown', faultStartSimS: f[25], faultEndSimS: f[26], faultsTotal: f[27],
    });
    lineStart = lineEnd + 1;
  }
  return sites;
}

/** Per-call milliseconds of `fn` for RUNS runs of about RUN_MS each, after a warm-up. */
function measure(fn) {
  let perRun = 1;
  const warmEnd = performance.now() + RUN_MS;
  while (performance.now() < warmEnd) {
    const t = performance.now();
    for (let i = 0; i < perRun; i++) fn();
    if (performance.now() - t < RUN_MS / 10) perRun *= 2;
  }
  const samples = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    for (let i = 0; i < perRun; i++) fn();
    samples.push((performance.now() - t) / perRun);
  }
  samples.sort((a, b) => a - b);
  const q = (p) => samples[Math.min(samples.length - 1, Math.round(p * (samples.length - 1)))];
  return { p10Ms: q(0.1), medianMs: q(0.5), p90Ms: q(0.9), callsPerRun: perRun, runs: RUNS };
}

const perSite = (m, n) => ({ medianNsPerSite: (m.medianMs * 1e6) / n, p10NsPerSite: (m.p10Ms * 1e6) / n, p90NsPerSite: (m.p90Ms * 1e6) / n });

const started = performance.now();
const results = [];
let sink = 0; // keeps results alive so nothing is optimised away
for (const count of SITE_COUNTS) {
  const pagePath = join(workDir, `myinfo-${count}`);
  const textPath = join(workDir, `myinfo-${count}.txt`);
  writeFileSync(pagePath, buildPages({ tick_interval_ms: 60_000 }, Array.from({ length: count }, (_, i) => siteValues(i))));
  writeFileSync(textPath, renderProcText(count));

  const reader = PageReader.open(pagePath);
  const check = reader.snapshot();
  if (check.sites.length !== count || check.invalid.length !== 0) throw new Error(`bad bench page file for ${count} sites`);
  const snapshot = measure(() => (sink += reader.snapshot().sites.length));

  // The floor: one copy of the same mapped bytes, from a separate mapping of the same file.
  const length = mappingLength(count);
  const fd = openReadOnly(pagePath);
  const mapping = mapShared(fd, length, pagePath);
  closeFd(fd, pagePath);
  const source = new Uint8Array(mapping.buffer);
  const target = new Uint8Array(length);
  const copyAll = measure(() => {
    target.set(source);
    sink += target[length - 1];
  });
  // Only the bytes that carry fields: a 248-byte strided copy per page.
  const usedTarget = new Uint8Array((count + 1) * SITE_USED_BYTES);
  const copyUsed = measure(() => {
    for (let p = 0; p <= count; p++) {
      usedTarget.set(source.subarray(p * OPTIFIBER_PAGE_SIZE, p * OPTIFIBER_PAGE_SIZE + SITE_USED_BYTES), p * SITE_USED_BYTES);
    }
    sink += usedTarget[0];
  });
  unmap(mapping, pagePath);

  const proc = measure(() => (sink += procSnapshot(textPath).length));
  if (procSnapshot(textPath)[count - 1].osnrDb !== check.sites[count - 1].osnrDb) throw new Error('procfs parser disagrees');
  reader.close();

  const snapshotPerSite = perSite(snapshot, count);
  const ratioToCopy = snapshot.medianMs / copyAll.medianMs;
  results.push({
    sites: count,
    mappingBytes: length,
    snapshot: { ...snapshot, ...snapshotPerSite },
    copyFloorWholeMapping: { ...copyAll, ...perSite(copyAll, count), gbPerS: length / (copyAll.medianMs * 1e6) },
    copyUsedBytesOnly: { ...copyUsed, ...perSite(copyUsed, count), bytes: (count + 1) * SITE_USED_BYTES },
    procfsTextReadAndParse: { ...proc, ...perSite(proc, count), textBytes: readFileSync(textPath).length },
    ratios: {
      snapshotOverCopyFloor: ratioToCopy,
      snapshotOverUsedBytesCopy: snapshot.medianMs / copyUsed.medianMs,
      procfsOverSnapshot: proc.medianMs / snapshot.medianMs,
    },
    targets: {
      perSite: { limitNs: TARGET_NS_PER_SITE, measuredNs: snapshotPerSite.medianNsPerSite, pass: snapshotPerSite.medianNsPerSite <= TARGET_NS_PER_SITE },
      withinCopyFloor: { limitRatio: TARGET_COPY_RATIO, measuredRatio: ratioToCopy, pass: ratioToCopy <= TARGET_COPY_RATIO },
    },
  });
}
rmSync(workDir, { recursive: true, force: true });

const cpus = os.cpus();
const report = {
  benchmark: 'page-reader',
  date: new Date().toISOString(),
  node: process.version,
  machine: {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    loadAverageAtEnd: os.loadavg(),
  },
  method: `median/p10/p90 over ${RUNS} timed runs of ~${RUN_MS} ms each after warm-up; copy floor = Uint8Array.set of the whole mapping from a separate mmap of the same file; procfs = readFileSync of a /proc/net/dev-like text rendering + parse into the same objects`,
  durationS: (performance.now() - started) / 1000,
  results,
  pass: results.every((r) => r.targets.perSite.pass && r.targets.withinCopyFloor.pass),
  sink,
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'page-reader.json'), JSON.stringify(report, null, 2) + '\n');

const fmt = (ms) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);
for (const r of results) {
  console.log(
    `${String(r.sites).padStart(5)} sites: snapshot ${fmt(r.snapshot.medianMs)} (p10 ${fmt(r.snapshot.p10Ms)}, p90 ${fmt(r.snapshot.p90Ms)}) = ${r.snapshot.medianNsPerSite.toFixed(0)} ns/site` +
      ` | copy floor ${fmt(r.copyFloorWholeMapping.medianMs)} (x${r.ratios.snapshotOverCopyFloor.toFixed(2)})` +
      ` | used-bytes copy ${fmt(r.copyUsedBytesOnly.medianMs)} (x${r.ratios.snapshotOverUsedBytesCopy.toFixed(2)})` +
      ` | procfs ${fmt(r.procfsTextReadAndParse.medianMs)} (x${r.ratios.procfsOverSnapshot.toFixed(1)} slower)` +
      ` | ${r.targets.perSite.pass && r.targets.withinCopyFloor.pass ? 'PASS' : 'FAIL'}`,
  );
}
console.log(`overall ${report.pass ? 'PASS' : 'FAIL'} in ${report.durationS.toFixed(1)} s; wrote bench/results/page-reader.json`);
