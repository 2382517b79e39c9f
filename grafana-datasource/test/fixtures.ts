import type { HistoryPoint, Site, Snapshot } from '../src/types.js';

export function site(name: string, patch: Partial<Site> = {}): Site {
  return {
    index: 0, name, sampleSeq: 1, updateTimeMs: 0, throughputBps: 2e11, offeredBps: 2e11, capacityBps: 4e11,
    cmdModules: 4, cmdModulesMax: 16, linkState: 'up', preFecBer: 1e-6, postFecBer: 0, osnrDb: 22, qFactorDb: 9,
    rxPowerDbm: -3, txPowerDbm: 1, temperatureCelsius: 45, fault: 'none', faultsTotal: 0,
    rates: { bytesPerSecond: 2.5e10, crcErrorsPerSecond: 0, fecCorrectedBitsPerSecond: 10, fecUncorrectableBlocksPerSecond: 0, losEventsPerSecond: 0 },
    utilization: 0.5, inference: {}, ...patch,
  };
}

export function points(name: string, n: number, t0: number, step: number, f: (i: number) => Partial<Site> = () => ({})): HistoryPoint[] {
  return Array.from({ length: n }, (_, i) => ({ seq: i + 1, takenAt: new Date(t0 + i * step).toISOString(), takenAtMs: t0 + i * step, site: site(name, f(i)) }));
}

export function snapshot(seq: number, t: number, sites: Site[]): Snapshot {
  return { seq, takenAt: new Date(t).toISOString(), takenAtMs: t, sites, source: { kind: 'userspace', up: true }, invalid: [] };
}
