// Configuration loading: defaults < YAML file (--config.file) < environment
// (OPTIFIBER_*) < flags. Every layer is validated on its own so an error
// names where the bad value came from and the offending key path; all errors
// are collected and reported together.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { ZodIssue } from 'zod';
import { KEYS, keyCatalogue, layerSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Layer = Record<string, Record<string, unknown>>;

export interface LoadOptions {
  /** Flags after the subcommand, e.g. ["--web.listen-address=:9886"]. */
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Subcommand-specific defaults, applied below the file layer. */
  defaults?: Partial<{ [S in keyof Config]: Partial<Config[S]> }>;
  /** Flags the subcommand handles itself (without value), e.g. --help. */
  booleanFlags?: string[];
}

export interface LoadResult {
  config: Config;
  configFile?: string;
  /** Non-fatal notes (unknown OPTIFIBER_* variables). */
  warnings: string[];
  /** Boolean flags that were present. */
  switches: Set<string>;
  /** Positional arguments. */
  positional: string[];
}

const CATALOGUE = keyCatalogue();
const BY_FLAG = new Map(CATALOGUE.map((k) => [k.flag, k]));
const BY_ENV = new Map(CATALOGUE.map((k) => [k.env, k]));

function setPath(layer: Layer, path: string, v: unknown): void {
  const [section, key] = path.split('.') as [string, string];
  (layer[section] ??= {})[key] = v;
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

/** " (did you mean X?)" for the closest candidate within a few edits. */
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

function issueMessages(issues: ZodIssue[], name: (path: string) => string): string[] {
  const out: string[] = [];
  for (const i of issues) {
    const path = i.path.join('.');
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) {
        const full = path ? `${path}.${k}` : k;
        const known = i.path.length === 0 ? Object.keys(KEYS) : Object.keys((KEYS as Record<string, object>)[String(i.path[0])] ?? {});
        out.push(`${name(full)}: unknown key (known: ${known.join(', ')})`);
      }
    } else if (i.code === 'invalid_type' && i.received === 'undefined') {
      out.push(`${name(path)}: missing value`);
    } else if (i.code === 'invalid_enum_value') {
      out.push(`${name(path)}: must be one of ${i.options.join(', ')}, got ${JSON.stringify(i.received)}`);
    } else if (i.code === 'invalid_type' && i.path.length <= 1) {
      out.push(`${name(path)}: expected a mapping, got ${i.received}`);
    } else {
      out.push(`${name(path)}: ${i.message}`);
    }
  }
  return out;
}

/** Validate one layer; returns the parsed (typed) layer and error messages. */
function validate(layer: Layer, name: (path: string) => string): { value: Layer; problems: string[] } {
  const r = layerSchema.safeParse(layer);
  if (r.success) return { value: r.data as Layer, problems: [] };
  return { value: {}, problems: issueMessages(r.error.issues, name) };
}

export function parseFlags(argv: string[], booleanFlags: string[] = []): {
  layer: Layer;
  configFile?: string;
  problems: string[];
  switches: Set<string>;
  positional: string[];
  origin: Map<string, string>;
} {
  const layer: Layer = {};
  const problems: string[] = [];
  const switches = new Set<string>();
  const positional: string[] = [];
  const origin = new Map<string, string>();
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    if (booleanFlags.includes(flag)) {
      if (eq >= 0) problems.push(`${flag}: takes no value`);
      switches.add(flag);
      continue;
    }
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const known = flag === '--config.file' ? undefined : BY_FLAG.get(flag);
    if (flag !== '--config.file' && !known) {
      problems.push(`${flag}: unknown flag${suggest(flag, [...BY_FLAG.keys(), '--config.file', ...booleanFlags])}`);
      if (value === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) i++;
      continue;
    }
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        problems.push(`${flag}: missing value`);
        continue;
      }
      value = next;
      i++;
    }
    if (flag === '--config.file') {
      if (configFile !== undefined) problems.push(`${flag}: given more than once`);
      configFile = value;
      continue;
    }
    if (origin.has(known!.path)) problems.push(`${flag}: given more than once`);
    origin.set(known!.path, flag);
    setPath(layer, known!.path, value);
  }
  return { layer, configFile, problems, switches, positional, origin };
}

