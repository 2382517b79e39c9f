// Test frames: this data source's shape and Prometheus range-query shape.
import { createDataFrame, FieldType, type DataFrame } from '@grafana/data';

export function dsFrame(site: string, metric: string, values: Array<number | null>, t0 = 0, step = 1000, extra: Partial<{ contributions: string[]; percentile: string }> = {}): DataFrame {
  const fields: Parameters<typeof createDataFrame>[0]['fields'] = [
    { name: 'time', type: FieldType.time, values: values.map((_, i) => t0 + i * step) },
    { name: metric, type: FieldType.number, values, labels: extra.percentile ? { site, percentile: extra.percentile } : { site }, config: {} },
  ];
  if (extra.contributions) fields.push({ name: 'contributions', type: FieldType.other, values: extra.contributions, labels: { site } });
  return createDataFrame({ refId: 'A', name: `${site} ${metric}`, fields });
}

/** Grafana's Prometheus data source (dataplane): value field named after the metric, labels without __name__. */
export function promFrame(metric: string, labels: Record<string, string>, values: Array<number | null>, t0 = 0, step = 1000, refId = 'A'): DataFrame {
  return createDataFrame({
    refId,
    name: metric,
    fields: [
      { name: 'Time', type: FieldType.time, values: values.map((_, i) => t0 + i * step) },
      { name: 'Value', type: FieldType.number, values, labels: { __name__: metric, ...labels }, config: {} },
    ],
  });
}
