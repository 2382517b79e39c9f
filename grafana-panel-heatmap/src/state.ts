// A site's state and color = its worst component (utilization, forecast,
// link, anomaly). Threshold-based components take the color of their active
// threshold step, so field config thresholds and overrides drive the colors.
import type { ThresholdsConfig } from '@grafana/data';
import type { LinkStatus } from './types.js';

export enum Severity { ok = 0, unknown = 1, warning = 2, critical = 3 }
export interface Component { kind: 'utilization' | 'forecast' | 'link' | 'anomaly'; severity: Severity; color: string; reason: string }

export const DEFAULT_THRESHOLDS: ThresholdsConfig = {
  mode: 'absolute' as ThresholdsConfig['mode'],
  steps: [{ value: -Infinity, color: 'green' }, { value: 0.8, color: 'red' }],
};

/** Index of the active step (last step whose value <= v). Percentage mode uses min/max. */
export function activeStep(v: number, t: ThresholdsConfig | undefined, min = 0, max = 1): number {
  const steps = (t ?? DEFAULT_THRESHOLDS).steps;
  const x = t?.mode === ('percentage' as ThresholdsConfig['mode']) ? ((v - min) / (max - min || 1)) * 100 : v;
  let idx = 0;
  for (let i = 0; i < steps.length; i++) {
    const sv = steps[i]!.value;
    if (sv === null || sv === -Infinity || x >= sv) idx = i;
    else break;
  }
  return idx;
}

/** Step index -> severity: base = ok, last = critical, between = warning. */
export function stepSeverity(idx: number, count: number): Severity {
  if (idx <= 0) return Severity.ok;
  return idx >= count - 1 ? Severity.critical : Severity.warning;
}

export function thresholdComponent(kind: Component['kind'], v: number | null, t: ThresholdsConfig | undefined, resolveColor: (c: string) => string, min?: number, max?: number, label: string = kind): Component | null {
  if (v === null || !Number.isFinite(v)) return null;
  const steps = (t ?? DEFAULT_THRESHOLDS).steps;
  const i = activeStep(v, t, min, max);
  return { kind, severity: stepSeverity(i, steps.length), color: resolveColor(steps[i]!.color), reason: `${label} ${i > 0 ? 'above' : 'below'} ${i > 0 ? steps[i]!.value : steps[1]?.value ?? '∞'}` };
}

export function linkComponent(link: LinkStatus, resolveColor: (c: string) => string): Component {
  switch (link) {
    case 'down': return { kind: 'link', severity: Severity.critical, color: resolveColor('red'), reason: 'link down' };
    case 'degraded': return { kind: 'link', severity: Severity.warning, color: resolveColor('orange'), reason: 'link degraded' };
    case 'up': return { kind: 'link', severity: Severity.ok, color: resolveColor('green'), reason: 'link up' };
    default: return { kind: 'link', severity: Severity.unknown, color: resolveColor('text-disabled'), reason: 'link state unknown' };
  }
}

/** Worst component (highest severity; first wins ties). Null when there is none. */
export function worst(components: Array<Component | null>): Component | null {
  let w: Component | null = null;
  for (const c of components) if (c && (!w || c.severity > w.severity)) w = c;
  return w;
}

export function linkFromValue(v: number | null): LinkStatus {
  if (v === null || !Number.isFinite(v)) return 'unknown';
  if (v < 0.25) return 'down';
  if (v < 0.99) return 'degraded';
  return 'up';
}
