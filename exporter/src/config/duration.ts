// The one duration parser of the exporter: configuration values
// (config/validators.ts) and API query parameters (api/time.ts) both read
// durations here, with Prometheus's rules (model.ParseDuration): integer
// amounts with units y w d h m s ms, largest unit first, each at most once
// ("1h30m", "15s", "100ms"); or plain seconds, which may be fractional
// ("15", "0.5"), as Prometheus's own API accepts for step and timeout.

const UNIT_MS: Record<string, number> = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const PROMETHEUS = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNITS = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;
const SECONDS = /^\d+(\.\d+)?$/;

/** Milliseconds of a Prometheus duration or of plain seconds; undefined when it is neither. */
export function parseDurationText(text: string): number | undefined {
  const s = text.trim();
  if (SECONDS.test(s)) return Number(s) * 1000;
  const m = s === '' ? null : PROMETHEUS.exec(s);
  if (!m) return undefined;
  let ms = 0;
  UNITS.forEach((u, i) => {
    if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNIT_MS[u]!;
  });
  return ms;
}
