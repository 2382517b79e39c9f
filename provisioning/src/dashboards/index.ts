import { exporterDashboard } from './exporter.js';
import { fleetDashboard } from './fleet.js';
import { remediationDashboard } from './remediation.js';
import { siteDashboard } from './site.js';

/** file name (provisioning/dashboards/<name>.json) -> dashboard builder */
export const DASHBOARDS = {
  'optifiber-fleet': fleetDashboard,
  'optifiber-site': siteDashboard,
  'optifiber-remediation': remediationDashboard,
  'optifiber-exporter': exporterDashboard,
} as const;
