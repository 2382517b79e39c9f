// The leaf validators of the configuration key tables (the exporter's
// schema.ts, the remediation service's config.ts). Each is a zod schema that
// first coerces the strings of flags and environment variables to the
// leaf's type, then gives the precise reason a value is rejected.
import { z } from 'zod';
import { SITE_NAME_RE, SITE_NAME_RULE } from '../abi/site-name.js';
import { parseDurationText } from './duration.js';

/** A duration (config/duration.ts) or a number of seconds; returns ms. */
export function parseDurationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v * 1000 : undefined;
  return typeof v === 'string' ? parseDurationText(v) : undefined;
}

/** "host:port", "[v6]:port" or ":port" (all interfaces); undefined when malformed. */
export function parseListenAddress(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export const num = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v),
    z.number({ invalid_type_error: 'expected a number' }).finite().min(min).max(max),
  );

export const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
    z.number({ invalid_type_error: 'expected an integer' }).int('expected an integer').min(min).max(max),
  );

export const str = () => z.string({ invalid_type_error: 'expected a string' }).min(1, 'must not be empty');

export const bool = () =>
  z.preprocess(
    (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
    z.boolean({ invalid_type_error: 'expected true or false' }),
  );

/** A duration (see parseDurationMs), stored in ms. */
export const duration = (minMs: number, maxMs: number) =>
  z.preprocess(
    (v) => parseDurationMs(v) ?? v,
    z
      .number({ invalid_type_error: 'expected a duration such as 100ms, 1s, 1h30m' })
      .min(minMs, `must be at least ${minMs} ms`)
      .max(maxMs, `must be at most ${maxMs} ms`),
  );

/** A non-empty list: a YAML sequence, or comma-separated in flags and env. */
export const list = (item: z.ZodTypeAny) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v),
    z.array(item).min(1),
  );

export const siteName = () => z.string().regex(SITE_NAME_RE, `site names are ${SITE_NAME_RULE}`);

/** host:port; `example` is shown in the error (the program's default address). */
export const listenAddress = (example: string) =>
  z
    .string({ invalid_type_error: 'expected host:port' })
    .refine((s) => parseListenAddress(s) !== undefined, `expected host:port with a port in 0..65535, e.g. ${example}`);

/** An http(s) base URL; `example` is shown in the error. */
export const httpUrl = (example: string) =>
  z
    .string({ invalid_type_error: 'expected a URL' })
    .url(`expected an http(s) URL such as ${example}`)
    .refine((s) => /^https?:\/\//.test(s), 'expected an http(s) URL');
