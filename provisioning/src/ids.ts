// Identifiers shared by provisioning/, the dashboards, docker-compose.yml and
// the plugins. The tests check each against its source of truth
// (provisioning YAML, grafana-*/src/plugin.json, docker-compose.yml).

/** Datasource uids (provisioning/datasources/optifiber.yaml). */
export const PROMETHEUS_UID = 'optifiber-prometheus';
export const TELEMETRY_UID = 'optifiber-telemetry';
/** The fleet metrics store every edge Prometheus remote_writes to (docs/deploy-fleet.md). */
export const FLEET_METRICS_UID = 'optifiber-fleet-metrics';

// Plugin ids (the "id" of each grafana-<plugin>/src/plugin.json).
export const DATASOURCE_PLUGIN_ID = 'optifiber-telemetry-datasource';
export const PANEL_PLUGIN_ID = 'optifiber-sitehealth-panel';
export const APP_PLUGIN_ID = 'optifiber-remediation-app';

/** Dashboard uids: alert rules link to /d/<uid>?var-site=... */
export const DASHBOARD_UIDS = {
  fleet: 'optifiber-fleet',
  site: 'optifiber-site',
  remediation: 'optifiber-remediation',
  exporter: 'optifiber-exporter',
} as const;

export const PROMETHEUS = { type: 'prometheus', uid: PROMETHEUS_UID } as const;
export const TELEMETRY = { type: DATASOURCE_PLUGIN_ID, uid: TELEMETRY_UID } as const;
