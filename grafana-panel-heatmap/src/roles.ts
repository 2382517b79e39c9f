// Which role a series plays, for this data source's frames and for plain
// Prometheus range queries (series labelled by site). Matched on the metric
// name (__name__ label or field name), then the frame name, legend and refId.
import type { DataFrame, Field } from '@grafana/data';

export type Role = 'utilization' | 'throughput' | 'capacity' | 'link' | 'anomaly' | 'forecast' | 'contributions' | 'contribution';

export function roleOf(frame: DataFrame, field: Field): Role | null {
  const labels = field.labels ?? {};
  if (field.name === 'contributions') return 'contributions';
  const primary = [labels.__name__, field.name].filter(Boolean).join(' ').toLowerCase();
  const secondary = [field.config?.displayNameFromDS, frame.name, frame.refId].filter(Boolean).join(' ').toLowerCase();
  for (const text of [primary, secondary]) {
    if (!text) continue;
    if (labels.feature !== undefined && /contribution/.test(text)) return 'contribution';
    if (labels.percentile !== undefined || /forecast/.test(text)) return 'forecast';
    if (/anomaly/.test(text)) return 'anomaly';
    if (/link_?up|linkup|link_state|link state/.test(text)) return 'link';
    if (/utili[sz]ation/.test(text)) return 'utilization';
    if (/capacity/.test(text)) return 'capacity';
    if (/throughput/.test(text)) return 'throughput';
  }
  return null;
}

export function siteOf(frame: DataFrame, field: Field): string | null {
  return field.labels?.site ?? (frame.fields.find((f) => f.labels?.site)?.labels?.site ?? null);
}

export function timeFieldOf(frame: DataFrame): Field | undefined {
  return frame.fields.find((f) => f.type === 'time');
}

/**
 * Quantile (0..1) of a forecast series: from the `percentile` label ("10",
 * "50", "90") that the exporter's forecast metrics and the OptiFiber data
 * source's frames carry, else a p10/p50/p90 suffix in the series name
 * (recording rules such as site:optifiber_forecast_utilization_p90:ratio) or
 * the field name.
 */
export function quantileOf(field: Field): number {
  const p = field.labels?.percentile;
  if (p !== undefined && p !== '' && !Number.isNaN(Number(p))) return Number(p) / 100;
  const m = /(?:^|[^a-z0-9])p(\d\d)(?![0-9])/.exec(`${field.labels?.__name__ ?? ''} ${field.name}`.toLowerCase());
  const digits = m?.[1];
  return digits ? Number(digits) / 100 : 0.5;
}
