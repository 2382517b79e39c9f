// Configuration of the remediation service: defaults < YAML file
// (--config.file) < environment (OPTIFIBER_REMEDIATION_*) < flags, the same
// layering and naming scheme as the exporter (exporter/src/config/): one key
// table gives the flag (--mcp.client-id), the env variable
// (OPTIFIBER_REMEDIATION_MCP_CLIENT_ID) and the YAML key (mcp: {client_id}).
// Every problem is collected with where it came from and reported at once.
// Durations and listen addresses reuse the exporter's parsers.
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDurationMs, parseListenAddress } from '@optifiber/exporter/dist/config/schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const num = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v), z.number({ invalid_type_error: 'expected a number' }).finite().min(min).max(max));
const int = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v), z.number({ invalid_type_error: 'expected an integer' }).int('expected an integer').min(min).max(max));
const str = () => z.string({ invalid_type_error: 'expected a string' }).min(1, 'must not be empty');
const bool = () =>
  z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean({ invalid_type_error: 'expected true or false' }));
const duration = (minMs: number, maxMs: number) =>
  z.preprocess(
    (v) => parseDurationMs(v) ?? v,
    z.number({ invalid_type_error: 'expected a duration such as 100ms, 1s, 1h30m' }).min(minMs, `must be at least ${minMs} ms`).max(maxMs, `must be at most ${maxMs} ms`),
  );
