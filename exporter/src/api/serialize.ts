// Tick -> JSON. One explicit field list (the OpenAPI schema lists the same
// fields with additionalProperties: false, and tests check real responses).
import type { SiteState, SourceStatus, Tick } from '../sampler/types.js';
import type { DirectoryInfo, SiteSample } from '../source/types.js';
import { rfc3339 } from './time.js';

const SAMPLE_KEYS = [
  'index', 'name', 'sampleSeq', 'updateTimeMs', 'simTimeS',
  'throughputBps', 'offeredBps', 'capacityBps', 'moduleCapacityBps', 'cmdModules', 'cmdModulesMax', 'linkState',
  'bytes', 'crcErrors', 'fecCorrectedBits', 'fecUncorrectableBlocks', 'losEvents',
  'preFecBer', 'postFecBer', 'osnrDb', 'qFactorDb', 'rxPowerDbm', 'txPowerDbm', 'chromaticDispersionPsNm',
  'laserBiasAmperes', 'temperatureCelsius',
  'fault', 'faultStartSimS', 'faultEndSimS', 'faultsTotal',
] as const satisfies readonly (keyof SiteSample)[];

export type SiteJson = Pick<SiteSample, (typeof SAMPLE_KEYS)[number]> & {
  rates: SiteState['rates'];
  utilization: number;
  inference: SiteState['inference'];
};

export function siteJson(s: SiteState): SiteJson {
  const out: Record<string, unknown> = {};
  for (const k of SAMPLE_KEYS) out[k] = s.sample[k];
  out.rates = s.rates
    ? {
        bytesPerSecond: s.rates.bytesPerSecond,
        crcErrorsPerSecond: s.rates.crcErrorsPerSecond,
        fecCorrectedBitsPerSecond: s.rates.fecCorrectedBitsPerSecond,
        fecUncorrectableBlocksPerSecond: s.rates.fecUncorrectableBlocksPerSecond,
        losEventsPerSecond: s.rates.losEventsPerSecond,
      }
    : null;
  out.utilization = s.utilization;
  out.inference = s.inference ?? {};
  return out as SiteJson;
}

export function dirJson(d: DirectoryInfo): Record<string, unknown> {
  return {
    abiMajor: d.abiMajor,
    abiMinor: d.abiMinor,
    pageSize: d.pageSize,
    siteCount: d.siteCount,
    tickIntervalMs: d.tickIntervalMs,
    timeScale: d.timeScale,
    live: d.live,
    simulated: d.simulated,
    replay: d.replay,
    generation: String(d.generation), // u64: string, JSON numbers lose precision above 2^53
    tick: d.tick,
    updateTimeMs: d.updateTimeMs,
    simTimeS: d.simTimeS,
    seed: String(d.seed),
    host: d.host,
  };
}

export function sourceJson(s: SourceStatus): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: s.kind, path: s.path, up: s.up, simulated: s.kind === 'userspace' };
  if (s.error !== undefined) out.error = s.error;
  if (s.dir) out.dir = dirJson(s.dir);
  return out;
}

export function tickHeader(t: Tick): { seq: number; takenAt: string; takenAtMs: number; durationSeconds: number } {
  return { seq: t.seq, takenAt: rfc3339(t.takenAtMs), takenAtMs: t.takenAtMs, durationSeconds: t.durationSeconds };
}

/** GET /api/v1/snapshot body. */
export function snapshotJson(t: Tick): Record<string, unknown> {
  return {
    ...tickHeader(t),
    source: sourceJson(t.source),
    sites: t.sites.map(siteJson),
    invalid: t.invalid.map((i) => ({ index: i.index, reason: i.reason })),
  };
}

