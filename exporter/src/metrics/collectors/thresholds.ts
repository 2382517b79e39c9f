// Alarm thresholds from the configuration, per site, so alert rules compare
// against a series instead of a magic number:
//   optifiber_osnr_db < on(site) optifiber_osnr_low_threshold_db
import type { MetricDesc, Writer } from '../format.js';
import { ValueLines } from '../lines.js';
import type { CollectContext, Collector } from '../registry.js';
import type { Config } from '../../config/schema.js';

const T: { name: string; help: string; key: keyof Config['thresholds'] }[] = [
  { name: 'optifiber_osnr_low_threshold_db', help: 'Alarm when optifiber_osnr_db falls below this, dB (config thresholds.osnr_low_db).', key: 'osnr_low_db' },
  { name: 'optifiber_pre_fec_ber_high_threshold_ratio', help: 'Alarm when optifiber_pre_fec_bit_error_ratio rises above this (config thresholds.pre_fec_ber_high_ratio).', key: 'pre_fec_ber_high_ratio' },
  { name: 'optifiber_rx_power_low_threshold_dbm', help: 'Alarm when optifiber_rx_power_dbm falls below this, dBm (config thresholds.rx_power_low_dbm).', key: 'rx_power_low_dbm' },
  { name: 'optifiber_rx_power_high_threshold_dbm', help: 'Alarm when optifiber_rx_power_dbm rises above this, dBm (config thresholds.rx_power_high_dbm).', key: 'rx_power_high_dbm' },
  { name: 'optifiber_utilization_high_threshold_ratio', help: 'Alarm when throughput / capacity rises above this, 0..1 (config thresholds.utilization_high_ratio).', key: 'utilization_high_ratio' },
  { name: 'optifiber_anomaly_score_threshold', help: 'Anomaly score at and above which a site is anomalous, 0..1 (config thresholds.anomaly_score).', key: 'anomaly_score' },
];

export class ThresholdCollector implements Collector {
  readonly name = 'thresholds';
  private readonly lines = T.map((t) => new ValueLines(t.name));
  describe(): MetricDesc[] {
    return T.map((t) => ({ name: t.name, type: 'gauge', help: t.help, labels: ['site'] }));
  }
  collect(w: Writer, ctx: CollectContext): void {
    const sites = ctx.tick?.sites ?? [];
    if (sites.length === 0) return;
    const descs = this.describe();
    T.forEach((t, k) => {
      w.header(descs[k]!);
      const v = ctx.thresholds[t.key];
      w.raw(this.lines[k]!.render(sites.length, (i) => sites[i]!.sample.name, () => v));
    });
  }
}
