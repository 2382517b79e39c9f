// The simulation core as an offline data source: builds native/sim-trace.c
// against kernel/sim (cached by source hash) and decodes the per-tick site
// records into the SiteSample + SiteRates the sampler would publish, so the
// feature pipeline sees exactly what it sees in the exporter.
//
// Its one home is here, beside the simulator supervisor and the ABI it
// decodes: training (@optifiber/training), the reports' simulated week
// (@optifiber/reports), the serving tests and bench/ai-inference.mjs all
// import it (package export `@optifiber/exporter/sim/trace`). The exporter
// itself never runs it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SITE_OFFSET as O } from '../abi/layout.js';
import { FAULT_KINDS, type FaultKind, type LinkState, type SiteSample } from '../source/types.js';
import type { SiteRates } from '../sampler/types.js';

const REC = 248;

/** The repository root (works from src/ under jest and from dist/). */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'kernel', 'sim', 'ofsim.c'))) return d;
    d = dirname(d);
  }
  throw new Error('cannot find the repository root (kernel/sim/ofsim.c)');
}

const CORE_FILES = ['kernel/sim/ofsim.c', 'kernel/sim/ofsim_cmd.c', 'kernel/sim/ofsim.h', 'kernel/sim/ofsim_priv.h', 'kernel/sim/ofsim_compat.h', 'kernel/include/uapi/linux/optifiber.h'];

/** sha256 over the simulation core's sources: the training data is a function of it and the seed. */
export function simCoreHash(): string {
  const root = repoRoot();
  const h = createHash('sha256');
  for (const f of CORE_FILES) h.update(f + '\0').update(readFileSync(join(root, f)));
  return h.digest('hex');
}

export function buildSimTrace(): string {
  const root = repoRoot();
  const srcs = [
    join(root, 'exporter/src/sim/native/sim-trace.c'),
    join(root, 'kernel/sim/ofsim.c'),
    join(root, 'kernel/sim/ofsim_cmd.c'),
    join(root, 'kernel/sim/ofsim.h'),
    join(root, 'kernel/sim/ofsim_priv.h'),
    join(root, 'kernel/sim/ofsim_compat.h'),
    join(root, 'kernel/include/uapi/linux/optifiber.h'),
  ];
  const h = createHash('sha256');
  for (const s of srcs) h.update(readFileSync(s));
  const dir = join(tmpdir(), 'optifiber-ai');
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `sim-trace-${h.digest('hex').slice(0, 16)}`);
  if (!existsSync(bin)) {
    const cc = process.env['CC'] ?? 'cc';
    const r = spawnSync(cc, ['-std=gnu11', '-O2', `-I${join(root, 'kernel/include/uapi')}`, '-D_GNU_SOURCE', '-o', bin, srcs[0]!, srcs[1]!, srcs[2]!], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`building sim-trace failed: ${r.stderr || r.error}`);
  }
  return bin;
}

export interface SimRunParams {
  seed: number;
  nsites: number;
  ticks: number;
  timeScale: number;
  faultRate: number; // faults per site per simulated day, x1000
}

export interface SimPoint {
  sample: SiteSample;
  rates: SiteRates | null;
}

const LINK: LinkState[] = ['down', 'up', 'degraded'];

