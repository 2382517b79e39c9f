// Fleet overview: the site-health panel (gauges + anomaly heat-map) over
// plain Prometheus range queries, with fleet-wide PromQL stats above it.
import { BigValueColorMode, BigValueGraphMode, ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { PanelBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { dataLink, legendTable, optifiberDashboard, prom, promInstant, SITE_LINK, thresholds, tooltipMulti } from '../common.js';
import { DASHBOARD_UIDS, PANEL_PLUGIN_ID, PROMETHEUS } from '../ids.js';

function fleetStat(title: string, expr: string, unit: string, steps: Array<[number | null, string]>, w = 4): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .datasource({ ...PROMETHEUS })
    .withTarget(promInstant('A', expr))
    .unit(unit)
    .thresholds(thresholds(steps))
    .colorMode(BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.None)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .height(4)
    .span(w);
}

export function fleetDashboard() {
  return optifiberDashboard(DASHBOARD_UIDS.fleet, 'OptiFiber / Fleet overview', 'Every OptiFiber site at a glance: load against capacity, forecast, link state and anomalies. Click a site for its detail dashboard.')
    .withRow(new RowBuilder('Fleet'))
    .withPanel(fleetStat('Sites', 'fleet:optifiber_sites:count', 'none', [[null, 'blue']]))
    .withPanel(fleetStat('Links down', 'fleet:optifiber_links_down:count', 'none', [[null, 'green'], [1, 'red']]))
    .withPanel(fleetStat('Anomalous sites', 'fleet:optifiber_sites_anomalous:count', 'none', [[null, 'green'], [1, 'orange']]))
    .withPanel(fleetStat('Sites forecast > threshold', 'fleet:optifiber_sites_forecast_high:count', 'none', [[null, 'green'], [1, 'orange']]))
    .withPanel(fleetStat('Fleet utilization', 'fleet:optifiber_utilization:ratio', 'percentunit', [[null, 'green'], [0.75, 'orange'], [0.9, 'red']]))
    .withPanel(fleetStat('Busiest site utilization', 'fleet:optifiber_utilization:max', 'percentunit', [[null, 'green'], [0.75, 'orange'], [0.9, 'red']]))
    .withPanel(fleetStat('Throughput', 'fleet:optifiber_throughput_bytes_per_second:sum', 'Bps', [[null, 'blue']], 6))
    .withPanel(fleetStat('Capacity', 'fleet:optifiber_capacity_bytes_per_second:sum', 'Bps', [[null, 'blue']], 6))
    .withPanel(fleetStat('CRC errors', 'fleet:optifiber_crc_errors:rate1m', 'cps', [[null, 'green'], [1, 'orange']], 6))
    .withPanel(fleetStat('Uncorrectable FEC blocks', 'fleet:optifiber_fec_uncorrectable_blocks:rate1m', 'cps', [[null, 'green'], [0.001, 'red']], 6))
    .withRow(new RowBuilder('Sites'))
    .withPanel(
      // The panel recognises each series' role by metric name / refId and
      // groups series by their `site` label (grafana-panel-heatmap/src/roles.ts).
      new PanelBuilder()
        .type(PANEL_PLUGIN_ID)
        .title('Site health')
        .description('Gauge per site (utilization vs capacity, forecast marker, link state, anomaly badge) above the anomaly heat-map (rows = sites). Click a site to open its dashboard.')
        .datasource({ ...PROMETHEUS })
        .withTarget(prom('utilization', 'site:optifiber_utilization:ratio', '{{site}}'))
        .withTarget(prom('link_up', 'optifiber_link_up', '{{site}}'))
        .withTarget(prom('anomaly', 'optifiber_anomaly_score', '{{site}}'))
        .withTarget(prom('forecast', 'optifiber_forecast_utilization_ratio', '{{site}} p{{percentile}}'))
        .withTarget(prom('contribution', 'optifiber_anomaly_contribution', '{{site}} {{feature}}'))
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(thresholds([[null, 'green'], [0.8, 'red']]))
        .options({
          siteUrl: `/d/${DASHBOARD_UIDS.site}?var-site=\${site}&\${__url_time_range}`,
          buckets: 0,
          rowHeight: 16,
          showGauges: true,
          gaugeShare: 0.45,
          topContributions: 3,
        })
        .height(18)
        .span(24),
    )
    .withRow(new RowBuilder('Trends'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Utilization by site')
        .datasource({ ...PROMETHEUS })
        .dataLinks([dataLink('Open ${__field.labels.site}', SITE_LINK)])
        .withTarget(prom('A', 'site:optifiber_utilization:ratio', '{{site}}'))
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(thresholds([[null, 'green'], [0.9, 'red']]))
        .legend(legendTable())
        .tooltip(tooltipMulti())
        .height(9)
        .span(12),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Anomaly score by site')
        .datasource({ ...PROMETHEUS })
        .dataLinks([dataLink('Open ${__field.labels.site}', SITE_LINK)])
        .withTarget(prom('A', 'optifiber_anomaly_score', '{{site}}'))
        .min(0)
        .max(1)
        .thresholds(thresholds([[null, 'green'], [0.8, 'red']]))
        .legend(legendTable())
        .tooltip(tooltipMulti())
        .height(9)
        .span(12),
    );
}
