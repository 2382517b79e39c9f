// TypeScript mirror of kernel/include/uapi/linux/optifiber.h, the one
// definition of the page layout. Every other TypeScript file takes offsets
// from here; exporter/test/abi-layout.test.ts compiles the header and checks
// this table field by field, so a change on either side fails the build.

export const OPTIFIBER_MAGIC = 0x5242464f; // "OFBR"
export const OPTIFIBER_SITE_MAGIC = 0x5453464f; // "OFST"
export const OPTIFIBER_ABI_MAJOR = 1;
export const OPTIFIBER_ABI_MINOR = 2; // 1: absent; 2: recent
export const OPTIFIBER_PAGE_SIZE = 4096;
export const OPTIFIBER_MAX_SITES = 16384;
export const OPTIFIBER_SITE_NAME_LEN = 32;
export const OPTIFIBER_HOST_LEN = 16;
export const OPTIFIBER_RECENT = 16; // samples kept in optifiber_site.recent (a ring indexed by sample_seq)
export const OPTIFIBER_SAMPLE_OFFSET = 24; // a recent entry is the page's bytes from sample_seq ...
export const OPTIFIBER_SAMPLE_LEN = 232; // ... through absent

export const OPTIFIBER_DIR_F_LIVE = 1 << 0;
export const OPTIFIBER_DIR_F_SIMULATED = 1 << 1;
export const OPTIFIBER_DIR_F_REPLAY = 1 << 2;
export const OPTIFIBER_DIR_F_INTERFACE = 1 << 3;

export const OPTIFIBER_SITE_F_VALID = 1 << 0;
export const OPTIFIBER_SITE_F_INTERFACE = 1 << 1; // fed by a network interface: commands refused

export const OPTIFIBER_LINK_DOWN = 0;
export const OPTIFIBER_LINK_UP = 1;
export const OPTIFIBER_LINK_DEGRADED = 2;

export const OPTIFIBER_FAULT_NONE = 0;
export const OPTIFIBER_FAULT_FIBER_CUT = 1;
export const OPTIFIBER_FAULT_OSNR_DEGRADE = 2;
export const OPTIFIBER_FAULT_BER_CREEP = 3;
export const OPTIFIBER_FAULT_AMP_FAILURE = 4;
export const OPTIFIBER_FAULT_CRC_BURST = 5;
export const OPTIFIBER_FAULT_TRAFFIC_SURGE = 6;
export const OPTIFIBER_FAULT_COUNT = 7;

// optifiber_site.absent: a set bit = the writer does not measure that field.
// Bit numbers (the word is a u64; all bits are below 32, so a number holds it).
export const OPTIFIBER_ABSENT_THROUGHPUT = 2 ** 0;
export const OPTIFIBER_ABSENT_OFFERED = 2 ** 1;
export const OPTIFIBER_ABSENT_CAPACITY = 2 ** 2;
export const OPTIFIBER_ABSENT_MODULE_CAPACITY = 2 ** 3;
export const OPTIFIBER_ABSENT_CMD_MODULES = 2 ** 4;
export const OPTIFIBER_ABSENT_LINK_STATE = 2 ** 5;
export const OPTIFIBER_ABSENT_BYTES = 2 ** 6;
export const OPTIFIBER_ABSENT_CRC_ERRORS = 2 ** 7;
export const OPTIFIBER_ABSENT_FEC_CORRECTED = 2 ** 8;
export const OPTIFIBER_ABSENT_FEC_UNCORRECTABLE = 2 ** 9;
export const OPTIFIBER_ABSENT_LOS_EVENTS = 2 ** 10;
export const OPTIFIBER_ABSENT_PRE_FEC_BER = 2 ** 11;
export const OPTIFIBER_ABSENT_POST_FEC_BER = 2 ** 12;
export const OPTIFIBER_ABSENT_OSNR = 2 ** 13;
export const OPTIFIBER_ABSENT_Q_FACTOR = 2 ** 14;
export const OPTIFIBER_ABSENT_RX_POWER = 2 ** 15;
export const OPTIFIBER_ABSENT_TX_POWER = 2 ** 16;
export const OPTIFIBER_ABSENT_CD = 2 ** 17;
export const OPTIFIBER_ABSENT_LASER_BIAS = 2 ** 18;
export const OPTIFIBER_ABSENT_TEMPERATURE = 2 ** 19;
export const OPTIFIBER_ABSENT_FAULT = 2 ** 20;
export const OPTIFIBER_ABSENT_ALL = 2 ** 21 - 1;

