// The metric catalog: how each query metric is read from an exporter Site,
// with its Grafana unit and display name.
import type { MetricId, Site } from './types.js';

export interface MetricDef {
  id: MetricId;
  label: string;
  /** Grafana unit id (bps = bits/s, percentunit = 0..1) */
  unit: string;
  min?: number;
  max?: number;
  /** Prometheus series with the same meaning (for docs and the panel). */
  prometheus: string;
  read: (s: Site) => number | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export const METRICS: MetricDef[] = [
  { id: 'utilization', label: 'Utilization', unit: 'percentunit', min: 0, max: 1, prometheus: 'site:optifiber_utilization:ratio', read: (s) => num(s.utilization) },
  { id: 'throughputBps', label: 'Throughput', unit: 'bps', min: 0, prometheus: 'optifiber_throughput_bytes_per_second * 8', read: (s) => num(s.throughputBps) },
  { id: 'offeredBps', label: 'Offered load', unit: 'bps', min: 0, prometheus: 'optifiber_offered_load_bytes_per_second * 8', read: (s) => num(s.offeredBps) },
  { id: 'capacityBps', label: 'Capacity', unit: 'bps', min: 0, prometheus: 'optifiber_capacity_bytes_per_second * 8', read: (s) => num(s.capacityBps) },
  { id: 'linkUp', label: 'Link up', unit: 'bool_on_off', min: 0, max: 1, prometheus: 'optifiber_link_up', read: (s) => (s.linkState === 'unknown' ? null : s.linkState === 'down' ? 0 : 1) },
  { id: 'anomalyScore', label: 'Anomaly score', unit: 'none', min: 0, max: 1, prometheus: 'optifiber_anomaly_score', read: (s) => num(s.inference?.anomalyScore) },
  { id: 'osnrDb', label: 'OSNR', unit: 'dB', prometheus: 'optifiber_osnr_db', read: (s) => num(s.osnrDb) },
  { id: 'qFactorDb', label: 'Q factor', unit: 'dB', prometheus: 'optifiber_q_factor_db', read: (s) => num(s.qFactorDb) },
  { id: 'preFecBer', label: 'Pre-FEC BER', unit: 'sci', prometheus: 'optifiber_pre_fec_bit_error_ratio', read: (s) => num(s.preFecBer) },
  { id: 'postFecBer', label: 'Post-FEC BER', unit: 'sci', prometheus: 'optifiber_post_fec_bit_error_ratio', read: (s) => num(s.postFecBer) },
  { id: 'rxPowerDbm', label: 'Rx power', unit: 'dBm', prometheus: 'optifiber_rx_power_dbm', read: (s) => num(s.rxPowerDbm) },
  { id: 'txPowerDbm', label: 'Tx power', unit: 'dBm', prometheus: 'optifiber_tx_power_dbm', read: (s) => num(s.txPowerDbm) },
  { id: 'temperatureCelsius', label: 'Module temperature', unit: 'celsius', prometheus: 'optifiber_module_temperature_celsius', read: (s) => num(s.temperatureCelsius) },
  { id: 'crcErrorsPerSecond', label: 'CRC errors', unit: 'cps', min: 0, prometheus: 'rate(optifiber_crc_errors_total[1m])', read: (s) => num(s.rates?.crcErrorsPerSecond) },
  { id: 'cmdModules', label: 'CMD modules', unit: 'none', min: 0, prometheus: 'optifiber_cmd_modules', read: (s) => num(s.cmdModules) },
];

const BY_ID = new Map(METRICS.map((m) => [m.id, m]));
export function getMetric(id: string): MetricDef | undefined {
  return BY_ID.get(id as MetricId);
}
/** Metrics that have a forecast (the exporter forecasts throughput and utilization). */
export const FORECAST_METRICS: MetricId[] = ['utilization', 'throughputBps'];
