// The exporter's collectors by name, each with its default state: the one
// list from which the --collector.<name> / --no-collector.<name> keys
// (config/schema.ts) and the registry (metrics/catalogue.ts) are built, as
// node_exporter's registerCollector(name, defaultEnabled, ...) does.
// Kept free of the collectors' code so the configuration can import it.

export const COLLECTORS = {
  site: { enabled: true, help: 'per-site optical, traffic and fault metrics from the pages' },
  thresholds: { enabled: true, help: 'the configured alarm thresholds' },
  anomaly: { enabled: true, help: 'anomaly scores of the model' },
  forecast: { enabled: true, help: 'traffic forecasts of the model' },
  source: { enabled: true, help: 'whether the page source is up, and the sampler\'s read statistics' },
  models: { enabled: true, help: 'model status, identity and inference durations' },
  exporter: { enabled: true, help: 'build info, tick and scrape durations, authentication failures' },
  process: { enabled: true, help: 'process CPU, memory and file descriptors' },
} as const satisfies Record<string, { enabled: boolean; help: string }>;

export type CollectorName = keyof typeof COLLECTORS;
export const COLLECTOR_NAMES = Object.keys(COLLECTORS) as CollectorName[];

/** The collector keys of a configuration: one switch per collector, and collector.disable_defaults. */
export type CollectorSwitches = Partial<Record<CollectorName | 'disable_defaults', boolean | undefined>>;

/** Names of the enabled collectors: a collector's own switch, else its default (off for all under disable_defaults). */
export function enabledCollectors(sw: CollectorSwitches = {}): CollectorName[] {
  return COLLECTOR_NAMES.filter((n) => sw[n] ?? (sw.disable_defaults ? false : COLLECTORS[n].enabled));
}
