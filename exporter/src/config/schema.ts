// The exporter's configuration model: one table of keys, from which the
// flags (--web.listen-address), the environment variables
// (OPTIFIBER_WEB_LISTEN_ADDRESS), the YAML file schema (web: {listen_address})
// and the help text are all derived (config/loader.ts). zod validates every
// leaf, whatever the layer it came from, and gives the precise reason;
// strings from flags and env are coerced to the leaf's type first
// (config/validators.ts).
import { z } from 'zod';
import { keyCatalogue as catalogueOf, type ConfigOf, type KeyInfo, type KeyTable } from './loader.js';
import { COLLECTORS, type CollectorName } from '../metrics/collector-table.js';
import { bool, duration, int, list, listenAddress, num, siteName, str } from './validators.js';

export { parseDurationMs, parseListenAddress } from './validators.js';
export type { KeyInfo } from './loader.js';

export const DEFAULT_LISTEN_PORT = 9886;
export const ENV_PREFIX = 'OPTIFIBER_';

type Switch = { schema: ReturnType<typeof bool>; switch: true; help: string; default?: boolean };

/**
 * --collector.<name> / --no-collector.<name> for every collector, spelled
 * and documented as node_exporter's; no default of their own, so that
 * --collector.disable-defaults can turn off those not named.
 */
function collectorKeys(): Record<CollectorName | 'disable_defaults', Switch> {
  const keys: Record<string, Switch> = {
    disable_defaults: { schema: bool(), switch: true, default: false, help: 'Set all collectors to disabled by default; --collector.<name> enables one.' },
  };
  for (const [name, c] of Object.entries(COLLECTORS)) {
    keys[name] = { schema: bool(), switch: true, help: `Enable the ${name} collector (default: ${c.enabled ? 'enabled' : 'disabled'}): ${c.help}.` };
  }
  return keys as Record<CollectorName | 'disable_defaults', Switch>;
}

/** Every configuration key: section -> key -> definition. */
export const KEYS = {
  web: {
    listen_address: { schema: listenAddress(`127.0.0.1:${DEFAULT_LISTEN_PORT}`), default: `127.0.0.1:${DEFAULT_LISTEN_PORT}`, help: 'address to listen on (host:port)' },
    config_file: {
      schema: str(),
      flag: '--web.config.file',
      help: 'exporter-toolkit web config file (TLS, basic auth, scoped bearer tokens; docs/security.md); re-read when it or its certificate files change',
    },
    max_request_bytes: { schema: int(1024, 16 * 1024 * 1024), default: 65536, help: 'largest request body accepted (control commands: at most 1 KiB)' },
    max_connections: { schema: int(1, 65536), default: 512, help: 'open connections at most; further connections are closed at once' },
  },
  source: {
    kind: {
      schema: z.enum(['auto', 'kernel', 'file', 'userspace']),
      default: 'kernel',
      help: 'kernel: the module\'s pages (without the module: optifiber_source_up 0, attached when it appears); userspace: the embedded simulator (simulated data, npm start); file: --source.path; auto: kernel module, else --source.path, else the simulator',
    },
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
    sites: { schema: list(siteName()), help: 'comma-separated site names' },
    nsites: { schema: int(1, 16384), help: 'simulate this many sites named site-00001.. instead (default: the design\'s four sites MicrosoftDC, Dallas, Dobbins, Stone)' },
    seed: { schema: int(0, Number.MAX_SAFE_INTEGER), help: 'simulation seed' },
    tick_ms: { schema: int(10, 60_000), help: 'simulator tick (ms)' },
    time_scale: { schema: int(1, 3600), help: 'simulated seconds per tick' },
    fault_rate: { schema: num(0, 1e6), help: 'random faults per site per simulated day' },
    dir: { schema: str(), help: 'directory for the pages and control socket (default: a fresh temp dir)' },
  },
  replay: {
    file: { schema: str(), help: 'play this recording into the pages instead of simulating (also --replay FILE); formats in kernel/README.md' },
    speed: { schema: num(0.001, 100_000), help: 'recorded seconds per wall-clock second (also --speed; default 1: real time)' },
    site: { schema: siteName(), help: 'site name of a timestamp,value recording (default: traffic)' },
    value_scale: { schema: num(0.001, 1e12), help: 'timestamp,value recording: bit/s = value x this (default 1)' },
    loop: { schema: bool(), help: 'start the recording again at its end (default: stop, the pages go stale)' },
    delay: { schema: duration(0, 3_600_000), help: 'hold the first sample this long before playing (lets a just-started Prometheus attach; default 0)' },
  },
  control: {
    token_file: { schema: str(), help: 'file holding the bearer token of the control API (absent = control disabled)' },
    socket: { schema: str(), help: 'cmd_control path (default: next to the pages)' },
    audit_file: { schema: str(), help: 'append-only audit trail of control commands and idempotency keys, JSON lines; kept whenever a credential can control (default: control-audit.jsonl next to control.token_file, else next to web.config_file when it grants the control scope)' },
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
  collector: collectorKeys(),
  log: {
    level: { schema: z.enum(['debug', 'info', 'warn', 'error']), default: 'info', help: 'log level' },
  },
} satisfies KeyTable;

export type Config = ConfigOf<typeof KEYS>;

export function keyCatalogue(): KeyInfo[] {
  return catalogueOf(KEYS, ENV_PREFIX);
}
