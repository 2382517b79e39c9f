// Exporter health: scrape status, source, tick and scrape latency, collectors,
// page validity and sample age per site, models, process resources.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { optifiberDashboard, series, siteVariable, statPanel, thresholds, UP_DOWN } from '../common.js';
import { DASHBOARD_UIDS } from '../ids.js';

export function exporterDashboard() {
  return optifiberDashboard(DASHBOARD_UIDS.exporter, 'OptiFiber / Exporter health', 'The optifiber exporter itself: is it scraped, is its source readable, are the pages valid and fresh, how long ticks and scrapes take, are the models loaded.')
    .withVariable(siteVariable({ multi: true, includeAll: true }))
    .withRow(new RowBuilder('Status'))
    .withPanel(statPanel('Scrape', 'min(up{job="optifiber"})', 'none', [[null, 'red'], [1, 'green']], { mappings: UP_DOWN }))
    .withPanel(statPanel('Source', 'min(optifiber_source_up)', 'none', [[null, 'red'], [1, 'green']], { mappings: UP_DOWN }))
    .withPanel(statPanel('Sites', 'sum(optifiber_sites)', 'none', [[null, 'blue']]))
    .withPanel(statPanel('Invalid pages', 'count(optifiber_site_page_valid == 0) or vector(0)', 'none', [[null, 'green'], [1, 'red']]))
    .withPanel(statPanel('Oldest sample', 'max(time() - optifiber_last_sample_timestamp_seconds)', 's', [[null, 'green'], [5, 'orange'], [30, 'red']]))
    .withPanel(statPanel('Models down', 'count(optifiber_model_up == 0) or vector(0)', 'none', [[null, 'green'], [1, 'red']]))
    .withRow(new RowBuilder('Latency'))
    .withPanel(
      series('Tick duration', 's', [
        ['histogram_quantile(0.5, sum by (le) (rate(optifiber_tick_duration_seconds_bucket[$__rate_interval])))', 'p50'],
        ['histogram_quantile(0.99, sum by (le) (rate(optifiber_tick_duration_seconds_bucket[$__rate_interval])))', 'p99'],
      ]).min(0),
    )
    .withPanel(
      series('Scrape duration', 's', [
        ['histogram_quantile(0.99, sum by (le) (rate(optifiber_scrape_duration_seconds_bucket[$__rate_interval])))', 'exporter p99'],
        ['scrape_duration_seconds{job="optifiber"}', 'Prometheus-side'],
      ]).min(0),
    )
    .withPanel(series('Collector duration', 's', [['optifiber_scrape_collector_duration_seconds', '{{collector}}']]).min(0))
    .withPanel(series('Collector success', 'none', [['optifiber_scrape_collector_success', '{{collector}}']]).min(0).max(1))
    .withRow(new RowBuilder('Source and pages ($site)'))
    .withPanel(
      series('Source read retries and torn reads', 'cps', [
        ['rate(optifiber_source_read_retries_total[$__rate_interval])', 'read retries'],
        ['rate(optifiber_source_torn_reads_total[$__rate_interval])', 'torn reads'],
      ]).min(0),
    )
    .withPanel(series('Sample age per site', 's', [['time() - optifiber_site_sample_timestamp_seconds{site=~"$site"}', '{{site}}']]).thresholds(thresholds([[null, 'green'], [30, 'red']])).min(0))
    .withPanel(series('Page valid per site', 'none', [['optifiber_site_page_valid{site=~"$site"}', '{{site}}']]).min(0).max(1))
    .withPanel(series('Models loaded', 'none', [['optifiber_model_up', '{{model}}']]).min(0).max(1))
    .withRow(new RowBuilder('Process'))
    .withPanel(series('Resident memory', 'bytes', [
      ['process_resident_memory_bytes{job="optifiber"}', 'RSS'],
      ['process_heap_bytes{job="optifiber"}', 'heap'],
    ]).min(0))
    .withPanel(series('CPU', 'percentunit', [['rate(process_cpu_seconds_total{job="optifiber"}[$__rate_interval])', 'CPU']]).min(0));
}