/** GET /api/v1/sites body. */
export function sitesJson(t: Tick): Record<string, unknown> {
  const sites: Record<string, unknown>[] = t.sites.map((s) => ({
    name: s.sample.name,
    index: s.sample.index,
    valid: true,
    capacityBps: s.sample.capacityBps,
    moduleCapacityBps: s.sample.moduleCapacityBps,
    cmdModules: s.sample.cmdModules,
    cmdModulesMax: s.sample.cmdModulesMax,
    linkState: s.sample.linkState,
    fault: s.sample.fault,
    // a real link: no command can apply to it (the module answers EOPNOTSUPP)
    ...(s.sample.interface ? { interface: true, remediable: false } : {}),
  }));
  for (const i of t.invalid) sites.push({ index: i.index, valid: false, reason: i.reason });
  sites.sort((a, b) => (a.index as number) - (b.index as number));
  const replay = t.source.dir?.replay === true;
  return { seq: t.seq, takenAt: rfc3339(t.takenAtMs), source: { kind: t.source.kind, up: t.source.up, simulated: t.source.kind === 'userspace' && !replay, ...(replay ? { replay: true } : {}) }, sites };
}

const num = (v: number): string => (Number.isFinite(v) ? String(v) : 'null');
const str = (v: string): string => JSON.stringify(v);

/**
 * JSON.stringify(siteJson(s)), byte for byte, without building the
 * intermediate object: the stream, long poll and snapshot serialize every
 * site of every tick, and the generic path (a 33-key object per site, then
 * stringify) cost ~17 ms per tick at 1,000 sites. A test checks the identity
 * (exporter/test/api-serialize.test.ts). Non-number fields fall back to the
 * generic path.
 */
export function siteJsonString(s: SiteState): string {
  const p = s.sample;
  let out =
    `{"index":${num(p.index)},"name":${str(p.name)},"sampleSeq":${num(p.sampleSeq)},"updateTimeMs":${num(p.updateTimeMs)},"simTimeS":${num(p.simTimeS)}` +
    `,"throughputBps":${num(p.throughputBps)},"offeredBps":${num(p.offeredBps)},"capacityBps":${num(p.capacityBps)},"moduleCapacityBps":${num(p.moduleCapacityBps)}` +
    `,"cmdModules":${num(p.cmdModules)},"cmdModulesMax":${num(p.cmdModulesMax)},"linkState":${str(p.linkState)}` +
    `,"bytes":${num(p.bytes)},"crcErrors":${num(p.crcErrors)},"fecCorrectedBits":${num(p.fecCorrectedBits)},"fecUncorrectableBlocks":${num(p.fecUncorrectableBlocks)},"losEvents":${num(p.losEvents)}` +
    `,"preFecBer":${num(p.preFecBer)},"postFecBer":${num(p.postFecBer)},"osnrDb":${num(p.osnrDb)},"qFactorDb":${num(p.qFactorDb)},"rxPowerDbm":${num(p.rxPowerDbm)},"txPowerDbm":${num(p.txPowerDbm)}` +
    `,"chromaticDispersionPsNm":${num(p.chromaticDispersionPsNm)},"laserBiasAmperes":${num(p.laserBiasAmperes)},"temperatureCelsius":${num(p.temperatureCelsius)}` +
    `,"fault":${str(p.fault)},"faultStartSimS":${num(p.faultStartSimS)},"faultEndSimS":${num(p.faultEndSimS)},"faultsTotal":${num(p.faultsTotal)}`;
  const r = s.rates;
  out += r
    ? `,"rates":{"bytesPerSecond":${num(r.bytesPerSecond)},"crcErrorsPerSecond":${num(r.crcErrorsPerSecond)},"fecCorrectedBitsPerSecond":${num(r.fecCorrectedBitsPerSecond)},"fecUncorrectableBlocksPerSecond":${num(r.fecUncorrectableBlocksPerSecond)},"losEventsPerSecond":${num(r.losEventsPerSecond)}}`
    : ',"rates":null';
  // inference: a small object whose keys depend on the models; the generic path keeps its exact shape.
  out += `,"utilization":${num(s.utilization)},"inference":${JSON.stringify(s.inference ?? {})}}`;
  return out;
}

const SAMPLE_TYPES_OK = (p: SiteSample): boolean => {
  for (const k of SAMPLE_KEYS) {
    const v = p[k];
    if (k === 'name' || k === 'linkState' || k === 'fault') {
      if (typeof v !== 'string') return false;
    } else if (typeof v !== 'number') return false;
  }
  return true;
};

/** siteJsonString when every field has its declared type (always, from the page reader); the generic path otherwise. */
export function siteJsonText(s: SiteState): string {
  return SAMPLE_TYPES_OK(s.sample) ? siteJsonString(s) : JSON.stringify(siteJson(s));
}
