// Exporter health: scrape status, source, tick and scrape latency, collectors,
// page validity and sample age per site, models, process resources.
import { BigValueColorMode, BigValueGraphMode, ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { legendTable, optifiberDashboard, prom, promInstant, siteVariable, thresholds, tooltipMulti } from '../common.js';
import { DASHBOARD_UIDS, PROMETHEUS } from '../ids.js';

const upDown = [{ type: 'value', options: { '0': { text: 'DOWN', color: 'red', index: 0 }, '1': { text: 'UP', color: 'green', index: 1 } } }];

function expStat(title: string, expr: string, unit: string, steps: Array<[number | null, string]>, mappings?: unknown[]): stat.PanelBuilder {
  let p = new stat.PanelBuilder()
    .title(title)
    .datasource({ ...PROMETHEUS })
    .withTarget(promInstant('A', expr))
    .unit(unit)
    .thresholds(thresholds(steps))
    .colorMode(BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.None)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .height(4)
    .span(4);
  if (mappings) p = p.mappings(mappings as never);
  return p;
}

function series(title: string, unit: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder().title(title).datasource({ ...PROMETHEUS }).unit(unit).legend(legendTable()).tooltip(tooltipMulti()).height(8).span(12);
}

export function exporterDashboard() {
  return optifiberDashboard(DASHBOARD_UIDS.exporter, 'OptiFiber / Exporter health', 'The optifiber exporter itself: is it scraped, is its source readable, are the pages valid and fresh, how long ticks and scrapes take, are the models loaded.')
    .withVariable(siteVariable({ multi: true, includeAll: true }))
    .withRow(new RowBuilder('Status'))
    .withPanel(expStat('Scrape', 'min(up{job="optifiber"})', 'none', [[null, 'red'], [1, 'green']], upDown))
    .withPanel(expStat('Source', 'min(optifiber_source_up)', 'none', [[null, 'red'], [1, 'green']], upDown))
    .withPanel(expStat('Sites', 'sum(optifiber_sites)', 'none', [[null, 'blue']]))
    .withPanel(expStat('Invalid pages', 'count(optifiber_site_page_valid == 0) or vector(0)', 'none', [[null, 'green'], [1, 'red']]))
    .withPanel(expStat('Oldest sample', 'max(time() - optifiber_last_sample_timestamp_seconds)', 's', [[null, 'green'], [5, 'orange'], [30, 'red']]))
    .withPanel(expStat('Models down', 'count(optifiber_model_up == 0) or vector(0)', 'none', [[null, 'green'], [1, 'red']]))
    .withRow(new RowBuilder('Latency'))
    .withPanel(
      series('Tick duration', 's')
        .withTarget(prom('A', 'histogram_quantile(0.5, sum by (le) (rate(optifiber_tick_duration_seconds_bucket[$__rate_interval])))', 'p50'))
        .withTarget(prom('B', 'histogram_quantile(0.99, sum by (le) (rate(optifiber_tick_duration_seconds_bucket[$__rate_interval])))', 'p99'))
        .min(0),
    )
    .withPanel(
      series('Scrape duration', 's')
        .withTarget(prom('A', 'histogram_quantile(0.99, sum by (le) (rate(optifiber_scrape_duration_seconds_bucket[$__rate_interval])))', 'exporter p99'))
        .withTarget(prom('B', 'scrape_duration_seconds{job="optifiber"}', 'Prometheus-side'))
        .min(0),
    )
    .withPanel(
      series('Collector duration', 's')
        .withTarget(prom('A', 'optifiber_scrape_collector_duration_seconds', '{{collector}}'))
        .min(0),
    )
    .withPanel(
      series('Collector success', 'none')
        .withTarget(prom('A', 'optifiber_scrape_collector_success', '{{collector}}'))
        .min(0)
        .max(1),
    )
    .withRow(new RowBuilder('Source and pages ($site)'))
    .withPanel(
      series('Source read retries and torn reads', 'cps')
        .withTarget(prom('A', 'rate(optifiber_source_read_retries_total[$__rate_interval])', 'read retries'))
        .withTarget(prom('B', 'rate(optifiber_source_torn_reads_total[$__rate_interval])', 'torn reads'))
        .min(0),
    )
    .withPanel(
      series('Sample age per site', 's')
        .withTarget(prom('A', 'time() - optifiber_site_sample_timestamp_seconds{site=~"$site"}', '{{site}}'))
        .thresholds(thresholds([[null, 'green'], [30, 'red']]))
        .min(0),
    )
    .withPanel(
      series('Page valid per site', 'none')
        .withTarget(prom('A', 'optifiber_site_page_valid{site=~"$site"}', '{{site}}'))
        .min(0)
        .max(1),
    )
    .withPanel(
      series('Models loaded', 'none')
        .withTarget(prom('A', 'optifiber_model_up', '{{model}}'))
        .min(0)
        .max(1),
    )
    .withRow(new RowBuilder('Process'))
    .withPanel(series('Resident memory', 'bytes').withTarget(prom('A', 'process_resident_memory_bytes{job="optifiber"}', 'RSS')).withTarget(prom('B', 'process_heap_bytes{job="optifiber"}', 'heap')).min(0))
    .withPanel(series('CPU', 'percentunit').withTarget(prom('A', 'rate(process_cpu_seconds_total{job="optifiber"}[$__rate_interval])', 'CPU')).min(0));
}
