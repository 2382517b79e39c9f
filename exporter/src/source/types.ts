// The decoded form of the OptiFiber pages, as every consumer above the page
// reader sees them. Units are converted from the ABI's fixed point to the
// domain units named in each field (the ABI field is in the comment).
// Counters are exact up to 2^53, as in Prometheus itself.

export type LinkState = 'down' | 'up' | 'degraded' | 'unknown';

export const FAULT_KINDS = [
  'none',
  'fiber_cut',
  'osnr_degrade',
  'ber_creep',
  'amp_failure',
  'crc_burst',
  'traffic_surge',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number] | 'unknown';

/** struct optifiber_dir */
export interface DirectoryInfo {
  abiMajor: number;
  abiMinor: number;
  pageSize: number;
  siteCount: number;
  tickIntervalMs: number; // tick_interval_ms
  timeScale: number; // time_scale: simulated seconds per tick
  live: boolean; // flags & OPTIFIBER_DIR_F_LIVE
  simulated: boolean; // flags & OPTIFIBER_DIR_F_SIMULATED
  replay: boolean; // flags & OPTIFIBER_DIR_F_REPLAY: a recording plays into the pages
  generation: bigint;
  tick: number;
  updateTimeMs: number; // update_time_ns / 1e6
  simTimeS: number;
  seed: bigint;
  host: string; // "kernel" | "userspace"
}

/** struct optifiber_site, one consistent sample. */
export interface SiteSample {
  index: number; // site_index
  name: string;
  sampleSeq: number; // sample_seq
  updateTimeMs: number; // update_time_ns / 1e6
  simTimeS: number; // sim_time_s

  throughputBps: number; // throughput_bps, bit/s
  offeredBps: number; // offered_bps, bit/s
  capacityBps: number; // capacity_bps, bit/s
  moduleCapacityBps: number; // module_capacity_bps, bit/s
  cmdModules: number;
  cmdModulesMax: number;
  linkState: LinkState;

  bytes: number; // counters
  crcErrors: number;
  fecCorrectedBits: number;
  fecUncorrectableBlocks: number;
  losEvents: number;

  preFecBer: number; // pre_fec_ber_e18 / 1e18
  postFecBer: number; // post_fec_ber_e18 / 1e18
  osnrDb: number; // osnr_cdb / 100
  qFactorDb: number; // q_factor_cdb / 100
  rxPowerDbm: number; // rx_power_cdbm / 100
  txPowerDbm: number; // tx_power_cdbm / 100
  chromaticDispersionPsNm: number; // chromatic_dispersion_ps_nm
  laserBiasAmperes: number; // laser_bias_ua / 1e6
  temperatureCelsius: number; // temperature_mc / 1000

  fault: FaultKind; // simulation ground truth
  faultStartSimS: number;
  faultEndSimS: number;
  faultsTotal: number;

  /**
   * OPTIFIBER_ABSENT_* bits (ABI absent): fields the writer does not measure.
   * Their numbers above are NaN (link state 'unknown', fault 'unknown'), never
   * a made-up zero; 0 = every field measured (the simulation).
   */
  absent?: number;
  /** OPTIFIBER_SITE_F_INTERFACE: fed by a network interface (ifaces=), commands refused. */
  interface?: true;
  /**
   * The samples the writer published between the reader's last consistent
   * snapshot and this one, oldest first, from the page's recent ring (ABI
   * minor 2): what a reader slower than the writer would otherwise miss.
   */
  earlier?: SiteSample[];
}

/** A site page that failed validation; the other sites are unaffected. */
export interface InvalidSite {
  index: number;
  reason: string; // e.g. "bad magic 0x00000000 (expected 0x5453464f)"
}

export interface Snapshot {
  dir: DirectoryInfo;
  sites: SiteSample[]; // valid sites, in index order
  invalid: InvalidSite[];
  /** True when every site page belongs to the same tick (directory seqcount held). */
  consistent: boolean;
  /** Page re-reads caused by a concurrent writer during this snapshot. */
  retries: number;
  takenAtMs: number; // Date.now() when the snapshot completed
}
