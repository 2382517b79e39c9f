// Site detail ($site): throughput vs capacity with the p10–p90 forecast band,
// optics (OSNR, BER, power, Q), errors, anomaly score and its contributions.
// Alert rules link here with ?var-site=<site>.
import { BigValueColorMode, BigValueGraphMode, GraphDrawStyle, ReduceDataOptionsBuilder, ScaleDistribution, ScaleDistributionConfigBuilder, StackingConfigBuilder, StackingMode } from '@grafana/grafana-foundation-sdk/common';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { legendTable, OptiFiberQueryBuilder, optifiberDashboard, optifiberEvents, prom, promInstant, siteVariable, thresholds, tooltipMulti } from '../common.js';
import { DASHBOARD_UIDS, PROMETHEUS, TELEMETRY } from '../ids.js';

const S = 'site="$site"';

function series(title: string, unit: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder().title(title).datasource({ ...PROMETHEUS }).unit(unit).legend(legendTable()).tooltip(tooltipMulti()).height(8).span(12);
}

/** A dashed, unfilled line for alarm thresholds drawn as series. */
function thresholdStyle(name: string) {
  return {
    matcher: { id: 'byName', options: name },
    properties: [
      { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      { id: 'custom.fillOpacity', value: 0 },
      { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
    ],
  };
}

function siteStat(title: string, expr: string, unit: string, steps: Array<[number | null, string]>, mappings?: unknown[]): stat.PanelBuilder {
  let p = new stat.PanelBuilder()
    .title(title)
    .datasource({ ...PROMETHEUS })
    .withTarget(promInstant('A', expr))
    .unit(unit)
    .thresholds(thresholds(steps))
    .colorMode(BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.Area)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .height(4)
    .span(4);
  if (mappings) p = p.mappings(mappings as never);
  return p;
}

export function siteDashboard() {
  return optifiberDashboard(DASHBOARD_UIDS.site, 'OptiFiber / Site', 'One OptiFiber site: load against capacity with the 15-minute forecast band, optical health, errors and the anomaly model.')
    .withVariable(siteVariable({ multi: false, includeAll: false }))
    .annotation(optifiberEvents(['$site']))
    .withRow(new RowBuilder('Status'))
    .withPanel(
      siteStat('Link', `optifiber_link_up{${S}}`, 'none', [[null, 'red'], [1, 'green']], [
        { type: 'value', options: { '0': { text: 'DOWN', color: 'red', index: 0 }, '1': { text: 'UP', color: 'green', index: 1 } } },
      ]),
    )
    .withPanel(siteStat('Utilization', `site:optifiber_utilization:ratio{${S}}`, 'percentunit', [[null, 'green'], [0.75, 'orange'], [0.9, 'red']]))
    .withPanel(siteStat('Forecast p90 (+15 min)', `site:optifiber_forecast_utilization_p90:ratio{${S}}`, 'percentunit', [[null, 'green'], [0.75, 'orange'], [0.9, 'red']]))
    .withPanel(siteStat('Anomaly score', `optifiber_anomaly_score{${S}}`, 'none', [[null, 'green'], [0.5, 'orange'], [0.8, 'red']]))
    .withPanel(siteStat('CMD modules', `optifiber_cmd_modules{${S}}`, 'none', [[null, 'blue']]))
    .withPanel(siteStat('Free CMD modules', `site:optifiber_cmd_modules_free:count{${S}}`, 'none', [[null, 'red'], [1, 'green']]))
    .withRow(new RowBuilder('Traffic'))
    .withPanel(
      // The forecast series are what the model predicted 15 min earlier for
      // this instant (offset 15m), so the band lines up with the measured
      // throughput. The panel below shows the future trajectory.
      series('Throughput vs capacity (forecast band p10–p90)', 'Bps')
        .withTarget(prom('A', `optifiber_throughput_bytes_per_second{${S}}`, 'throughput'))
        .withTarget(prom('B', `optifiber_offered_load_bytes_per_second{${S}}`, 'offered load'))
        .withTarget(prom('C', `optifiber_capacity_bytes_per_second{${S}}`, 'capacity'))
        .withTarget(prom('D', `optifiber_forecast_throughput_bytes_per_second{${S},percentile="10"} offset 15m`, 'forecast p10'))
        .withTarget(prom('E', `optifiber_forecast_throughput_bytes_per_second{${S},percentile="50"} offset 15m`, 'forecast p50'))
        .withTarget(prom('F', `optifiber_forecast_throughput_bytes_per_second{${S},percentile="90"} offset 15m`, 'forecast p90'))
        .min(0)
        .fillOpacity(0)
        .overrideByName('capacity', [
          { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
        ])
        .overrideByName('forecast p90', [
          { id: 'custom.fillBelowTo', value: 'forecast p10' },
          { id: 'custom.fillOpacity', value: 20 },
          { id: 'custom.lineWidth', value: 0 },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'purple' } },
        ])
        .overrideByName('forecast p10', [
          { id: 'custom.lineWidth', value: 0 },
          { id: 'custom.hideFrom', value: { legend: true, tooltip: false, viz: false } },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'purple' } },
        ])
        .overrideByName('forecast p50', [
          { id: 'custom.lineStyle', value: { fill: 'dot', dash: [0, 10] } },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'purple' } },
        ])
        .span(16),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Forecast trajectory, next 15 min (OptiFiber datasource)')
        .description('Forecast mode of the OptiFiber datasource: the p10/p50/p90 trajectory with future timestamps.')
        .datasource({ ...TELEMETRY })
        .withTarget(new OptiFiberQueryBuilder('A', 'throughputBps', 'forecast', ['$site']))
        .unit('bps')
        .min(0)
        .timeFrom('30m')
        .legend(legendTable())
        .tooltip(tooltipMulti())
        .height(8)
        .span(8),
    )
    .withPanel(
      series('Utilization and forecast', 'percentunit')
        .withTarget(prom('A', `site:optifiber_utilization:ratio{${S}}`, 'utilization'))
        .withTarget(prom('B', `site:optifiber_forecast_utilization_p50:ratio{${S}}`, 'forecast p50 (+15 min)'))
        .withTarget(prom('C', `site:optifiber_forecast_utilization_p90:ratio{${S}}`, 'forecast p90 (+15 min)'))
        .withTarget(prom('D', `optifiber_utilization_high_threshold_ratio`, 'threshold'))
        .min(0)
        .max(1)
        .withOverride(thresholdStyle('threshold')),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Live throughput (OptiFiber datasource, live mode)')
        .description('Sub-second samples through the data-source proxy (long poll).')
        .datasource({ ...TELEMETRY })
        .withTarget(new OptiFiberQueryBuilder('A', 'throughputBps', 'live', ['$site']))
        .unit('bps')
        .min(0)
        .timeFrom('5m')
        .legend(legendTable())
        .tooltip(tooltipMulti())
        .height(8)
        .span(12),
    )
    .withRow(new RowBuilder('Optics'))
    .withPanel(
      series('OSNR', 'dB')
        .withTarget(prom('A', `optifiber_osnr_db{${S}}`, 'OSNR'))
        .withTarget(prom('B', 'optifiber_osnr_low_threshold_db', 'low threshold'))
        .withOverride(thresholdStyle('low threshold')),
    )
    .withPanel(
      series('Bit error ratio (pre/post FEC)', 'sci')
        .withTarget(prom('A', `optifiber_pre_fec_bit_error_ratio{${S}}`, 'pre-FEC BER'))
        .withTarget(prom('B', `optifiber_post_fec_bit_error_ratio{${S}}`, 'post-FEC BER'))
        .withTarget(prom('C', 'optifiber_pre_fec_ber_high_threshold_ratio', 'pre-FEC threshold'))
        .scaleDistribution(new ScaleDistributionConfigBuilder().type(ScaleDistribution.Log).log(10))
        .withOverride(thresholdStyle('pre-FEC threshold')),
    )
    .withPanel(
      series('Optical power', 'dBm')
        .withTarget(prom('A', `optifiber_rx_power_dbm{${S}}`, 'rx'))
        .withTarget(prom('B', `optifiber_tx_power_dbm{${S}}`, 'tx'))
        .withTarget(prom('C', 'optifiber_rx_power_low_threshold_dbm', 'rx low threshold'))
        .withTarget(prom('D', 'optifiber_rx_power_high_threshold_dbm', 'rx high threshold'))
        .withOverride(thresholdStyle('rx low threshold'))
        .withOverride(thresholdStyle('rx high threshold')),
    )
    .withPanel(series('Q factor', 'dB').withTarget(prom('A', `optifiber_q_factor_db{${S}}`, 'Q')))
    .withRow(new RowBuilder('Errors'))
    .withPanel(
      series('Errors', 'cps')
        .withTarget(prom('A', `site:optifiber_crc_errors:rate1m{${S}}`, 'CRC errors/s'))
        .withTarget(prom('B', `site:optifiber_fec_uncorrectable_blocks:rate1m{${S}}`, 'uncorrectable FEC blocks/s'))
        .withTarget(prom('C', `site:optifiber_loss_of_signal_events:increase5m{${S}}`, 'LOS events (5 min)')),
    )
    .withPanel(series('FEC corrected bits', 'bps').withTarget(prom('A', `site:optifiber_fec_corrected_bit_errors:rate1m{${S}}`, 'corrected bit errors/s')))
    .withRow(new RowBuilder('Anomaly model'))
    .withPanel(
      series('Anomaly score', 'none')
        .withTarget(prom('A', `optifiber_anomaly_score{${S}}`, 'score'))
        .withTarget(prom('B', 'optifiber_anomaly_score_threshold', 'threshold'))
        .min(0)
        .max(1)
        .thresholds(thresholds([[null, 'green'], [0.8, 'red']]))
        .withOverride(thresholdStyle('threshold')),
    )
    .withPanel(
      series('Anomaly contributions (top features)', 'none')
        .description('For a site scoring >= 0.5: the score each top feature reaches on its own above the all-normal score.')
        .withTarget(prom('A', `optifiber_anomaly_contribution{${S}}`, '{{feature}}'))
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(80)
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal).group('A'))
        .min(0),
    );
}