/** Every #define of the header by its C name, for the parity test. */
export const ABI_CONSTANTS: Readonly<Record<string, number>> = {
  OPTIFIBER_MAGIC,
  OPTIFIBER_SITE_MAGIC,
  OPTIFIBER_ABI_MAJOR,
  OPTIFIBER_ABI_MINOR,
  OPTIFIBER_PAGE_SIZE,
  OPTIFIBER_MAX_SITES,
  OPTIFIBER_SITE_NAME_LEN,
  OPTIFIBER_HOST_LEN,
  OPTIFIBER_RECENT,
  OPTIFIBER_SAMPLE_OFFSET,
  OPTIFIBER_SAMPLE_LEN,
  OPTIFIBER_DIR_F_LIVE,
  OPTIFIBER_DIR_F_SIMULATED,
  OPTIFIBER_DIR_F_REPLAY,
  OPTIFIBER_DIR_F_INTERFACE,
  OPTIFIBER_SITE_F_VALID,
  OPTIFIBER_SITE_F_INTERFACE,
  OPTIFIBER_LINK_DOWN,
  OPTIFIBER_LINK_UP,
  OPTIFIBER_LINK_DEGRADED,
  OPTIFIBER_FAULT_NONE,
  OPTIFIBER_FAULT_FIBER_CUT,
  OPTIFIBER_FAULT_OSNR_DEGRADE,
  OPTIFIBER_FAULT_BER_CREEP,
  OPTIFIBER_FAULT_AMP_FAILURE,
  OPTIFIBER_FAULT_CRC_BURST,
  OPTIFIBER_FAULT_TRAFFIC_SURGE,
  OPTIFIBER_FAULT_COUNT,
  OPTIFIBER_ABSENT_THROUGHPUT,
  OPTIFIBER_ABSENT_OFFERED,
  OPTIFIBER_ABSENT_CAPACITY,
  OPTIFIBER_ABSENT_MODULE_CAPACITY,
  OPTIFIBER_ABSENT_CMD_MODULES,
  OPTIFIBER_ABSENT_LINK_STATE,
  OPTIFIBER_ABSENT_BYTES,
  OPTIFIBER_ABSENT_CRC_ERRORS,
  OPTIFIBER_ABSENT_FEC_CORRECTED,
  OPTIFIBER_ABSENT_FEC_UNCORRECTABLE,
  OPTIFIBER_ABSENT_LOS_EVENTS,
  OPTIFIBER_ABSENT_PRE_FEC_BER,
  OPTIFIBER_ABSENT_POST_FEC_BER,
  OPTIFIBER_ABSENT_OSNR,
  OPTIFIBER_ABSENT_Q_FACTOR,
  OPTIFIBER_ABSENT_RX_POWER,
  OPTIFIBER_ABSENT_TX_POWER,
  OPTIFIBER_ABSENT_CD,
  OPTIFIBER_ABSENT_LASER_BIAS,
  OPTIFIBER_ABSENT_TEMPERATURE,
  OPTIFIBER_ABSENT_FAULT,
  OPTIFIBER_ABSENT_ALL,
};

/** C scalar type of a field; arrays are `char` or `u8` with size > 1. */
export type AbiType = 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 'char';

export interface AbiField {
  readonly name: string; // C member name
  readonly offset: number;
  readonly size: number; // bytes (whole array for arrays)
  readonly type: AbiType; // element type
}

/** struct optifiber_dir, in member order. */
export const DIR_FIELDS = [
  { name: 'seq', offset: 0, size: 4, type: 'u32' },
  { name: 'magic', offset: 4, size: 4, type: 'u32' },
  { name: 'abi_major', offset: 8, size: 2, type: 'u16' },
  { name: 'abi_minor', offset: 10, size: 2, type: 'u16' },
  { name: 'page_size', offset: 12, size: 4, type: 'u32' },
  { name: 'site_count', offset: 16, size: 4, type: 'u32' },
  { name: 'tick_interval_ms', offset: 20, size: 4, type: 'u32' },
  { name: 'time_scale', offset: 24, size: 4, type: 'u32' },
  { name: 'flags', offset: 28, size: 4, type: 'u32' },
  { name: 'generation', offset: 32, size: 8, type: 'u64' },
  { name: 'tick', offset: 40, size: 8, type: 'u64' },
  { name: 'update_time_ns', offset: 48, size: 8, type: 'u64' },
  { name: 'sim_time_s', offset: 56, size: 8, type: 'u64' },
  { name: 'seed', offset: 64, size: 8, type: 'u64' },
  { name: 'host', offset: 72, size: 16, type: 'char' },
  { name: '__reserved', offset: 88, size: 4008, type: 'u8' },
] as const satisfies readonly AbiField[];

