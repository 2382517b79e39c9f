// Query-parameter parsing for the API: timestamps (RFC 3339 or unix seconds)
// and durations (seconds or Prometheus-style 1h2m3s500ms).
import { ApiError } from './errors.js';
import { parseDurationText } from '../config/duration.js';

// RFC 3339 date-time: full-date "T" full-time, with a mandatory offset.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const UNIX = /^-?\d{1,12}(\.\d{1,20})?$/;

/** Parses an RFC 3339 timestamp or unix seconds into ms since the epoch. */
export function parseTime(name: string, raw: string): number {
  const s = raw.trim();
  if (UNIX.test(s)) {
    const ms = Number(s) * 1000;
    if (!Number.isFinite(ms) || ms < 0) throw new ApiError(400, `${name}: unix time must be >= 0, got "${raw}"`);
    return ms;
  }
  const m = RFC3339.exec(s);
  if (m) {
    const [, y, mo, d, h, mi, se] = m;
    const month = Number(mo);
    const day = Number(d);
    if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(se) > 60) {
      throw new ApiError(400, `${name}: "${raw}" is not a valid RFC 3339 date-time`);
    }
    const ms = Date.parse(s.replace(/[tz]/g, (c) => c.toUpperCase()));
    // Date.parse rolls Feb 30 over to March; reject it by round-tripping the date part.
    if (!Number.isFinite(ms)) throw new ApiError(400, `${name}: "${raw}" is not a valid RFC 3339 date-time`);
    const check = new Date(Date.UTC(Number(y), month - 1, day));
    if (check.getUTCDate() !== day) throw new ApiError(400, `${name}: "${raw}" is not a valid calendar date`);
    return ms;
  }
  throw new ApiError(400, `${name}: expected RFC 3339 (2026-11-21T18:00:00Z) or unix seconds (1795370400), got "${truncate(raw)}"`);
}

/**
 * Parses seconds ("15", "0.5") or a Prometheus duration ("1m30s", "500ms")
 * into ms, with config/duration.ts's rules. Stricter than a configuration
 * value on purpose: a query parameter must be > 0 and plain seconds are
 * bounded (9 digits, 6 decimals), since any client may send one.
 */
export function parseDuration(name: string, raw: string): number {
  const s = raw.trim();
  const tooLong = /^\d+(\.\d+)?$/.test(s) && !/^\d{1,9}(\.\d{1,6})?$/.test(s);
  const ms = tooLong ? undefined : parseDurationText(s);
  if (ms === undefined) throw new ApiError(400, `${name}: expected seconds (15, 0.5) or a duration (30s, 1m, 500ms), got "${truncate(raw)}"`);
  if (!Number.isFinite(ms) || ms <= 0) throw new ApiError(400, `${name}: must be > 0, got "${truncate(raw)}"`);
  return ms;
}

export function truncate(s: string, n = 64): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
