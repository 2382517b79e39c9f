// Synthetic decoded snapshots for sampler and metrics unit tests.
import type { DirectoryInfo, SiteSample, Snapshot } from '../../src/source/types.js';
import type { SiteState, Tick } from '../../src/sampler/types.js';
import { runSim } from '../../src/sim/trace.js';

export function makeSample(index: number, over: Partial<SiteSample> = {}): SiteSample {
  return {
    index,
    name: `site-${index}`,
    sampleSeq: 1,
    updateTimeMs: Date.now(),
    simTimeS: 1_700_000_000,
    throughputBps: 40e9 + index,
    offeredBps: 41e9,
    capacityBps: 100e9,
    moduleCapacityBps: 50e9,
    cmdModules: 2,
    cmdModulesMax: 16,
    linkState: 'up',
    bytes: 1000,
    crcErrors: 10,
    fecCorrectedBits: 100,
    fecUncorrectableBlocks: 1,
    losEvents: 0,
    preFecBer: 1.5e-5,
    postFecBer: 0,
    osnrDb: 25.5,
    qFactorDb: 12.25,
    rxPowerDbm: -7.5,
    txPowerDbm: 1.25,
    chromaticDispersionPsNm: -12,
    laserBiasAmperes: 0.045,
    temperatureCelsius: 41.125,
    fault: 'none',
    faultStartSimS: 0,
    faultEndSimS: 0,
    faultsTotal: 0,
    ...over,
  };
}

export function makeDir(over: Partial<DirectoryInfo> = {}): DirectoryInfo {
  return {
    abiMajor: 1,
    abiMinor: 0,
    pageSize: 4096,
    siteCount: 2,
    tickIntervalMs: 1000,
    timeScale: 1,
    live: true,
    simulated: true,
    generation: 1n,
    tick: 1,
    updateTimeMs: Date.now(),
    simTimeS: 1_700_000_000,
    seed: 1n,
    host: 'userspace',
    ...over,
  };
}

export function makeSnapshot(sites: SiteSample[], over: Partial<Snapshot> = {}, dir: Partial<DirectoryInfo> = {}): Snapshot {
  return {
    dir: makeDir({ siteCount: sites.length, ...dir }),
    sites,
    invalid: [],
    consistent: true,
    retries: 0,
    takenAtMs: Date.now(),
    ...over,
  };
}

export function makeTick(sites: SiteSample[], over: Partial<Tick> = {}): Tick {
  const states: SiteState[] = sites.map((s) => ({
    sample: s,
    rates: null,
    utilization: s.capacityBps > 0 ? s.throughputBps / s.capacityBps : 0,
    inference: {},
  }));
  return {
    seq: 1,
    takenAtMs: Date.now(),
    durationSeconds: 0.001,
    source: { kind: 'userspace', path: '/tmp/x/myinfo', up: true, dir: makeDir() },
    sites: states,
    invalid: [],
    ...over,
  };
}

/** Ticks of the embedded simulator (seed 3, 60 simulated seconds per tick), as the sampler would publish them. */
export function simTicks(ticks: number, nsites: number, faultRate = 0): Tick[] {
  const out: Tick[] = [];
  runSim({ seed: 3, nsites, ticks, timeScale: 60, faultRate }, (t, pts) => {
    out.push({
      seq: t + 1,
      takenAtMs: t * 1000,
      durationSeconds: 0.001,
      source: { kind: 'file', path: 'x', up: true },
      invalid: [],
      sites: pts.map((p) => ({ sample: p.sample, rates: p.rates, utilization: p.sample.throughputBps / p.sample.capacityBps, inference: {} })),
    });
  });
  return out;
}
