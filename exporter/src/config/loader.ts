// Configuration loading from one key table (section -> key -> definition):
// defaults < YAML file (--config.file) < environment (<PREFIX>SECTION_KEY) <
// flags (--section.key-name) < programmatic overrides. Every layer is
// validated on its own so an error names where the bad value came from and
// the offending key path; all errors are collected and reported together.
// Used by the exporter (config/load.ts, prefix OPTIFIBER_) and the
// remediation service (its config.ts, prefix OPTIFIBER_REMEDIATION_).
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z, type ZodIssue } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export interface KeyDef {
  schema: z.ZodTypeAny;
  default?: unknown;
  /** How the default is shown in help (durations are stored in ms). */
  display?: string;
  help: string;
  /** The flag when the derived --section.key-name is not the conventional spelling (exporter-toolkit's --web.config.file). */
  flag?: string;
  /** Other accepted spellings of the flag (the derived one stays accepted as an alias). */
  aliases?: string[];
  /**
   * A boolean spelled as node_exporter's (kingpin) flags: `--x` sets it,
   * `--no-x` clears it, `--x=true|false` also works; it never takes the
   * next argument as its value.
   */
  switch?: boolean;
}

/** Every configuration key: section -> key -> definition. */
export type KeyTable = Record<string, Record<string, KeyDef>>;

type Out<D> = D extends { schema: infer S extends z.ZodTypeAny } ? z.output<S> : never;
/** The loaded configuration: keys without a default may be undefined. */
export type ConfigOf<T extends KeyTable> = {
  [S in keyof T]: {
    [K in keyof T[S]]: T[S][K] extends { default: unknown } ? Out<T[S][K]> : Out<T[S][K]> | undefined;
  };
};
/** Programmatic input (overrides): values as a flag, env or file would give them. */
export type ConfigInputOf<T extends KeyTable> = { [S in keyof T]?: { [K in keyof T[S]]?: unknown } };

export interface KeyInfo {
  path: string; // "web.listen_address"
  flag: string; // "--web.listen-address"
  env: string; // "OPTIFIBER_WEB_LISTEN_ADDRESS"
  /** Accepted alternative spellings of the flag. */
  aliases: string[];
  /** A switch (KeyDef.switch): `--no-` + flag clears it. */
  switch?: boolean;
  default?: unknown;
  help: string;
}