/** struct optifiber_site, in member order. */
export const SITE_FIELDS = [
  { name: 'seq', offset: 0, size: 4, type: 'u32' },
  { name: 'magic', offset: 4, size: 4, type: 'u32' },
  { name: 'abi_major', offset: 8, size: 2, type: 'u16' },
  { name: 'abi_minor', offset: 10, size: 2, type: 'u16' },
  { name: 'site_index', offset: 12, size: 4, type: 'u32' },
  { name: 'flags', offset: 16, size: 4, type: 'u32' },
  { name: '__pad0', offset: 20, size: 4, type: 'u32' },
  { name: 'sample_seq', offset: 24, size: 8, type: 'u64' },
  { name: 'update_time_ns', offset: 32, size: 8, type: 'u64' },
  { name: 'sim_time_s', offset: 40, size: 8, type: 'u64' },
  { name: 'name', offset: 48, size: 32, type: 'char' },
  { name: 'throughput_bps', offset: 80, size: 8, type: 'u64' },
  { name: 'offered_bps', offset: 88, size: 8, type: 'u64' },
  { name: 'capacity_bps', offset: 96, size: 8, type: 'u64' },
  { name: 'module_capacity_bps', offset: 104, size: 8, type: 'u64' },
  { name: 'cmd_modules', offset: 112, size: 4, type: 'u32' },
  { name: 'cmd_modules_max', offset: 116, size: 4, type: 'u32' },
  { name: 'link_state', offset: 120, size: 4, type: 'u32' },
  { name: '__pad1', offset: 124, size: 4, type: 'u32' },
  { name: 'bytes', offset: 128, size: 8, type: 'u64' },
  { name: 'crc_errors', offset: 136, size: 8, type: 'u64' },
  { name: 'fec_corrected_bits', offset: 144, size: 8, type: 'u64' },
  { name: 'fec_uncorrectable_blocks', offset: 152, size: 8, type: 'u64' },
  { name: 'los_events', offset: 160, size: 8, type: 'u64' },
  { name: 'pre_fec_ber_e18', offset: 168, size: 8, type: 'u64' },
  { name: 'post_fec_ber_e18', offset: 176, size: 8, type: 'u64' },
  { name: 'osnr_cdb', offset: 184, size: 4, type: 's32' },
  { name: 'q_factor_cdb', offset: 188, size: 4, type: 's32' },
  { name: 'rx_power_cdbm', offset: 192, size: 4, type: 's32' },
  { name: 'tx_power_cdbm', offset: 196, size: 4, type: 's32' },
  { name: 'chromatic_dispersion_ps_nm', offset: 200, size: 4, type: 's32' },
  { name: 'laser_bias_ua', offset: 204, size: 4, type: 'u32' },
  { name: 'temperature_mc', offset: 208, size: 4, type: 's32' },
  { name: '__pad2', offset: 212, size: 4, type: 'u32' },
  { name: 'fault', offset: 216, size: 4, type: 'u32' },
  { name: '__pad3', offset: 220, size: 4, type: 'u32' },
  { name: 'fault_start_sim_s', offset: 224, size: 8, type: 'u64' },
  { name: 'fault_end_sim_s', offset: 232, size: 8, type: 'u64' },
  { name: 'faults_total', offset: 240, size: 8, type: 'u64' },
  { name: 'absent', offset: 248, size: 8, type: 'u64' },
  { name: 'recent', offset: 256, size: 3712, type: 'u8' },
  { name: '__reserved', offset: 3968, size: 128, type: 'u8' },
] as const satisfies readonly AbiField[];

export const DIR_SIZE = OPTIFIBER_PAGE_SIZE; // sizeof(struct optifiber_dir)
export const SITE_SIZE = OPTIFIBER_PAGE_SIZE; // sizeof(struct optifiber_site)

export type DirFieldName = (typeof DIR_FIELDS)[number]['name'];
export type SiteFieldName = (typeof SITE_FIELDS)[number]['name'];

function offsetsOf<N extends string>(fields: readonly { name: N; offset: number }[]): Readonly<Record<N, number>> {
  const offsets = {} as Record<N, number>;
  for (const field of fields) offsets[field.name] = field.offset;
  return offsets;
}

/** Byte offset of each struct optifiber_dir member, by C name. */
export const DIR_OFFSET = offsetsOf<DirFieldName>(DIR_FIELDS);
/** Byte offset of each struct optifiber_site member, by C name. */
export const SITE_OFFSET = offsetsOf<SiteFieldName>(SITE_FIELDS);

/** Byte offset of site page `index` in the mapping. */
export function sitePageOffset(index: number, pageSize: number = OPTIFIBER_PAGE_SIZE): number {
  return (1 + index) * pageSize;
}

/** Bytes a mapping with `siteCount` sites needs. */
export function mappingLength(siteCount: number, pageSize: number = OPTIFIBER_PAGE_SIZE): number {
  return (1 + siteCount) * pageSize;
}
