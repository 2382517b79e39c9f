// Builds page images from raw ABI values keyed by C member name, using only
// the layout table. For tests, benchmarks and tools that need a page file
// without the simulator; the production writers are the C ones.
import {
  DIR_FIELDS,
  OPTIFIBER_ABI_MAJOR,
  OPTIFIBER_ABI_MINOR,
  OPTIFIBER_DIR_F_LIVE,
  OPTIFIBER_MAGIC,
  OPTIFIBER_PAGE_SIZE,
  OPTIFIBER_RECENT,
  OPTIFIBER_SAMPLE_LEN,
  OPTIFIBER_SAMPLE_OFFSET,
  OPTIFIBER_SITE_F_VALID,
  SITE_OFFSET,
  OPTIFIBER_SITE_MAGIC,
  SITE_FIELDS,
  mappingLength,
  sitePageOffset,
  type AbiField,
  type DirFieldName,
  type SiteFieldName,
} from './layout.js';

export type RawValue = number | bigint | string;
export type RawDir = Partial<Record<DirFieldName, RawValue>>;
export type RawSite = Partial<Record<SiteFieldName, RawValue>>;

const encoder = new TextEncoder();

/** Writes `values` (C name → raw value) into the struct at `base`; unknown names throw. */
export function writeStruct(view: DataView, base: number, fields: readonly AbiField[], values: Readonly<Record<string, RawValue | undefined>>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const field = fields.find((f) => f.name === name);
    if (field === undefined) throw new Error(`no field ${name} in the layout`);
    const at = base + field.offset;
    if (typeof value === 'string') {
      const bytes = encoder.encode(value);
      if (bytes.length >= field.size) throw new Error(`${name}: "${value}" does not fit in ${field.size} bytes with its NUL`);
      new Uint8Array(view.buffer, view.byteOffset + at, field.size).fill(0).set(bytes);
      continue;
    }
    switch (field.type) {
      case 'u64':
        view.setBigUint64(at, BigInt(value), true);
        break;
      case 'u32':
        view.setUint32(at, Number(value), true);
        break;
      case 's32':
        view.setInt32(at, Number(value), true);
        break;
      case 'u16':
        view.setUint16(at, Number(value), true);
        break;
      default:
        throw new Error(`${name}: cannot write a number into a ${field.type} array`);
    }
  }
}

/** The directory fields a live writer would have, overridable. */
export function defaultDir(siteCount: number, nowMs: number = Date.now()): RawDir {
  return {
    magic: OPTIFIBER_MAGIC,
    abi_major: OPTIFIBER_ABI_MAJOR,
    abi_minor: OPTIFIBER_ABI_MINOR,
    page_size: OPTIFIBER_PAGE_SIZE,
    site_count: siteCount,
    tick_interval_ms: 1000,
    time_scale: 1,
    flags: OPTIFIBER_DIR_F_LIVE,
    generation: 1n,
    tick: 1,
    update_time_ns: BigInt(Math.round(nowMs)) * 1_000_000n,
    host: 'userspace',
  };
}

/** The header fields of a valid site page, overridable. */
export function defaultSite(index: number): RawSite {
  return {
    magic: OPTIFIBER_SITE_MAGIC,
    abi_major: OPTIFIBER_ABI_MAJOR,
    abi_minor: OPTIFIBER_ABI_MINOR,
    site_index: index,
    flags: OPTIFIBER_SITE_F_VALID,
    sample_seq: 1,
    name: `site-${index}`,
  };
}

/** A whole mapping image: directory page plus one page per entry of `sites`. */
export function buildPages(dir: RawDir, sites: readonly RawSite[]): Uint8Array {
  const image = new Uint8Array(mappingLength(sites.length));
  const view = new DataView(image.buffer);
  writeStruct(view, 0, DIR_FIELDS, { ...defaultDir(sites.length), ...dir });
  sites.forEach((site, index) => writeStruct(view, sitePageOffset(index), SITE_FIELDS, { ...defaultSite(index), ...site }));
  return image;
}

/**
 * Writes a sample into site page `index` as the C writer publishes one
 * (ofsim_page_publish): the fields, then a copy of sample_seq .. absent into
 * recent[sample_seq % OPTIFIBER_RECENT]. Not atomic: for images no reader
 * maps while they are written.
 */
export function publishSample(image: Uint8Array, index: number, values: RawSite): void {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const base = sitePageOffset(index);
  writeStruct(view, base, SITE_FIELDS, values);
  const seq = Number(view.getBigUint64(base + SITE_OFFSET.sample_seq, true));
  const from = base + OPTIFIBER_SAMPLE_OFFSET;
  image.copyWithin(base + SITE_OFFSET.recent + (seq % OPTIFIBER_RECENT) * OPTIFIBER_SAMPLE_LEN, from, from + OPTIFIBER_SAMPLE_LEN);
}
