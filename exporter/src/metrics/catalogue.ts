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

export interface StandardRegistry {
  registry: Registry;
  exporter: ExporterCollector;
  /** Model status and inference durations; the server attaches the AI stage. */
  models: ModelCollector;
}

/** The registry /metrics serves: every collector, in exposition order. */
export function standardRegistry(log?: Logger): StandardRegistry {
  const registry = new Registry(log);
  const exporter = new ExporterCollector();
  const models = new ModelCollector();
  registry
    .register(new SiteCollector())
    .register(new ThresholdCollector())
    .register(new AnomalyCollector())
    .register(new ForecastCollector())
    .register(new SourceCollector())
    .register(models)
    .register(exporter)
    .register(new ProcessCollector());
  return { registry, exporter, models };
}

export function metricCatalogue(): MetricDesc[] {
  return standardRegistry().registry.catalogue();
}
