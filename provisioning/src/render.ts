// Renders every dashboard to the JSON checked in under provisioning/dashboards/.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS } from './dashboards/index.js';

/** Stable panel ids (1..n in layout order) so the JSON diff stays readable. */
function numberPanels(d: Dashboard): void {
  let id = 1;
  for (const p of d.panels ?? []) {
    (p as { id?: number }).id = id++;
    for (const q of (p as { panels?: Array<{ id?: number }> }).panels ?? []) q.id = id++;
  }
}

export function renderDashboard(name: keyof typeof DASHBOARDS): Dashboard {
  const d = DASHBOARDS[name]().build();
  numberPanels(d);
  return d;
}

/** file name -> file contents */
export function renderAll(): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of Object.keys(DASHBOARDS) as Array<keyof typeof DASHBOARDS>) {
    out.set(`${name}.json`, JSON.stringify(renderDashboard(name), null, 2) + '\n');
  }
  return out;
}
