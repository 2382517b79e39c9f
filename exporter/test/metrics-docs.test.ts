// docs/metrics.md is generated from the metric catalogue
// (scripts/gen-metrics-docs.mjs); this fails when it is stale.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metricCatalogue } from '../src/metrics/catalogue.js';
import { metricsMarkdown } from '../src/metrics/docs.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('docs/metrics.md', () => {
  test('matches metricCatalogue() (regenerate: npx tsc -b exporter && node scripts/gen-metrics-docs.mjs)', () => {
    const committed = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
    expect(committed).toBe(metricsMarkdown(metricCatalogue()));
  });

  test('documents every family the alert rules and the AI issue name', () => {
    const names = new Set(metricCatalogue().map((d) => d.name));
    for (const n of [
      'optifiber_anomaly_score',
      'optifiber_anomaly_contribution',
      'optifiber_forecast_throughput_bytes_per_second',
      'optifiber_forecast_utilization_ratio',
      'optifiber_model_up',
      'optifiber_model_info',
      'optifiber_model_inference_duration_seconds',
      'optifiber_model_last_load_timestamp_seconds',
      'optifiber_model_last_inference_timestamp_seconds',
      'optifiber_anomaly_score_threshold',
    ])
      expect(names).toContain(n);
    // every optifiber_ metric a rule file mentions is in the catalogue (except the
    // report scheduler's own optifiber_report_* metrics and the remediation
    // service's threshold gauges optifiber_override_*/optifiber_fleet_*, not
    // served by the exporter)
    const rules = ['optifiber-alerts.yml', 'optifiber-recording.yml'].map((f) => readFileSync(join(ROOT, 'prometheus', 'rules', f), 'utf8')).join('\n');
    const used = new Set([...rules.matchAll(/(?<![:\w])(optifiber_[a-z0-9_]+)/g)].map((m) => m[1]!));
    const families = [...names].flatMap((n) => [n, `${n}_bucket`, `${n}_sum`, `${n}_count`]);
    const unknown = [...used].filter((u) => !families.includes(u) && !/^optifiber_(report|override|fleet)_/.test(u));
    expect(unknown).toEqual([]);
  });
});
