// Shared helpers of the reports: time and duration parsing, ISO weeks,
// atomic file output (temp file in the same directory, fsync, rename).
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ReportError } from './prom.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** "30s", "5m", "1h30m", "1d", or plain seconds ("300"). Returns seconds. */
export function parseStep(s: string, flag = '--step'): number {
  const t = s.trim();
  let secs = NaN;
  if (/^\d+(\.\d+)?$/.test(t)) secs = Number(t);
  else if (/^(\d+[smhdw])+$/.test(t)) {
    secs = 0;
    for (const m of t.matchAll(/(\d+)([smhdw])/g)) secs += Number(m[1]) * UNITS[m[2]!]!;
  }
  if (!Number.isFinite(secs) || secs <= 0) throw new ReportError(`${flag} ${JSON.stringify(s)} is not a positive duration (examples: 30s, 5m, 1h, 1d)`, 2);
  if (secs < 1) throw new ReportError(`${flag} ${JSON.stringify(s)} is below the 1 s resolution of the data`, 2);
  return secs;
}

/**
 * RFC 3339 ("2026-11-20T00:00:00Z"), a date ("2026-11-20" = 00:00 UTC),
 * unix seconds, "now", or "now-1d" style offsets. Returns unix seconds.
 */
export function parseTime(s: string, flag: string, nowS: number): number {
  const t = s.trim();
  const rel = /^now(?:([+-])(.+))?$/.exec(t);
  if (rel) return rel[1] ? nowS + (rel[1] === '-' ? -1 : 1) * parseStep(rel[2]!, flag) : nowS;
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    const ms = Date.parse(`${t}T00:00:00Z`);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  throw new ReportError(`${flag} ${JSON.stringify(s)} is not a time (use RFC 3339 like 2026-11-20T00:00:00Z, a date like 2026-11-20, unix seconds, or now-1d)`, 2);
}

export const isoTime = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

export interface IsoWeek {
  label: string; // "2026-W46"
  start: number; // Monday 00:00 UTC, unix s
  end: number; // next Monday 00:00 UTC, unix s
}

/** ISO 8601 week containing unix second `t` (UTC). */
export function isoWeekOf(t: number): IsoWeek {
  const d = new Date(t * 1000);
  const day = (d.getUTCDay() + 6) % 7; // Monday 0
  const monday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day) / 1000;
  const thursday = new Date((monday + 3 * 86400) * 1000);
  const year = thursday.getUTCFullYear();
  const jan4 = Date.UTC(year, 0, 4) / 1000;
  const week1Monday = jan4 - ((new Date(jan4 * 1000).getUTCDay() + 6) % 7) * 86400;
  const n = Math.round((monday - week1Monday) / 604800) + 1;
  return { label: `${year}-W${String(n).padStart(2, '0')}`, start: monday, end: monday + 604800 };
}

/** "2026-W46" -> its Monday..Monday range; validates the week number for that year. */
export function parseIsoWeek(s: string): IsoWeek {
  const m = /^(\d{4})-?W(\d{2})$/i.exec(s.trim());
  if (!m) throw new ReportError(`--week ${JSON.stringify(s)} is not an ISO week (expected YYYY-Www, e.g. 2026-W46)`, 2);
  const year = Number(m[1]);
  const week = Number(m[2]);
  const jan4 = Date.UTC(year, 0, 4) / 1000;
  const week1Monday = jan4 - ((new Date(jan4 * 1000).getUTCDay() + 6) % 7) * 86400;
  const start = week1Monday + (week - 1) * 604800;
  const w = isoWeekOf(start);
  if (week < 1 || w.label !== `${year}-W${m[2]}`) throw new ReportError(`--week ${JSON.stringify(s)}: ${year} has no week ${week}`, 2);
  return w;
}

/** The last complete ISO week before `nowS`. */
export const lastCompleteWeek = (nowS: number): IsoWeek => isoWeekOf(isoWeekOf(nowS).start - 1);

/**
 * A file written to "<dir>/.<name>.<random>.tmp" and renamed over the
 * target only by commit(): a failed run leaves no half-written file (abort()
 * removes the temp file; the target, if it existed, is untouched).
 */
export class AtomicFile {
  readonly path: string;
  readonly tmp: string;
  private done = false;

  constructor(target: string) {
    this.path = resolve(target);
    const dir = dirname(this.path);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new ReportError(`cannot create the output directory ${dir}: ${(e as Error).message}`);
    }
    this.tmp = join(dir, `.${basename(this.path)}.${randomBytes(4).toString('hex')}.tmp`);
  }

  stream(): WriteStream {
    return createWriteStream(this.tmp, { flags: 'wx', mode: 0o644 });
  }

  async commit(): Promise<void> {
    const fh = await open(this.tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    renameSync(this.tmp, this.path);
    this.done = true;
  }

  abort(): void {
    if (this.done) return;
    rmSync(this.tmp, { force: true });
    this.done = true;
  }
}
