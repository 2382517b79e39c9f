// The exporter's configuration model: one table of keys, from which the
// flags (--web.listen-address), the environment variables
// (OPTIFIBER_WEB_LISTEN_ADDRESS), the YAML file schema (web: {listen_address})
// and the help text are all derived. zod validates every leaf, whatever
// the layer it came from, and gives the precise reason; strings from flags
// and env are coerced to the leaf's type first.
import { z } from 'zod';

export const DEFAULT_LISTEN_PORT = 9886;

/** Prometheus-style duration ("100ms", "1s", "1h30m") or a number of seconds; returns ms. */
export function parseDurationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v * 1000 : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * unit[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === s.length && pos > 0 ? total : undefined;
}

const num = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v),
    z.number({ invalid_type_error: 'expected a number' }).finite().min(min).max(max),
  );
const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
    z.number({ invalid_type_error: 'expected an integer' }).int('expected an integer').min(min).max(max),
  );
const str = () => z.string({ invalid_type_error: 'expected a string' }).min(1, 'must not be empty');
const duration = (minMs: number, maxMs: number) =>
  z.preprocess(
    (v) => parseDurationMs(v) ?? v,
    z
      .number({ invalid_type_error: 'expected a duration such as 100ms, 1s, 1h30m' })
      .min(minMs, `must be at least ${minMs} ms`)
      .max(maxMs, `must be at most ${maxMs} ms`),
  );
const list = () =>
  z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v),
    z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,31}$/, 'site names are 1..31 chars of [A-Za-z0-9_.-]')).min(1),
  );
const listenAddress = () =>
  z
    .string({ invalid_type_error: 'expected host:port' })
    .refine((s) => parseListenAddress(s) !== undefined, 'expected host:port with a port in 0..65535, e.g. 127.0.0.1:9886');

export function parseListenAddress(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

interface KeyDef {
  schema: z.ZodTypeAny;
  default?: unknown;
  /** How the default is shown in help (durations are stored in ms). */
  display?: string;
  help: string;
}

/** Every configuration key: section -> key -> definition. */
export const KEYS = {
  web: {
    listen_address: { schema: listenAddress(), default: `127.0.0.1:${DEFAULT_LISTEN_PORT}`, help: 'address to listen on (host:port)' },
    config_file: { schema: str(), help: 'exporter-toolkit web config file (TLS, basic auth)' },
    max_request_bytes: { schema: int(1024, 16 * 1024 * 1024), default: 65536, help: 'largest request body accepted' },
  },
  source: {
    kind: { schema: z.enum(['auto', 'kernel', 'file', 'userspace']), default: 'auto', help: 'auto: kernel module, else --source.path, else the simulator' },
    path: { schema: str(), help: 'pages file to read (kind file)' },
    kernel_path: { schema: str(), default: '/proc/optifiber/myinfo', help: 'where the kernel module publishes its pages' },
  },
  sampler: {
    interval: { schema: duration(100, 60_000), default: 1000, display: '1s', help: 'tick interval (100ms..60s); durations: 100ms, 1s, 1h30m, or seconds as a number' },
    history: { schema: duration(0, 7 * 86_400_000), default: 3_600_000, display: '1h', help: 'history kept per site at tick resolution (0 = none), within sampler.history_max_bytes' },
    history_max_bytes: { schema: int(0, 8 * 1024 ** 3), default: 32 * 1024 * 1024, help: 'memory budget of the history of all sites (about 200 bytes per site per tick); shortens the history when exceeded' },
  },
  simulator: {
    binary: { schema: str(), help: 'optifiber-sim executable (default: kernel/build/optifiber-sim)' },
    sites: { schema: list(), help: 'comma-separated site names' },
    nsites: { schema: int(1, 16384), help: 'simulate this many sites named site-00001.. instead (default: the design\'s four sites MicrosoftDC, Dallas, Dobbins, Stone)' },
    seed: { schema: int(0, Number.MAX_SAFE_INTEGER), help: 'simulation seed' },
    tick_ms: { schema: int(10, 60_000), help: 'simulator tick (ms)' },
    time_scale: { schema: int(1, 3600), help: 'simulated seconds per tick' },
    fault_rate: { schema: num(0, 1e6), help: 'random faults per site per simulated day' },
    dir: { schema: str(), help: 'directory for the pages and control socket (default: a fresh temp dir)' },
  },
  control: {
    token_file: { schema: str(), help: 'file holding the bearer token of the control API (absent = control disabled)' },
    socket: { schema: str(), help: 'cmd_control path (default: next to the pages)' },
  },
  thresholds: {
    osnr_low_db: { schema: num(-100, 100), default: 20, help: 'OSNR alarm threshold (dB)' },
    pre_fec_ber_high_ratio: { schema: num(0, 1), default: 1e-4, help: 'pre-FEC BER alarm threshold' },
    rx_power_low_dbm: { schema: num(-100, 100), default: -18, help: 'rx power low alarm (dBm)' },
    rx_power_high_dbm: { schema: num(-100, 100), default: 3, help: 'rx power high alarm (dBm)' },
    utilization_high_ratio: { schema: num(0, 1), default: 0.9, help: 'utilization alarm threshold' },
    anomaly_score: { schema: num(0, 1), default: 0.8, help: 'anomaly score alarm threshold' },
  },
  models: {
    dir: { schema: str(), help: 'directory holding anomaly.onnx and forecast.onnx (default: the models/ folder of the exporter package); reloaded on SIGHUP' },
  },
  log: {
    level: { schema: z.enum(['debug', 'info', 'warn', 'error']), default: 'info', help: 'log level' },
  },
} satisfies Record<string, Record<string, KeyDef>>;

type Sections = typeof KEYS;
type Out<D> = D extends { schema: infer S extends z.ZodTypeAny } ? z.output<S> : never;
export type Config = {
  [S in keyof Sections]: {
    [K in keyof Sections[S]]: Sections[S][K] extends { default: unknown }
      ? Out<Sections[S][K]>
      : Out<Sections[S][K]> | undefined;
  };
};

/** Strict schema of a partial config (one layer: file, env or flags). */
export const layerSchema = z
  .object(
    Object.fromEntries(
      Object.entries(KEYS).map(([section, keys]) => [
        section,
        z
          .object(Object.fromEntries(Object.entries(keys).map(([k, d]) => [k, (d as KeyDef).schema.optional()])))
          .strict()
          .optional(),
      ]),
    ),
  )
  .strict();

export interface KeyInfo {
  path: string; // "web.listen_address"
  flag: string; // "--web.listen-address"
  env: string; // "OPTIFIBER_WEB_LISTEN_ADDRESS"
  default?: unknown;
  help: string;
}

export function keyCatalogue(): KeyInfo[] {
  const out: KeyInfo[] = [];
  for (const [section, keys] of Object.entries(KEYS)) {
    for (const [k, d] of Object.entries(keys) as [string, KeyDef][]) {
      const info: KeyInfo = {
        path: `${section}.${k}`,
        flag: `--${section}.${k.replace(/_/g, '-')}`,
        env: `OPTIFIBER_${section.toUpperCase()}_${k.toUpperCase()}`,
        help: d.help,
      };
      if ('default' in d) info.default = d.display ?? d.default;
      out.push(info);
    }
  }
  return out;
}
