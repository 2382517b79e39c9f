import { FieldType, formattedValueToString, getDisplayProcessor, type Field, type GrafanaTheme2 } from '@grafana/data';

/** Formats with the field's display processor (unit, decimals, mappings from field config). */
export function formatValue(field: Field | undefined, v: number | null, theme: GrafanaTheme2, fallbackUnit = 'percentunit'): string {
  if (v === null || !Number.isFinite(v)) return field?.config?.noValue ?? 'No data';
  const f: Field = field ?? { name: 'v', type: FieldType.number, config: { unit: fallbackUnit }, values: [] };
  const display = f.display ?? getDisplayProcessor({ field: f, theme });
  return formattedValueToString(display(v));
}
