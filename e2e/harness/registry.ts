// The standard field options Grafana registers at startup (unit, min, max,
// decimals, thresholds, ...). Outside Grafana, applyFieldOverrides ignores
// fieldConfig.defaults unless it gets a registry with them.
import { FieldConfigOptionsRegistry, type FieldConfigPropertyItem } from '@grafana/data';

const ids = ['unit', 'min', 'max', 'decimals', 'displayName', 'noValue', 'thresholds', 'color', 'links', 'mappings'];

export function standardRegistry(): FieldConfigOptionsRegistry {
  const items: FieldConfigPropertyItem[] = ids.map((id) => ({
    id, path: id, name: id, editor: () => null, override: () => null,
    process: (value: unknown) => value, shouldApply: () => true,
  }) as unknown as FieldConfigPropertyItem);
  return new FieldConfigOptionsRegistry(() => items);
}