export function loadConfig(opts: LoadOptions = {}): LoadResult {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  const warnings: string[] = [];

  const flags = parseFlags(opts.argv ?? [], opts.booleanFlags);
  problems.push(...flags.problems);
  const flagLayer = validate(flags.layer, (p) => BY_FLAG.get(`--${p.replace(/_/g, '-')}`)?.flag ?? `--${p}`);
  problems.push(...flagLayer.problems);

  const envRaw: Layer = {};
  let envConfigFile: string | undefined;
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('OPTIFIBER_') || v === undefined) continue;
    if (k === 'OPTIFIBER_CONFIG_FILE') {
      envConfigFile = v;
      continue;
    }
    const known = BY_ENV.get(k);
    if (!known) {
      // Other OptiFiber tools share the prefix; not fatal, but said.
      warnings.push(`${k}: not a configuration variable, ignored${suggest(k, [...BY_ENV.keys()])}`);
      continue;
    }
    setPath(envRaw, known.path, v);
  }
  const envLayer = validate(envRaw, (p) => `OPTIFIBER_${p.replace('.', '_').toUpperCase()}`);
  problems.push(...envLayer.problems);

  const configFile = flags.configFile ?? envConfigFile;
  let fileLayer: { value: Layer; problems: string[] } = { value: {}, problems: [] };
  if (configFile !== undefined) {
    let text: string | undefined;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (e) {
      problems.push(`--config.file ${configFile}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (text !== undefined) {
      const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
      if (doc.errors.length > 0) {
        for (const e of doc.errors) problems.push(`${configFile}: YAML: ${e.message.split('\n')[0]}`);
      } else {
        const raw: unknown = doc.toJS() ?? {};
        if (typeof raw !== 'object' || Array.isArray(raw)) {
          problems.push(`${configFile}: top level must be a mapping of sections (${Object.keys(KEYS).join(', ')})`);
        } else {
          fileLayer = validate(raw as Layer, (p) => `${configFile}: ${p || '(top level)'}`);
          problems.push(...fileLayer.problems);
        }
      }
    }
  }

  // Merge: defaults < subcommand defaults < file < env < flags.
  const config: Record<string, Record<string, unknown>> = {};
  for (const [section, keys] of Object.entries(KEYS)) {
    const out: Record<string, unknown> = {};
    for (const [k, d] of Object.entries(keys)) {
      if ('default' in d) out[k] = d.default;
      const layers = [
        (opts.defaults as Layer | undefined)?.[section],
        fileLayer.value[section],
        envLayer.value[section],
        flagLayer.value[section],
      ];
      for (const l of layers) if (l && l[k] !== undefined) out[k] = l[k];
    }
    config[section] = out;
  }
  const c = config as unknown as Config;
  if (c.thresholds.rx_power_low_dbm >= c.thresholds.rx_power_high_dbm)
    problems.push(
      `thresholds.rx_power_low_dbm (${c.thresholds.rx_power_low_dbm}) must be below thresholds.rx_power_high_dbm (${c.thresholds.rx_power_high_dbm})`,
    );
  if (c.sampler.history !== 0 && c.sampler.history < c.sampler.interval)
    problems.push(`sampler.history (${c.sampler.history} ms) must be 0 or at least sampler.interval (${c.sampler.interval} ms)`);
  if (c.source.kind === 'file' && c.source.path === undefined) problems.push('source.kind is file but source.path is not set');

  if (problems.length > 0) throw new ConfigError(problems);
  const result: LoadResult = { config: c, warnings, switches: flags.switches, positional: flags.positional };
  if (configFile !== undefined) result.configFile = configFile;
  return result;
}

export function configHelp(): string {
  const lines = ['Flags (env OPTIFIBER_<SECTION>_<KEY>, YAML file section.key; flags > env > file > defaults):', ''];
  lines.push('  --config.file=PATH  (OPTIFIBER_CONFIG_FILE)  YAML configuration file');
  for (const k of CATALOGUE) {
    const def = k.default === undefined ? '' : ` [default ${JSON.stringify(k.default)}]`;
    lines.push(`  ${k.flag}  (${k.env})  ${k.help}${def}`);
  }
  return lines.join('\n');
}
