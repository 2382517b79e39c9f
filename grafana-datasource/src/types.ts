// Query, settings and exporter API types of the OptiFiber data source.
import type { DataQuery, DataSourceJsonData } from '@grafana/data';

export type QueryMode = 'history' | 'live' | 'forecast' | 'events';
export const QUERY_MODES: QueryMode[] = ['history', 'live', 'forecast', 'events'];

export type MetricId =
  | 'utilization'
  | 'throughputBps'
  | 'offeredBps'
  | 'capacityBps'
  | 'linkUp'
  | 'anomalyScore'
  | 'osnrDb'
  | 'qFactorDb'
  | 'preFecBer'
  | 'postFecBer'
  | 'rxPowerDbm'
  | 'txPowerDbm'
  | 'temperatureCelsius'
  | 'crcErrorsPerSecond'
  | 'cmdModules';

export interface OptiFiberQuery extends DataQuery {
  /** Site names; may contain template variables ($site); empty = all sites. */
  sites: string[];
  metric: MetricId;
  mode: QueryMode;
  /** History step (seconds or a duration such as 30s); empty = derived from the panel interval. */
  step?: string;
}

export type AuthType = 'none' | 'bearer' | 'basic';

export interface OptiFiberOptions extends DataSourceJsonData {
  /** Exporter base URL as Grafana's server reaches it, e.g. http://127.0.0.1:9886 */
  url?: string;
  authType?: AuthType;
  /** Long-poll hold time in seconds (below Grafana's data proxy timeout, 30 s by default). */
  pollTimeoutSeconds?: number;
}

/** Never sent to the browser: Grafana only reports which keys are set. */
export interface OptiFiberSecureJsonData {
  token?: string;
}

// ---- exporter API (docs/openapi.yaml) ----
export type LinkState = 'down' | 'up' | 'degraded' | 'unknown';

export interface Quantiles { p10: number; p50: number; p90: number }
export interface Inference {
  anomalyScore?: number;
  contributions?: Array<{ feature: string; value: number }>;
  forecast?: { horizonSeconds: number; throughputBps: Quantiles; utilization: Quantiles };
}
export interface Rates {
  bytesPerSecond: number;
  crcErrorsPerSecond: number;
  fecCorrectedBitsPerSecond: number;
  fecUncorrectableBlocksPerSecond: number;
  losEventsPerSecond: number;
}
export interface Site {
  index: number;
  name: string;
  sampleSeq: number;
  updateTimeMs: number;
  throughputBps: number;
  offeredBps: number;
  capacityBps: number;
  cmdModules: number;
  cmdModulesMax: number;
  linkState: LinkState;
  preFecBer: number;
  postFecBer: number;
  osnrDb: number;
  qFactorDb: number;
  rxPowerDbm: number;
  txPowerDbm: number;
  temperatureCelsius: number;
  fault: string;
  faultsTotal: number;
  rates: Rates | null;
  utilization: number;
  inference: Inference;
  [k: string]: unknown;
}
export interface TickEvent { seq: number; takenAt: string; takenAtMs: number; sites: Site[] }
export interface Snapshot extends TickEvent { source: { kind: string; up: boolean }; invalid: unknown[] }
export interface SitesResponse {
  seq: number;
  takenAt: string;
  source: { kind: string; up: boolean };
  sites: Array<{ name?: string; index: number; valid: boolean; linkState?: LinkState; fault?: string; capacityBps?: number }>;
}
export interface HistoryPoint { seq: number; takenAt: string; takenAtMs: number; site: Site }
export interface HistoryResponse { site: string; from: string; to: string; stepSeconds: number; points: HistoryPoint[] }
export interface PollResponse { lastSeq: number; gap: boolean; ticks: TickEvent[] }
