// Site detail ($site): throughput vs capacity with the p10–p90 forecast band,
// optics (OSNR, BER, power, Q), errors, anomaly score and its contributions.
// Alert rules link here with ?var-site=<site>.
import { BigValueGraphMode, ScaleDistribution, ScaleDistributionConfigBuilder } from '@grafana/grafana-foundation-sdk/common';
import { type DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { legendTable, OptiFiberQueryBuilder, optifiberDashboard, optifiberEvents, prom, series, siteVariable, stackedBars, statPanel, thresholds, tooltipMulti, UP_DOWN, type OptiFiberQuery } from '../common.js';
import { DASHBOARD_UIDS, TELEMETRY } from '../ids.js';

const S = 'site="$site"';

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

const siteStat = (title: string, expr: string, unit: string, steps: Array<[number | null, string]>, mappings?: unknown[]) =>
  statPanel(title, expr, unit, steps, { graphMode: BigValueGraphMode.Area, mappings });

/** Throughput of $site through the OptiFiber datasource (forecast or live mode). */
function telemetry(title: string, description: string, mode: OptiFiberQuery['mode'], timeFrom: string, span: number): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource({ ...TELEMETRY })
    .withTarget(new OptiFiberQueryBuilder('A', 'throughputBps', mode, ['$site']))
    .unit('bps')
    .min(0)
    .timeFrom(timeFrom)
    .legend(legendTable())
    .tooltip(tooltipMulti())
    .height(8)
    .span(span);
}

type Group = (d: DashboardBuilder) => DashboardBuilder;

const statusGroup: Group = (d) =>
  d
    .withRow(new RowBuilder('Status'))
    .withPanel(
      siteStat('Link', `optifiber_link_up{${S}}`, 'none', [[null, 'red'], [1, 'green']], UP_DOWN),
    )
    .withPanel(siteStat('Utilization', `site:optifiber_utilization:ratio{${S}}`, 'percentunit', [[null, 'green'], [0.75, 'orange'], [0.9, 'red']]))
    .withPanel(siteStat('Forecast p90 (+15 min)', `site:optifiber_forecast_utilization_p90:ratio{${S}}`, 'percentunit', [[null, 'green'], [0.75, 'orange'], [0.9, 'red']]))
    .withPanel(siteStat('Anomaly score', `optifiber_anomaly_score{${S}}`, 'none', [[null, 'green'], [0.5, 'orange'], [0.8, 'red']]))
    .withPanel(siteStat('CMD modules', `optifiber_cmd_modules{${S}}`, 'none', [[null, 'blue']]))
    .withPanel(siteStat('Free CMD modules', `site:optifiber_cmd_modules_free:count{${S}}`, 'none', [[null, 'red'], [1, 'green']]));

/**
 * The forecast series are what the model predicted 15 min earlier for
 * this instant (offset 15m), so the band lines up with the measured
 * throughput. The trajectory panel next to it shows the future.
 */
function throughputVsCapacity() {
  return series('Throughput vs capacity (forecast band p10–p90)', 'Bps', [
    [`optifiber_throughput_bytes_per_second{${S}}`, 'throughput'],
    [`optifiber_offered_load_bytes_per_second{${S}}`, 'offered load'],
    [`optifiber_capacity_bytes_per_second{${S}}`, 'capacity'],
    [`optifiber_forecast_throughput_bytes_per_second{${S},percentile="10"} offset 15m`, 'forecast p10'],
    [`optifiber_forecast_throughput_bytes_per_second{${S},percentile="50"} offset 15m`, 'forecast p50'],
    [`optifiber_forecast_throughput_bytes_per_second{${S},percentile="90"} offset 15m`, 'forecast p90'],
  ])
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
    .span(16);
}

