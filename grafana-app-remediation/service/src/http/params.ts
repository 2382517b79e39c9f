// Query and body parameters of the REST API: each one checked, a 400 naming
// the parameter otherwise (never a silently ignored or spliced value).
import { HttpError } from './errors.js';

export type Query = Record<string, unknown>;

export function intParam(v: unknown, name: string, min: number, max: number, def?: number): number | undefined {
  if (v === undefined) return def;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new HttpError(400, `${name}: expected an integer ${min}..${max}`);
  return Number(v);
}

export function timeParam(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !Number.isFinite(Date.parse(v))) throw new HttpError(400, `${name}: expected an RFC 3339 time`);
  return new Date(Date.parse(v)).toISOString();
}

export function enumParam(v: unknown, name: string, values: string[]): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !values.includes(v)) throw new HttpError(400, `${name}: expected one of ${values.join(', ')}`);
  return v;
}

/** A label-like word (site, kind, decision, reason filters of the audit). */
export function wordParam(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(v)) throw new HttpError(400, `${name}: expected 1..64 chars of [A-Za-z0-9_.-]`);
  return v;
}

export const idParam = (v: unknown, name = 'id') => intParam(v, name, 1, Number.MAX_SAFE_INTEGER);

/** Refuses a query parameter the route does not know (a typo must not widen a filter). */
export function only(q: Query, allowed: string[]): void {
  for (const k of Object.keys(q)) if (!allowed.includes(k)) throw new HttpError(400, `unknown query parameter ${k} (allowed: ${allowed.join(', ')})`);
}

export const isObject = (b: unknown): b is Record<string, unknown> => b !== null && typeof b === 'object' && !Array.isArray(b);

/** Refuses a body that is not a JSON object of (at most) these keys. */
export function objectBody(b: unknown, allowed: string[], shape: string): Record<string, unknown> {
  if (!isObject(b)) throw new HttpError(400, `body must be ${shape}`);
  for (const k of Object.keys(b)) if (!allowed.includes(k)) throw new HttpError(400, `unknown key ${k} (allowed: ${allowed.join(', ')})`);
  return b;
}

/** An optional free-text field of at most 1000 characters (comments, reasons: they go to the audit). */
export function noteParam(v: unknown, name: string): string | undefined {
  if (v !== undefined && (typeof v !== 'string' || v.length > 1000)) throw new HttpError(400, `${name}: expected a string of at most 1000 characters`);
  return v as string | undefined;
}

/** The time window and keyset paging every history list takes (newest first, `before_id` continues). */
export function windowParams(q: Query) {
  return { since: timeParam(q.since, 'since'), until: timeParam(q.until, 'until'), beforeId: idParam(q.before_id, 'before_id') };
}
export const limitParam = (q: Query): number => intParam(q.limit, 'limit', 1, 1000, 100)!;
/** Where the next page starts: the last row's id when the page is full. */
export const nextBeforeId = (rows: { id: number }[], limit: number): number | null => (rows.length === limit ? rows[rows.length - 1]!.id : null);