export function keyCatalogue(keys: KeyTable, envPrefix: string): KeyInfo[] {
  const out: KeyInfo[] = [];
  for (const [section, defs] of Object.entries(keys)) {
    for (const [k, d] of Object.entries(defs)) {
      const derived = `--${section}.${k.replace(/_/g, '-')}`;
      const flag = d.flag ?? derived;
      const aliases = [...(d.aliases ?? []), ...(flag !== derived ? [derived] : [])];
      const info: KeyInfo = {
        path: `${section}.${k}`,
        flag,
        env: `${envPrefix}${section.toUpperCase()}_${k.toUpperCase()}`,
        aliases,
        help: d.help,
      };
      if ('default' in d) info.default = d.display ?? d.default;
      if (d.switch) info.switch = true;
      out.push(info);
    }
  }
  return out;
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

/** " (did you mean X?)" for the closest candidate within a few edits, else "". */
export function suggest(name: string, candidates: Iterable<string>): string {
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

type Layer = Record<string, Record<string, unknown>>;

export interface ConfigSpec<T extends KeyTable> {
  keys: T;
  /** "OPTIFIBER_": variables are <prefix><SECTION>_<KEY>, plus <prefix>CONFIG_FILE. */
  envPrefix: string;
  /** Cross-field checks, run on the merged configuration when every layer was valid. */
  check?: (config: ConfigOf<T>) => string[];
  /** Whether arguments that are not flags are returned (positional) or are errors. Default true. */
  positional?: boolean;
}

export interface LoadOptions<T extends KeyTable> {
  /** Flags, e.g. ["--web.listen-address=:9886"] or ["--log.level", "debug"]. */
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Program-specific defaults (already typed values), applied below the file layer. */
  defaults?: { [S in keyof T]?: Partial<ConfigOf<T>[S]> };
  /** Programmatic values (highest precedence), validated like the other layers. */
  overrides?: ConfigInputOf<T>;
  /** Flags the program handles itself (without value), e.g. --help. */
  booleanFlags?: string[];
}

export interface LoadResult<C> {
  config: C;
  configFile?: string;
  /** Non-fatal notes (unknown <prefix>* variables). */
  warnings: string[];
  /** Boolean flags that were present. */
  switches: Set<string>;
  /** Positional arguments. */
  positional: string[];
}

export interface FlagParse {
  layer: Layer;
  configFile?: string;
  problems: string[];
  switches: Set<string>;
  positional: string[];
  origin: Map<string, string>;
}

export interface ConfigLoader<T extends KeyTable> {
  readonly keys: T;
  catalogue(): KeyInfo[];
  parseFlags(argv: string[], booleanFlags?: string[]): FlagParse;
  load(opts?: LoadOptions<T>): LoadResult<ConfigOf<T>>;
  /** Help text: one line per key with its flag, env variable and default. */
  help(): string;
}

/** zod's issues as messages that name the flag, variable or file key (`name`). */
function issueMessages(keys: KeyTable, issues: ZodIssue[], name: (path: string) => string): string[] {
  const out: string[] = [];
  for (const i of issues) {
    const path = i.path.join('.');
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) {
        const full = path ? `${path}.${k}` : k;
        const known = i.path.length === 0 ? Object.keys(keys) : Object.keys(keys[String(i.path[0])] ?? {});
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

/** Help text: one line per key with its flag, env variable and default. */
function helpText(catalogue: KeyInfo[], envPrefix: string): string {
  const CONFIG_FILE_ENV = `${envPrefix}CONFIG_FILE`;
  const lines = [`Flags (env ${envPrefix}<SECTION>_<KEY>, YAML file section.key; flags > env > file > defaults):`, ''];
  lines.push(`  --config.file=PATH  (${CONFIG_FILE_ENV})  YAML configuration file`);
  for (const k of catalogue) {
    const def = k.default === undefined ? '' : ` [default ${JSON.stringify(k.default)}]`;
    const alias = k.aliases.length ? ` (alias ${k.aliases.join(', ')})` : '';
    const flag = k.switch ? `--[no-]${k.flag.slice(2)}` : k.flag;
    lines.push(`  ${flag}${alias}  (${k.env})  ${k.help}${def}`);
  }
  return lines.join('\n');
}

/** The loader of one key table (createConfigLoader). */
class Loader<T extends KeyTable> implements ConfigLoader<T> {
  readonly keys: T;
  private readonly envPrefix: string;
  private readonly CATALOGUE: KeyInfo[];
  private readonly BY_FLAG: Map<string, KeyInfo>;
  /** --no-collector.site: the negative spelling of each switch. */
  private readonly NEGATED: Map<string, KeyInfo>;
  private readonly BY_PATH: Map<string, KeyInfo>;
  private readonly BY_ENV: Map<string, KeyInfo>;
  private readonly CONFIG_FILE_ENV: string;
  /** Strict schema of a partial config (one layer: file, env, flags or overrides). */
  private readonly layerSchema: z.ZodTypeAny;

  constructor(private readonly spec: ConfigSpec<T>) {
    const { keys, envPrefix } = spec;
    this.keys = keys;
    this.envPrefix = envPrefix;
    this.CATALOGUE = keyCatalogue(keys, envPrefix);
    this.BY_FLAG = new Map(this.CATALOGUE.flatMap((k) => [k.flag, ...k.aliases].map((f) => [f, k] as const)));
    this.NEGATED = new Map<string, KeyInfo>(this.CATALOGUE.filter((k) => k.switch).map((k) => [`--no-${k.flag.slice(2)}`, k] as const));
    this.BY_PATH = new Map(this.CATALOGUE.map((k) => [k.path, k]));
    this.BY_ENV = new Map(this.CATALOGUE.map((k) => [k.env, k]));
    this.CONFIG_FILE_ENV = `${envPrefix}CONFIG_FILE`;
    this.layerSchema = z
      .object(
        Object.fromEntries(
          Object.entries(keys).map(([section, defs]) => [
            section,
            z
              .object(Object.fromEntries(Object.entries(defs).map(([k, d]) => [k, d.schema.optional()])))
              .strict()
              .optional(),
          ]),
        ),
      )
      .strict();
  }

  catalogue(): KeyInfo[] {
    return keyCatalogue(this.keys, this.envPrefix);
  }

  help(): string {
    return helpText(this.CATALOGUE, this.envPrefix);
  }

  private setPath(layer: Layer, path: string, v: unknown): void {
    const [section, key] = path.split('.') as [string, string];
    (layer[section] ??= {})[key] = v;
  }

  /** Validate one layer; returns the parsed (typed) layer and error messages. */
  private validate(layer: Layer, name: (path: string) => string): { value: Layer; problems: string[] } {
    const r = this.layerSchema.safeParse(layer);
    if (r.success) return { value: r.data as Layer, problems: [] };
    return { value: {}, problems: issueMessages(this.keys, r.error.issues, name) };
  }

  parseFlags(argv: string[], booleanFlags: string[] = []): FlagParse {
    const layer: Layer = {};
    const problems: string[] = [];
    const switches = new Set<string>();
    const positional: string[] = [];
    const origin = new Map<string, string>();
    let configFile: string | undefined;
    const setFlag = (key: KeyInfo, flag: string, value: string): void => {
      if (origin.has(key.path)) problems.push(`${flag}: given more than once`);
      origin.set(key.path, flag);
      this.setPath(layer, key.path, value);
    };
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (!arg.startsWith('--')) {
        if (this.spec.positional === false) problems.push(`unexpected argument ${JSON.stringify(arg)}`);
        else positional.push(arg);
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
      const negated = this.NEGATED.get(flag);
      if (negated) {
        if (eq >= 0) problems.push(`${flag}: takes no value`);
        else setFlag(negated, flag, 'false');
        continue;
      }
      const known = flag === '--config.file' ? undefined : this.BY_FLAG.get(flag);
      if (known?.switch && value === undefined) value = 'true';
      if (flag !== '--config.file' && !known) {
        problems.push(`${flag}: unknown flag${suggest(flag, [...this.CATALOGUE.map((k) => k.flag), '--config.file', ...booleanFlags])}`);
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
      setFlag(known!, flag, value);
    }
    const r: FlagParse = { layer, problems, switches, positional, origin };
    if (configFile !== undefined) r.configFile = configFile;
    return r;
  }

  private readFileLayer(configFile: string, problems: string[]): Layer {
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (e) {
      problems.push(`--config.file ${configFile}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return {};
    }
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push(`${configFile}: YAML: ${e.message.split('\n')[0]}`);
      return {};
    }
    const raw: unknown = doc.toJS() ?? {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${configFile}: top level must be a mapping of sections (${Object.keys(this.keys).join(', ')})`);
      return {};
    }
    const r = this.validate(raw as Layer, (p) => `${configFile}: ${p || '(top level)'}`);
    problems.push(...r.problems);
    return r.value;
  }

  load(opts: LoadOptions<T> = {}): LoadResult<ConfigOf<T>> {
    const env = opts.env ?? process.env;
    const problems: string[] = [];
    const warnings: string[] = [];

    const flags = this.parseFlags(opts.argv ?? [], opts.booleanFlags);
    problems.push(...flags.problems);
    const flagLayer = this.validate(flags.layer, (p) => flags.origin.get(p) ?? this.BY_PATH.get(p)?.flag ?? `--${p}`);
    problems.push(...flagLayer.problems);

    const envRaw: Layer = {};
    let envConfigFile: string | undefined;
    for (const [k, v] of Object.entries(env)) {
      if (!k.startsWith(this.envPrefix) || v === undefined) continue;
      if (k === this.CONFIG_FILE_ENV) {
        envConfigFile = v;
        continue;
      }
      const known = this.BY_ENV.get(k);
      if (!known) {
        // Other OptiFiber tools share the prefix; not fatal, but said.
        warnings.push(`${k}: not a configuration variable, ignored${suggest(k, this.BY_ENV.keys())}`);
        continue;
      }
      this.setPath(envRaw, known.path, v);
    }
    const envLayer = this.validate(envRaw, (p) => `${this.envPrefix}${p.replace('.', '_').toUpperCase()}`);
    problems.push(...envLayer.problems);

    const configFile = flags.configFile ?? envConfigFile;
    const fileLayer = configFile === undefined ? {} : this.readFileLayer(configFile, problems);

    const overrideLayer = this.validate((opts.overrides ?? {}) as Layer, (p) => `option ${p}`);
    problems.push(...overrideLayer.problems);

    // Merge: key defaults < program defaults < file < env < flags < overrides.
    const config: Layer = {};
    for (const [section, defs] of Object.entries(this.keys)) {
      const out: Record<string, unknown> = {};
      for (const [k, d] of Object.entries(defs)) {
        if ('default' in d) out[k] = d.default;
        const layers = [(opts.defaults as Layer | undefined)?.[section], fileLayer[section], envLayer.value[section], flagLayer.value[section], overrideLayer.value[section]];
        for (const l of layers) if (l && l[k] !== undefined) out[k] = l[k];
      }
      config[section] = out;
    }
    const c = config as ConfigOf<T>;
    // A layer with a problem is left out of the merge; cross-field checks on
    // that partial result could blame values the user did set.
    if (problems.length === 0 && this.spec.check) problems.push(...this.spec.check(c));

    if (problems.length > 0) throw new ConfigError(problems);
    const result: LoadResult<ConfigOf<T>> = { config: c, warnings, switches: flags.switches, positional: flags.positional };
    if (configFile !== undefined) result.configFile = configFile;
    return result;
  }
}

export function createConfigLoader<T extends KeyTable>(spec: ConfigSpec<T>): ConfigLoader<T> {
  return new Loader(spec);
}
