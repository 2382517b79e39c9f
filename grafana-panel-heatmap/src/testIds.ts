// Every data-testid of the site-health panel, in one place
// (grafana-plugin-examples, components/testIds.ts); the jest tests and the
// browser specs (e2e/testids.mjs) read them from here too.
export const testIds = {
  panel: {
    container: 'optifiber-sitehealth',
    noData: 'optifiber-nodata',
  },
  gauges: {
    container: 'optifiber-gauges',
    gauge: 'site-gauge',
    stateIcon: 'state-icon',
    linkState: 'link-state',
    forecastMarker: 'forecast-marker',
    utilization: 'utilization',
    anomalyBadge: 'anomaly-badge',
  },
  heatmap: {
    container: 'optifiber-heatmap',
    rowLabel: 'heatmap-row-label',
    tableToggle: 'heatmap-table-toggle',
    scroll: 'heatmap-scroll',
    canvas: 'heatmap-canvas',
    cellFocus: 'heatmap-cell-focus',
    announcement: 'heatmap-announcement',
    table: 'heatmap-table',
    tableRow: 'heatmap-table-row',
  },
  tooltip: {
    container: 'optifiber-tooltip',
    contributions: 'tooltip-contributions',
    contribution: 'contribution',
  },
} as const;