const trafficGroup: Group = (d) =>
  d
    .withRow(new RowBuilder('Traffic'))
    .withPanel(throughputVsCapacity())
    .withPanel(
      telemetry(
        'Forecast trajectory, next 15 min (OptiFiber datasource)',
        'Forecast mode of the OptiFiber datasource: the p10/p50/p90 trajectory with future timestamps.',
        'forecast',
        '30m',
        8,
      ),
    )
    .withPanel(
      series('Utilization and forecast', 'percentunit', [
        [`site:optifiber_utilization:ratio{${S}}`, 'utilization'],
        [`site:optifiber_forecast_utilization_p50:ratio{${S}}`, 'forecast p50 (+15 min)'],
        [`site:optifiber_forecast_utilization_p90:ratio{${S}}`, 'forecast p90 (+15 min)'],
        [`optifiber_utilization_high_threshold_ratio`, 'threshold'],
      ])
        .min(0)
        .max(1)
        .withOverride(thresholdStyle('threshold')),
    )
    .withPanel(telemetry('Live throughput (OptiFiber datasource, live mode)', 'Sub-second samples through the data-source proxy (long poll).', 'live', '5m', 12));

const opticsGroup: Group = (d) =>
  d
    .withRow(new RowBuilder('Optics'))
    .withPanel(
      series('OSNR', 'dB', [
        [`optifiber_osnr_db{${S}}`, 'OSNR'],
        ['optifiber_osnr_low_threshold_db', 'low threshold'],
      ])
        .withOverride(thresholdStyle('low threshold')),
    )
    .withPanel(
      series('Bit error ratio (pre/post FEC)', 'sci', [
        [`optifiber_pre_fec_bit_error_ratio{${S}}`, 'pre-FEC BER'],
        [`optifiber_post_fec_bit_error_ratio{${S}}`, 'post-FEC BER'],
        ['optifiber_pre_fec_ber_high_threshold_ratio', 'pre-FEC threshold'],
      ])
        .scaleDistribution(new ScaleDistributionConfigBuilder().type(ScaleDistribution.Log).log(10))
        .withOverride(thresholdStyle('pre-FEC threshold')),
    )
    .withPanel(
      series('Optical power', 'dBm', [
        [`optifiber_rx_power_dbm{${S}}`, 'rx'],
        [`optifiber_tx_power_dbm{${S}}`, 'tx'],
        ['optifiber_rx_power_low_threshold_dbm', 'rx low threshold'],
        ['optifiber_rx_power_high_threshold_dbm', 'rx high threshold'],
      ])
        .withOverride(thresholdStyle('rx low threshold'))
        .withOverride(thresholdStyle('rx high threshold')),
    )
    .withPanel(series('Q factor', 'dB', [[`optifiber_q_factor_db{${S}}`, 'Q']]));

const errorsGroup: Group = (d) =>
  d
    .withRow(new RowBuilder('Errors'))
    .withPanel(
      series('Errors', 'cps', [
        [`site:optifiber_crc_errors:rate1m{${S}}`, 'CRC errors/s'],
        [`site:optifiber_fec_uncorrectable_blocks:rate1m{${S}}`, 'uncorrectable FEC blocks/s'],
        [`site:optifiber_loss_of_signal_events:increase5m{${S}}`, 'LOS events (5 min)'],
      ]),
    )
    .withPanel(series('FEC corrected bits', 'bps', [[`site:optifiber_fec_corrected_bit_errors:rate1m{${S}}`, 'corrected bit errors/s']]));

const anomalyGroup: Group = (d) =>
  d
    .withRow(new RowBuilder('Anomaly model'))
    .withPanel(
      series('Anomaly score', 'none', [
        [`optifiber_anomaly_score{${S}}`, 'score'],
        ['optifiber_anomaly_score_threshold', 'threshold'],
      ])
        .min(0)
        .max(1)
        .thresholds(thresholds([[null, 'green'], [0.8, 'red']]))
        .withOverride(thresholdStyle('threshold')),
    )
    .withPanel(
      stackedBars(
        series('Anomaly contributions (top features)', 'none')
          .description('For a site scoring >= 0.5: the score each top feature reaches on its own above the all-normal score.')
          .withTarget(prom('A', `optifiber_anomaly_contribution{${S}}`, '{{feature}}')),
      ).min(0),
    );

export function siteDashboard() {
  const d = optifiberDashboard(DASHBOARD_UIDS.site, 'OptiFiber / Site', 'One OptiFiber site: load against capacity with the 15-minute forecast band, optical health, errors and the anomaly model.')
    .withVariable(siteVariable({ multi: false, includeAll: false }))
    .annotation(optifiberEvents(['$site']));
  // Rows in display order: Grafana lays panels out in the order they are added.
  return [statusGroup, trafficGroup, opticsGroup, errorsGroup, anomalyGroup].reduce((acc, group) => group(acc), d);
}
