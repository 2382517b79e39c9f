// The metric catalogue (name, type, help, labels) of the exporter, from the
// same descriptors the collectors render with: docs/metrics.md is generated
// from this module.
import type { Logger } from '../log/logger.js';
import type { MetricDesc } from './format.js';
import { Registry } from './registry.js';
import { ExporterCollector } from './collectors/exporter.js';
import { ProcessCollector } from './collectors/process.js';
import { SiteCollector } from './collectors/site.js';
import { SourceCollector } from './collectors/source.js';
import { ThresholdCollector } from './collectors/thresholds.js';
import { AnomalyCollector } from './collectors/anomaly.js';
import { ForecastCollector } from './collectors/forecast.js';
import { ModelCollector } from './collectors/models.js';
import { COLLECTOR_NAMES, type CollectorName } from './collector-table.js';
import type { Collector } from './registry.js';

export interface StandardRegistry {
  registry: Registry;
  exporter: ExporterCollector;
  /** Model status and inference durations; the server attaches the AI stage. */
  models: ModelCollector;
}

/**
 * The registry /metrics serves: the `enabled` collectors (default: all), in
 * exposition order. A disabled collector is not registered, so it is not
 * run and has no optifiber_scrape_collector_* series; the exporter and
 * models collectors are still returned, since the server and the AI stage
 * feed them whether or not they are exposed.
 */
export function standardRegistry(log?: Logger, enabled: readonly CollectorName[] = COLLECTOR_NAMES): StandardRegistry {
  const registry = new Registry(log);
  const exporter = new ExporterCollector();
  const models = new ModelCollector();
  const all: Record<CollectorName, Collector> = {
    site: new SiteCollector(),
    thresholds: new ThresholdCollector(),
    anomaly: new AnomalyCollector(),
    forecast: new ForecastCollector(),
    source: new SourceCollector(),
    models,
    exporter,
    process: new ProcessCollector(),
  };
  for (const name of COLLECTOR_NAMES) if (enabled.includes(name)) registry.register(all[name]);
  return { registry, exporter, models };
}

export function metricCatalogue(): MetricDesc[] {
  return standardRegistry().registry.catalogue();
}
