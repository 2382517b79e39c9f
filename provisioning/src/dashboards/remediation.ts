// Remediation service: actions by result, decisions, queue depth, MCP latency.
// Metrics: grafana-app-remediation/service/src/metrics.ts. The OptiFiberCapacityForecastHigh
// alert links here with ?var-site=<site> (capacity panels follow the variable).
import { BigValueColorMode, BigValueGraphMode, GraphDrawStyle, ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import { optifiberDashboard, promInstant, series, siteVariable, stackedBars, statPanel, type StatOptions } from '../common.js';
import { DASHBOARD_UIDS, PROMETHEUS } from '../ids.js';

const onOff = [{ type: 'value', options: { '0': { text: 'off', index: 0 }, '1': { text: 'ON', index: 1 } } }];

const remStat = (title: string, expr: string, steps: Array<[number | null, string]>, o: StatOptions = {}) =>
  statPanel(title, expr, 'none', steps, { noValue: 'service not scraped', ...o });

const latency = (q: string) =>
  `histogram_quantile(${q}, sum by (le, operation) (rate(optifiber_remediation_mcp_request_duration_seconds_bucket[$__rate_interval])))`;

export function remediationDashboard() {
  return optifiberDashboard(DASHBOARD_UIDS.remediation, 'OptiFiber / Remediation', 'The auto-remediation service: actions by result, policy decisions, queue depth, approvals and the latency of the MCP north-bound API.')
    .withVariable(siteVariable({ multi: true, includeAll: true }))
    .withRow(new RowBuilder('State'))
    .withPanel(remStat('Queue depth', 'optifiber_remediation_queue_depth', [[null, 'green'], [10, 'orange'], [100, 'red']]))
    .withPanel(remStat('Actions in flight', 'optifiber_remediation_actions_in_flight', [[null, 'blue']]))
    .withPanel(remStat('Pending approvals', 'optifiber_remediation_pending_approvals', [[null, 'green'], [1, 'orange']]))
    .withPanel(remStat('Kill switch', 'optifiber_remediation_kill_switch', [[null, 'green'], [1, 'red']], { mappings: onOff }))
    .withPanel(remStat('Dry run', 'optifiber_remediation_dry_run', [[null, 'green'], [1, 'orange']], { mappings: onOff }))
    .withPanel(remStat('Approval required', 'optifiber_remediation_approval_required', [[null, 'green'], [1, 'blue']], { mappings: onOff }))
    .withRow(new RowBuilder('Actions'))
    .withPanel(stackedBars(series('Actions by result', 'short', [['sum by (result) (increase(optifiber_remediation_actions_total[$__rate_interval]))', '{{result}}']])).min(0))
    .withPanel(
      new stat.PanelBuilder()
        .title('Actions by result (24 h)')
        .datasource({ ...PROMETHEUS })
        .withTarget(promInstant('A', 'sum by (result) (increase(optifiber_remediation_actions_total[24h]))', '{{result}}'))
        .unit('short')
        .decimals(0)
        .colorMode(BigValueColorMode.Value)
        .graphMode(BigValueGraphMode.None)
        .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
        .overrideByName('failed', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }])
        .overrideByName('succeeded', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'green' } }])
        .height(8)
        .span(12),
    )
    .withPanel(
      stackedBars(
        series('Decisions by decision and reason', 'short', [
          ['sum by (decision, reason) (increase(optifiber_remediation_decisions_total[$__rate_interval]))', '{{decision}} / {{reason}}'],
        ]),
      ).min(0),
    )
    .withPanel(
      series('Webhooks and alerts received', 'reqps', [
        ['sum by (result) (rate(optifiber_remediation_webhooks_total[$__rate_interval]))', 'webhook {{result}}'],
        ['sum by (status) (rate(optifiber_remediation_alerts_total[$__rate_interval]))', 'alerts {{status}}'],
      ]).min(0),
    )
    .withRow(new RowBuilder('Queue and latency'))
    .withPanel(
      series('Queue depth, in flight, pending approvals', 'short', [
        ['optifiber_remediation_queue_depth', 'queue depth'],
        ['optifiber_remediation_actions_in_flight', 'in flight'],
        ['optifiber_remediation_pending_approvals', 'pending approvals'],
      ]).min(0),
    )
    .withPanel(
      series('MCP request latency by operation', 's', [
        [latency('0.5'), 'p50 {{operation}}'],
        [latency('0.99'), 'p99 {{operation}}'],
      ]).min(0),
    )
    .withPanel(
      series('Webhook to first MCP request', 's', [
        ['histogram_quantile(0.5, sum by (le) (rate(optifiber_remediation_webhook_to_mcp_seconds_bucket[$__rate_interval])))', 'p50'],
        ['histogram_quantile(0.99, sum by (le) (rate(optifiber_remediation_webhook_to_mcp_seconds_bucket[$__rate_interval])))', 'p99'],
      ]).min(0),
    )
    .withPanel(
      series('MCP requests by outcome', 'reqps', [
        ['sum by (operation, outcome) (rate(optifiber_remediation_mcp_request_duration_seconds_count[$__rate_interval]))', '{{operation}} {{outcome}}'],
      ]).min(0),
    )
    .withPanel(
      series('Database group commit (fsync included)', 's', [
        ['histogram_quantile(0.99, sum by (le) (rate(optifiber_remediation_db_commit_duration_seconds_bucket[$__rate_interval])))', 'p99'],
      ]).min(0),
    )
    .withRow(new RowBuilder('Sites ($site)'))
    .withPanel(
      series('CMD modules', 'none', [
        ['optifiber_cmd_modules{site=~"$site"}', '{{site}}'],
        ['optifiber_cmd_modules_max{site=~"$site"}', '{{site}} max'],
      ]).min(0),
    )
    .withPanel(
      series('Capacity alerts firing', 'none', [['ALERTS{alertname="OptiFiberCapacityForecastHigh", alertstate="firing", site=~"$site"}', '{{site}}']])
        .drawStyle(GraphDrawStyle.Bars)
        .min(0),
    );
}
