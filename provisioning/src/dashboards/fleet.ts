// Fleet overview: the site-health panel (gauges + anomaly heat-map) over
// plain Prometheus range queries, with fleet-wide PromQL stats above it.
import { PanelBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { dataLink, legendTable, optifiberDashboard, prom, SITE_LINK, statPanel, thresholds, tooltipMulti } from '../common.js';
import { DASHBOARD_UIDS, PANEL_PLUGIN_ID, PROMETHEUS } from '../ids.js';

/** One series per site, 0..1, clicking a series opens its site dashboard. */
function bySite(title: string, expr: string, unit: string | undefined, red: number): timeseries.PanelBuilder {
  let p = new timeseries.PanelBuilder()
    .title(title)
    .datasource({ ...PROMETHEUS })
    .dataLinks([dataLink('Open ${__field.labels.site}', SITE_LINK)])
    .withTarget(prom('A', expr, '{{site}}'));
  if (unit !== undefined) p = p.unit(unit);
  return p
    .min(0)
    .max(1)
    .thresholds(thresholds([[null, 'green'], [red, 'red']]))
    .legend(legendTable())
    .tooltip(tooltipMulti())
    .height(9)
    .span(12);
}

export function fleetDashboard() {
  return optifiberDashboard(DASHBOARD_UIDS.fleet, 'OptiFiber / Fleet overview', 'Every OptiFiber site at a glance: load against capacity, forecast, link state and anomalies. Click a site for its detail dashboard.')
    .withRow(new RowBuilder('Fleet'))
    .withPanel(statPanel('Sites', 'fleet:optifiber_sites:count', 'none', [[null, 'blue']]))
    .withPanel(statPanel('Links down', 'fleet:optifiber_links_down:count', 'none', [[null, 'green'], [1, 'red']]))
    .withPanel(statPanel('Anomalous sites', 'fleet:optifiber_sites_anomalous:count', 'none', [[null, 'green'], [1, 'orange']]))
    .withPanel(statPanel('Sites forecast > threshold', 'fleet:optifiber_sites_forecast_high:count', 'none', [[null, 'green'], [1, 'orange']]))
    .withPanel(statPanel('Fleet utilization', 'fleet:optifiber_utilization:ratio', 'percentunit', [[null, 'green'], [0.75, 'orange'], [0.9, 'red']]))
    .withPanel(statPanel('Busiest site utilization', 'fleet:optifiber_utilization:max', 'percentunit', [[null, 'green'], [0.75, 'orange'], [0.9, 'red']]))
    .withPanel(statPanel('Throughput', 'fleet:optifiber_throughput_bytes_per_second:sum', 'Bps', [[null, 'blue']], { span: 6 }))
    .withPanel(statPanel('Capacity', 'fleet:optifiber_capacity_bytes_per_second:sum', 'Bps', [[null, 'blue']], { span: 6 }))
    .withPanel(statPanel('CRC errors', 'fleet:optifiber_crc_errors:rate1m', 'cps', [[null, 'green'], [1, 'orange']], { span: 6 }))
    .withPanel(statPanel('Uncorrectable FEC blocks', 'fleet:optifiber_fec_uncorrectable_blocks:rate1m', 'cps', [[null, 'green'], [0.001, 'red']], { span: 6 }))
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
    .withPanel(bySite('Utilization by site', 'site:optifiber_utilization:ratio', 'percentunit', 0.9))
    .withPanel(bySite('Anomaly score by site', 'optifiber_anomaly_score', undefined, 0.8));
}