function decode(b: Buffer, off: number): SiteSample {
  const u64 = (o: number): number => Number(b.readBigUInt64LE(off + o));
  const fault = b.readUInt32LE(off + O.fault);
  const nameBytes = b.subarray(off + O.name, off + O.name + 32);
  const nul = nameBytes.indexOf(0);
  return {
    index: b.readUInt32LE(off + O.site_index),
    name: nameBytes.toString('utf8', 0, nul < 0 ? 32 : nul),
    sampleSeq: u64(O.sample_seq),
    updateTimeMs: u64(O.update_time_ns) / 1e6,
    simTimeS: u64(O.sim_time_s),
    throughputBps: u64(O.throughput_bps),
    offeredBps: u64(O.offered_bps),
    capacityBps: u64(O.capacity_bps),
    moduleCapacityBps: u64(O.module_capacity_bps),
    cmdModules: b.readUInt32LE(off + O.cmd_modules),
    cmdModulesMax: b.readUInt32LE(off + O.cmd_modules_max),
    linkState: LINK[b.readUInt32LE(off + O.link_state)] ?? 'unknown',
    bytes: u64(O.bytes),
    crcErrors: u64(O.crc_errors),
    fecCorrectedBits: u64(O.fec_corrected_bits),
    fecUncorrectableBlocks: u64(O.fec_uncorrectable_blocks),
    losEvents: u64(O.los_events),
    preFecBer: u64(O.pre_fec_ber_e18) / 1e18,
    postFecBer: u64(O.post_fec_ber_e18) / 1e18,
    osnrDb: b.readInt32LE(off + O.osnr_cdb) / 100,
    qFactorDb: b.readInt32LE(off + O.q_factor_cdb) / 100,
    rxPowerDbm: b.readInt32LE(off + O.rx_power_cdbm) / 100,
    txPowerDbm: b.readInt32LE(off + O.tx_power_cdbm) / 100,
    chromaticDispersionPsNm: b.readInt32LE(off + O.chromatic_dispersion_ps_nm),
    laserBiasAmperes: b.readUInt32LE(off + O.laser_bias_ua) / 1e6,
    temperatureCelsius: b.readInt32LE(off + O.temperature_mc) / 1000,
    fault: (FAULT_KINDS[fault] ?? 'unknown') as FaultKind,
    faultStartSimS: u64(O.fault_start_sim_s),
    faultEndSimS: u64(O.fault_end_sim_s),
    faultsTotal: u64(O.faults_total),
  };
}

/** Counter rates between two samples of one site, as the sampler computes them. */
export function ratesBetween(prev: SiteSample | undefined, cur: SiteSample): SiteRates | null {
  if (!prev) return null;
  const dt = cur.simTimeS - prev.simTimeS;
  if (!(dt > 0) || cur.bytes < prev.bytes || cur.crcErrors < prev.crcErrors) return null;
  return {
    bytesPerSecond: (cur.bytes - prev.bytes) / dt,
    crcErrorsPerSecond: (cur.crcErrors - prev.crcErrors) / dt,
    fecCorrectedBitsPerSecond: (cur.fecCorrectedBits - prev.fecCorrectedBits) / dt,
    fecUncorrectableBlocksPerSecond: (cur.fecUncorrectableBlocks - prev.fecUncorrectableBlocks) / dt,
    losEventsPerSecond: (cur.losEvents - prev.losEvents) / dt,
  };
}

/**
 * Run the simulation and call onTick(tickIndex, points) for every tick
 * (points in site order). Runs in chunks of ticks to bound memory.
 */
export function runSim(p: SimRunParams, onTick: (tick: number, points: SimPoint[]) => void): void {
  const bin = buildSimTrace();
  const r = spawnSync(bin, [String(p.seed), String(p.nsites), String(p.ticks), String(p.timeScale), String(p.faultRate)], {
    maxBuffer: p.nsites * p.ticks * REC + 1024,
  });
  if (r.status !== 0) throw new Error(`sim-trace failed: ${r.stderr?.toString() || r.error}`);
  const buf = r.stdout as Buffer;
  const prev: (SiteSample | undefined)[] = new Array(p.nsites);
  for (let t = 0; t < p.ticks; t++) {
    const pts: SimPoint[] = [];
    for (let i = 0; i < p.nsites; i++) {
      const s = decode(buf, (t * p.nsites + i) * REC);
      pts.push({ sample: s, rates: ratesBetween(prev[i], s) });
      prev[i] = s;
    }
    onTick(t, pts);
  }
}

export const simTraceSourcePath = (): string => resolve(repoRoot(), 'exporter/src/sim/native/sim-trace.c');
