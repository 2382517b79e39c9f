// Small helpers over @grafana/grafana-foundation-sdk shared by the dashboards.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DashboardLink } from '@grafana/grafana-foundation-sdk/dashboard';
import { AnnotationQueryBuilder, DashboardBuilder, DashboardCursorSync, DashboardLinkBuilder, DashboardLinkType, QueryVariableBuilder, ThresholdsConfigBuilder, ThresholdsMode, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  BigValueColorMode,
  BigValueGraphMode,
  GraphDrawStyle,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DASHBOARD_UIDS, PROMETHEUS, TELEMETRY } from './ids.js';

/** A PromQL target on the provisioned Prometheus. */
export function prom(refId: string, expr: string, legend?: string): DataqueryBuilder {
  const q = new DataqueryBuilder().datasource({ ...PROMETHEUS }).refId(refId).expr(expr).range();
  return legend === undefined ? q : q.legendFormat(legend);
}

/** An instant PromQL target (stats, tables). */
export function promInstant(refId: string, expr: string, legend?: string): DataqueryBuilder {
  const q = new DataqueryBuilder().datasource({ ...PROMETHEUS }).refId(refId).expr(expr).instant();
  return legend === undefined ? q : q.legendFormat(legend);
}

/**
 * Query of the OptiFiber datasource plugin (grafana-datasource/src/types.ts
 * OptiFiberQuery). The SDK ships builders for core datasources only; its
 * README's documented extension point is a cog Dataquery variant like this.
 */
export interface OptiFiberQuery {
  refId?: string;
  hide?: boolean;
  datasource?: { type: string; uid: string };
  sites: string[];
  metric: string;
  mode: 'history' | 'live' | 'forecast' | 'events';
  step?: string;
  _implementsDataqueryVariant(): void;
}

export class OptiFiberQueryBuilder implements Builder<Dataquery> {
  private readonly internal: OptiFiberQuery;
  constructor(refId: string, metric: string, mode: OptiFiberQuery['mode'], sites: string[]) {
    this.internal = { refId, datasource: { ...TELEMETRY }, sites, metric, mode, _implementsDataqueryVariant() {} };
  }
  build(): OptiFiberQuery {
    return this.internal;
  }
}

export function thresholds(steps: Array<[number | null, string]>): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps.map(([value, color]) => ({ value, color })));
}

export function legendTable(): VizLegendOptionsBuilder {
  return new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Bottom).showLegend(true).calcs(['lastNotNull', 'max']);
}

export function legendList(): VizLegendOptionsBuilder {
  return new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).showLegend(true).calcs([]);
}

export function tooltipMulti(): VizTooltipOptionsBuilder {
  return new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending);
}

/** Value mapping of a 0/1 state as DOWN (red) / UP (green). */
export const UP_DOWN = [{ type: 'value', options: { '0': { text: 'DOWN', color: 'red', index: 0 }, '1': { text: 'UP', color: 'green', index: 1 } } }];

export interface StatOptions {
  /** Value mappings, e.g. UP_DOWN. */
  mappings?: unknown[];
  /** Sparkline under the value (default none). */
  graphMode?: BigValueGraphMode;
  /** Text when the query returns nothing. */
  noValue?: string;
  /** Width in grid columns (default 4 of 24). */
  span?: number;
}

/** A stat over one instant PromQL query: last value, background coloured by the threshold steps, 4 high. */
export function statPanel(title: string, expr: string, unit: string, steps: Array<[number | null, string]>, o: StatOptions = {}): stat.PanelBuilder {
  let p = new stat.PanelBuilder()
    .title(title)
    .datasource({ ...PROMETHEUS })
    .withTarget(promInstant('A', expr))
    .unit(unit)
    .thresholds(thresholds(steps))
    .colorMode(BigValueColorMode.Background)
    .graphMode(o.graphMode ?? BigValueGraphMode.None)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  if (o.noValue !== undefined) p = p.noValue(o.noValue);
  p = p.height(4).span(o.span ?? 4);
  if (o.mappings) p = p.mappings(o.mappings as never);
  return p;
}

/**
 * A half-width Prometheus time series panel (legend table, shared tooltip),
 * with one range query per [expr, legend] (refIds A, B, ...).
 */
export function series(title: string, unit: string, queries: Array<[expr: string, legend: string]> = []): timeseries.PanelBuilder {
  let p = new timeseries.PanelBuilder().title(title).datasource({ ...PROMETHEUS }).unit(unit).legend(legendTable()).tooltip(tooltipMulti()).height(8).span(12);
  queries.forEach(([expr, legend], i) => (p = p.withTarget(prom(String.fromCharCode(65 + i), expr, legend))));
  return p;
}

/** Draws a time series panel as stacked bars (counts per interval). */
export function stackedBars(p: timeseries.PanelBuilder): timeseries.PanelBuilder {
  return p.drawStyle(GraphDrawStyle.Bars).fillOpacity(80).stacking(new StackingConfigBuilder().mode(StackingMode.Normal).group('A'));
}

/** The `site` variable (alert links pass ?var-site=NAME). */
export function siteVariable(opts: { multi: boolean; includeAll: boolean }): QueryVariableBuilder {
  const query = 'label_values(optifiber_site_info, site)';
  let v = new QueryVariableBuilder('site')
    .label('Site')
    .datasource({ ...PROMETHEUS })
    .query({ qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.NaturalAsc)
    .multi(opts.multi)
    .includeAll(opts.includeAll);
  if (opts.includeAll) v = v.allValue('.+').current({ selected: true, text: ['All'], value: ['$__all'] });
  return v;
}

/** The navigation links every OptiFiber dashboard carries. */
export function optifiberDashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['optifiber', 'generated'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .refresh('10s')
    .annotation(
      new AnnotationQueryBuilder()
        .name('Annotations & Alerts')
        .builtIn(1)
        .datasource({ type: 'grafana', uid: '-- Grafana --' })
        .enable(true)
        .hide(true)
        .iconColor('rgba(0, 211, 255, 1)')
        .type('dashboard'),
    )
    .link(
      new DashboardLinkBuilder('OptiFiber')
        .type(DashboardLinkType.Dashboards)
        .tags(['optifiber'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true)
        .icon('external link')
        .tooltip('')
        .url('')
        .targetBlank(false),
    );
}

/** Link to the site dashboard for a data link (${__field.labels.site}). */
export const SITE_LINK = `/d/${DASHBOARD_UIDS.site}?var-site=\${__field.labels.site}&\${__url_time_range}`;

/** A field data link ({title, url}); the SDK types them as dashboard links. */
export function dataLink(title: string, url: string): Builder<DashboardLink> {
  return { build: () => ({ title, url }) as DashboardLink };
}

/**
 * OptiFiber events as annotations (link state changes, faults, remediation
 * actions): the datasource runs the annotation target in "events" mode.
 */
export function optifiberEvents(sites: string[]): AnnotationQueryBuilder {
  return new AnnotationQueryBuilder()
    .name('OptiFiber events')
    .datasource({ ...TELEMETRY })
    .enable(true)
    .hide(false)
    .iconColor('orange')
    .target(new OptiFiberQueryBuilder('Anno', 'linkUp', 'events', sites));
}
