// Configuration loading: defaults < YAML file (--config.file) < environment
// (OPTIFIBER_*) < flags, by the shared loader (config/loader.ts) over the
// exporter's key table (config/schema.ts), plus the exporter's cross-field
// checks.
import { createConfigLoader, type LoadOptions as GenericLoadOptions, type LoadResult as GenericLoadResult } from './loader.js';
import { ENV_PREFIX, KEYS, type Config } from './schema.js';

export { ConfigError } from './loader.js';

export type LoadOptions = GenericLoadOptions<typeof KEYS>;
export type LoadResult = GenericLoadResult<Config>;

const loader = createConfigLoader({
  keys: KEYS,
  envPrefix: ENV_PREFIX,
  check: (c) => {
    const problems: string[] = [];
    if (c.thresholds.rx_power_low_dbm >= c.thresholds.rx_power_high_dbm)
      problems.push(
        `thresholds.rx_power_low_dbm (${c.thresholds.rx_power_low_dbm}) must be below thresholds.rx_power_high_dbm (${c.thresholds.rx_power_high_dbm})`,
      );
    if (c.sampler.history !== 0 && c.sampler.history < c.sampler.interval)
      problems.push(`sampler.history (${c.sampler.history} ms) must be 0 or at least sampler.interval (${c.sampler.interval} ms)`);
    if (c.source.kind === 'file' && c.source.path === undefined) problems.push('source.kind is file but source.path is not set');
    return problems;
  },
});

export const loadConfig = (opts: LoadOptions = {}): LoadResult => loader.load(opts);
export const parseFlags = (argv: string[], booleanFlags: string[] = []) => loader.parseFlags(argv, booleanFlags);
export const configHelp = (): string => loader.help();