const url = () => z.string({ invalid_type_error: 'expected a URL' }).url('expected an http(s) URL such as http://127.0.0.1:9889').refine((s) => /^https?:\/\//.test(s), 'expected an http(s) URL');
const listen = () => z.string().refine((s) => parseListenAddress(s) !== undefined, 'expected host:port with a port in 0..65535, e.g. 127.0.0.1:9887');

interface KeyDef {
  schema: z.ZodTypeAny;
  default?: unknown;
  help: string;
}

export const KEYS = {
  web: {
    listen_address: { schema: listen(), default: '127.0.0.1:9887', help: 'address to listen on (host:port)' },
    max_request_bytes: { schema: int(1024, 16 * 1024 * 1024), default: 1024 * 1024, help: 'largest webhook/API body accepted (413 above)' },
  },
  webhook: {
    bearer_token_file: { schema: str(), help: 'file holding the bearer token Alertmanager sends (http_config.authorization.credentials_file)' },
    basic_auth_username: { schema: str(), help: 'basic-auth user name Alertmanager sends (with basic_auth_password_file)' },
    basic_auth_password_file: { schema: str(), help: 'file holding the basic-auth password' },
  },
  api: {
    proxy_token_file: { schema: str(), help: "file holding the token Grafana's plugin proxy sends; the role header is trusted only with it (absent = REST API disabled, 403)" },
  },
  storage: {
    path: { schema: str(), default: 'var/remediation/remediation.db', help: 'SQLite database (audit log, queue, actions, policy)' },
  },
  mcp: {
    url: { schema: url(), default: 'http://127.0.0.1:9889', help: 'WaveServer MCP north-bound API base URL' },
    client_id: { schema: str(), default: 'optifiber-remediation', help: 'OAuth2 client id (client credentials grant)' },
    client_secret_file: { schema: str(), help: 'file holding the OAuth2 client secret (required)' },
    request_timeout: { schema: duration(50, 120_000), default: 2000, help: 'timeout of one MCP HTTP request' },
    backoff_base: { schema: duration(1, 60_000), default: 100, help: 'first retry delay (doubles, full jitter)' },
    backoff_max: { schema: duration(1, 600_000), default: 5000, help: 'largest retry delay' },
    submit_deadline: { schema: duration(1000, 86_400_000), default: 600_000, help: 'give up creating the job after this long (action failed)' },
    poll_interval: { schema: duration(10, 60_000), default: 250, help: 'job polling interval' },
    job_timeout: { schema: duration(1000, 86_400_000), default: 600_000, help: 'give up polling a job after this long (action failed)' },
  },
  exporter: {
    url: { schema: url(), default: 'http://127.0.0.1:9886', help: 'exporter base URL (GET /api/v1/sites for baselines and read-after-write verification)' },
    verify_timeout: { schema: duration(100, 3_600_000), default: 30_000, help: 'how long the new capacity may take to show in the pages' },
    request_timeout: { schema: duration(50, 60_000), default: 2000, help: 'timeout of one exporter request' },
  },
  policy: {
    dry_run: { schema: bool(), default: false, help: 'initial policy: decide and audit, never call MCP' },
    approval_required: { schema: bool(), default: false, help: 'initial policy: every action waits for an Admin' },
    cooldown: { schema: duration(0, 30 * 86_400_000), default: 900_000, help: 'initial policy: minimum time between two actions on one site' },
    max_cmd_modules: { schema: int(1, 64), default: 16, help: "initial policy: never provision beyond this many CMD modules per site (also capped by the site's own maximum)" },
    rate_limit_actions: { schema: int(1, 100_000), default: 6, help: 'initial policy: at most this many actions in rate_limit_window, all sites together' },
    rate_limit_window: { schema: duration(1000, 30 * 86_400_000), default: 3_600_000, help: 'initial policy: the rate-limit window' },
    modules_per_action: { schema: int(1, 8), default: 1, help: 'initial policy: CMD modules added per action' },
    approval_timeout: { schema: duration(1000, 30 * 86_400_000), default: 3_600_000, help: 'initial policy: a pending approval expires after this long' },
  },
  grafana: {
    url: { schema: url(), help: 'Grafana base URL for annotations (optional)' },
    token_file: { schema: str(), help: 'file holding a Grafana service-account token (annotations:write)' },
  },
  log: {
    level: { schema: z.enum(['debug', 'info', 'warn', 'error']), default: 'info', help: 'log level' },
  },
} satisfies Record<string, Record<string, KeyDef>>;

type Sections = typeof KEYS;
type Out<D> = D extends { schema: infer S extends z.ZodTypeAny } ? z.output<S> : never;
export type Config = {
  [S in keyof Sections]: { [K in keyof Sections[S]]: Sections[S][K] extends { default: unknown } ? Out<Sections[S][K]> : Out<Sections[S][K]> | undefined };
};
export type ConfigInput = { [S in keyof Sections]?: { [K in keyof Sections[S]]?: unknown } };

const ENV_PREFIX = 'OPTIFIBER_REMEDIATION_';
interface KeyInfo {
  section: string;
  key: string;
  flag: string;
  env: string;
  def: KeyDef;
}
const CATALOGUE: KeyInfo[] = Object.entries(KEYS).flatMap(([section, keys]) =>
  Object.entries(keys).map(([key, def]) => ({
    section,
    key,
    flag: `--${section}.${key.replace(/_/g, '-')}`,
    env: `${ENV_PREFIX}${section.toUpperCase()}_${key.toUpperCase()}`,
    def: def as KeyDef,
  })),
);

export function configHelp(): string {
  return CATALOGUE.map((k) => `  ${k.flag.padEnd(36)} ${k.def.help}${'default' in k.def ? ` (default ${JSON.stringify(k.def.default)})` : ''}\n  ${''.padEnd(36)} env ${k.env}`).join('\n');
}

export interface LoadOptions {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Programmatic overrides (highest precedence), e.g. from startRemediationStack. */
  overrides?: ConfigInput;
}

export function loadConfig(o: LoadOptions = {}): { config: Config; configFile?: string; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const layers: { name: string; values: Map<KeyInfo, unknown> }[] = [];
  const argv = o.argv ?? [];
  const env = o.env ?? {};

  // Flags.
  const flags = new Map<KeyInfo, unknown>();
  let configFile: string | undefined;
  for (const a of argv) {
    const m = /^(--[a-z0-9_.-]+)=(.*)$/s.exec(a);
    if (!m) {
      problems.push(`argument ${JSON.stringify(a)}: expected --key=value`);
      continue;
    }
    if (m[1] === '--config.file') {
      configFile = m[2];
      continue;
    }
    const k = CATALOGUE.find((c) => c.flag === m[1]);
    if (!k) problems.push(`flag ${m[1]}: unknown${suggest(m[1]!, CATALOGUE.map((c) => c.flag))}`);
    else flags.set(k, m[2]);
  }
  // Environment.
  const envLayer = new Map<KeyInfo, unknown>();
  for (const [name, v] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || v === undefined) continue;
    if (name === `${ENV_PREFIX}CONFIG_FILE`) {
      configFile ??= v;
      continue;
    }
    const k = CATALOGUE.find((c) => c.env === name);
    if (!k) warnings.push(`environment variable ${name} is not a configuration key${suggest(name, CATALOGUE.map((c) => c.env))}; ignored`);
    else envLayer.set(k, v);
  }
  // File.
  const fileLayer = new Map<KeyInfo, unknown>();
  if (configFile) {
    let text = '';
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (e) {
      problems.push(`config file ${configFile}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    const doc = parseDocument(text);
    if (doc.errors.length) for (const e of doc.errors) problems.push(`config file ${configFile}: ${e.message.split('\n')[0]}`);
    else {
      const obj = (doc.toJS() ?? {}) as unknown;
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) problems.push(`config file ${configFile}: expected a mapping of sections`);
      else
        for (const [section, keys] of Object.entries(obj as Record<string, unknown>)) {
          if (!(section in KEYS)) {
            problems.push(`config file ${configFile}: unknown section "${section}"${suggest(section, Object.keys(KEYS))}`);
            continue;
          }
          if (keys === null || typeof keys !== 'object' || Array.isArray(keys)) {
            problems.push(`config file ${configFile}: ${section}: expected a mapping`);
            continue;
          }
          for (const [key, v] of Object.entries(keys as Record<string, unknown>)) {
            const k = CATALOGUE.find((c) => c.section === section && c.key === key);
            if (!k) problems.push(`config file ${configFile}: unknown key ${section}.${key}${suggest(key, Object.keys((KEYS as Record<string, object>)[section]!))}`);
            else fileLayer.set(k, v);
          }
        }
    }
  }
  const overrides = new Map<KeyInfo, unknown>();
  for (const [section, keys] of Object.entries(o.overrides ?? {}))
    for (const [key, v] of Object.entries(keys ?? {})) {
      if (v === undefined) continue;
      const k = CATALOGUE.find((c) => c.section === section && c.key === key);
      if (!k) problems.push(`option ${section}.${key}: unknown`);
      else overrides.set(k, v);
    }
  layers.push({ name: configFile ? `config file ${configFile}` : 'config file', values: fileLayer }, { name: 'environment', values: envLayer }, { name: 'flag', values: flags }, { name: 'option', values: overrides });

  const config: Record<string, Record<string, unknown>> = {};
  for (const k of CATALOGUE) {
    let value: unknown = k.def.default;
    for (const layer of layers) {
      if (!layer.values.has(k)) continue;
      const r = k.def.schema.safeParse(layer.values.get(k));
      const where = layer.name === 'flag' ? `flag ${k.flag}` : layer.name === 'environment' ? `environment ${k.env}` : `${layer.name}: ${k.section}.${k.key}`;
      if (!r.success) problems.push(`${where}: ${r.error.issues.map((i) => i.message).join('; ')}`);
      else value = r.data;
    }
    (config[k.section] ??= {})[k.key] = value;
  }
  const c = config as Config;
  if (!problems.length) {
    if (!c.webhook.bearer_token_file && !c.webhook.basic_auth_password_file)
      problems.push('webhook: no authentication configured: set webhook.bearer_token_file (--webhook.bearer-token-file) or webhook.basic_auth_username + webhook.basic_auth_password_file');
    if (!!c.webhook.basic_auth_username !== !!c.webhook.basic_auth_password_file) problems.push('webhook: basic_auth_username and basic_auth_password_file go together');
    if (!c.mcp.client_secret_file) problems.push('mcp.client_secret_file (--mcp.client-secret-file): required, the OAuth2 client secret for the MCP');
    if (!!c.grafana.url !== !!c.grafana.token_file) problems.push('grafana: url and token_file go together (annotations are optional: set both or neither)');
    if (c.mcp.backoff_base > c.mcp.backoff_max) problems.push('mcp.backoff_base must not exceed mcp.backoff_max');
  }
  if (problems.length) throw new ConfigError(problems);
  return { config: c, ...(configFile ? { configFile } : {}), warnings };
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

function suggest(name: string, candidates: string[]): string {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(name.length / 5));
  for (const c of candidates) {
    const dd = distance(name.toLowerCase(), c.toLowerCase());
    if (dd <= bestD) {
      best = c;
      bestD = dd;
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

/**
 * Reads a secret from a file: first line, trimmed, at least `min` printable
 * characters. Warns (returned) when the file is group/world readable.
 */
export function readSecretFile(path: string, what: string, min = 16): { secret: string; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([`${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`]);
  }
  const secret = (text.split('\n')[0] ?? '').trim();
  if (!secret) throw new ConfigError([`${what} file ${path} is empty`]);
  if (secret.length < min) throw new ConfigError([`${what} in ${path} is shorter than ${min} characters`]);
  if (!/^[\x21-\x7e]+$/.test(secret)) throw new ConfigError([`${what} in ${path} must be printable ASCII without spaces`]);
  const warnings: string[] = [];
  try {
    if (statSync(path).mode & 0o077) warnings.push(`${what} file ${path} is readable by group or others; chmod 600 it`);
  } catch {
    // ignore
  }
  return { secret, warnings };
}
