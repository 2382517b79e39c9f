// The site-health panel: a gauge per site above the anomaly heat-map.
import { css, cx } from '@emotion/css';
import { dateTimeFormat, type Field, type GrafanaTheme2, type PanelProps } from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { useStyles2, useTheme2 } from '@grafana/ui';
import React, { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { formatValue } from './format.js';
import { buildLut, drawVisible, gridCanvas, paintGrid } from './heatmap.js';
import { siteHref } from './links.js';
import { buildGrid, buildSites, cellContributions, topContributions, type HeatGrid, type SiteModel } from './model.js';
import { DEFAULT_THRESHOLDS, Severity, linkComponent, thresholdComponent, worst, type Component } from './state.js';
import { DEFAULT_OPTIONS, type PanelOptions } from './types.js';

type Props = PanelProps<PanelOptions>;

interface SiteView extends SiteModel { state: Component | null; color: string; href: string }

const TILE_W = 184;
const TILE_H = 58;
const LABEL_W = 120;
const AXIS_H = 18;

function follow(e: React.MouseEvent, href: string) {
  if (href.startsWith('/') && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
    e.preventDefault();
    locationService.push(href);
  }
}

export function SiteHealthPanel(props: Props) {
  const { data, width, height, replaceVariables, timeZone } = props;
  const options = { ...DEFAULT_OPTIONS, ...props.options };
  const theme = useTheme2();
  const styles = useStyles2(getStyles);

  const sites = useMemo(() => buildSites(data.series), [data.series]);
  const resolve = useCallback((c: string) => theme.visualization.getColorByName(c), [theme]);
  const views = useMemo<SiteView[]>(() => sites.map((s) => {
    const uf: Field | undefined = s.utilizationField ?? s.throughputField;
    const uMin = s.utilizationField?.config.min ?? 0;
    const uMax = s.utilizationField?.config.max ?? 1;
    const comps = [
      thresholdComponent('utilization', s.utilization, uf?.config.thresholds, resolve, uMin, uMax),
      thresholdComponent('forecast', s.forecast?.p90 ?? s.forecast?.p50 ?? null, uf?.config.thresholds, resolve, uMin, uMax, 'forecast p90'),
      s.link === 'unknown' && s.utilization !== null ? null : linkComponent(s.link, resolve),
      thresholdComponent('anomaly', s.anomaly, s.anomalyField?.config.thresholds, resolve, s.anomalyField?.config.min ?? 0, s.anomalyField?.config.max ?? 1, 'anomaly'),
    ];
    // forecast alone never makes a site critical: it is a warning about the future
    if (comps[1] && comps[1].severity === Severity.critical) comps[1] = { ...comps[1], severity: Severity.warning };
    const state = worst(comps);
    return { ...s, state, color: state?.color ?? resolve('text-disabled'), href: siteHref(options.siteUrl, s.name, replaceVariables) };
  }), [sites, resolve, options.siteUrl, replaceVariables]);

  const from = data.timeRange?.from.valueOf() ?? props.timeRange.from.valueOf();
  const to = data.timeRange?.to.valueOf() ?? props.timeRange.to.valueOf();
  const grid = useMemo(() => buildGrid(sites, from, to, options.buckets), [sites, from, to, options.buckets]);

  if (!views.length) {
    return (
      <div className={styles.noData} data-testid="optifiber-nodata" style={{ width, height }}>
        <div className={styles.noDataTitle}>No data</div>
        <div>This panel needs series labelled by <code>site</code>: the OptiFiber data source, or Prometheus queries such as <code>optifiber_anomaly_score</code>.</div>
      </div>
    );
  }

  const hasHeat = sites.some((s) => s.anomalySeries);
  const gaugeRows = Math.ceil(views.length / Math.max(1, Math.floor(width / TILE_W)));
  const gaugeHeight = options.showGauges ? (hasHeat ? Math.min(gaugeRows * TILE_H + 4, Math.max(TILE_H + 4, Math.floor(height * options.gaugeShare))) : height) : 0;
  return (
    <div className={styles.root} style={{ width, height }} data-testid="optifiber-sitehealth">
      {options.showGauges && <GaugeGrid views={views} width={width} height={gaugeHeight} theme={theme} />}
      {hasHeat && (
        <HeatMap views={views} grid={grid} width={width} height={height - gaugeHeight} rowHeight={options.rowHeight}
          theme={theme} timeZone={timeZone} topN={options.topContributions} />
      )}
    </div>
  );
}

function useScroll(): [number, (e: React.UIEvent<HTMLDivElement>) => void] {
  const [top, setTop] = useState(0);
  const frame = useRef(0);
  const onScroll = useCallback((e: React.UIEvent<HTMLDivElement>) => {
    const t = e.currentTarget.scrollTop;
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => setTop(t));
  }, []);
  return [top, onScroll];
}

function GaugeGrid({ views, width, height, theme }: { views: SiteView[]; width: number; height: number; theme: GrafanaTheme2 }) {
  const styles = useStyles2(getStyles);
  const [top, onScroll] = useScroll();
  const cols = Math.max(1, Math.floor((width - 8) / TILE_W));
  const rows = Math.ceil(views.length / cols);
  const firstRow = Math.max(0, Math.floor(top / TILE_H) - 1);
  const lastRow = Math.min(rows, Math.ceil((top + height) / TILE_H) + 1);
  const tiles: React.ReactNode[] = [];
  for (let r = firstRow; r < lastRow; r++) {
    for (let c = 0; c < cols; c++) {
      const v = views[r * cols + c];
      if (v) tiles.push(<Gauge key={v.name} v={v} top={r * TILE_H} left={c * TILE_W} theme={theme} />);
    }
  }
  return (
    <div className={styles.gauges} style={{ height }} onScroll={onScroll} data-testid="optifiber-gauges">
      <div style={{ height: rows * TILE_H, position: 'relative' }}>{tiles}</div>
    </div>
  );
}

function Gauge({ v, top, left, theme }: { v: SiteView; top: number; left: number; theme: GrafanaTheme2 }) {
  const styles = useStyles2(getStyles);
  const f = v.utilizationField;
  const min = f?.config.min ?? 0;
  const max = f?.config.max ?? 1;
  const pct = (x: number | null) => (x === null ? null : Math.max(0, Math.min(100, ((x - min) / (max - min || 1)) * 100)));
  const fill = pct(v.utilization);
  const fc = v.forecast;
  // derived from throughput/capacity (Prometheus): no utilization field, shown as a percentage
  const utilText = formatValue(f, v.utilization, theme);
  const anomalyText = v.anomaly === null ? null : formatValue(v.anomalyField, v.anomaly, theme, 'none');
  const anomalyHot = v.state?.kind === 'anomaly' && v.state.severity >= Severity.warning;
  const utilColor = thresholdComponent('utilization', v.utilization, f?.config.thresholds ?? DEFAULT_THRESHOLDS, (c) => theme.visualization.getColorByName(c), min, max)?.color;
  const title = [
    `${v.name}: ${v.state?.reason ?? 'no state'}`,
    `utilization ${utilText}`,
    fc?.p50 != null ? `forecast p50 ${formatValue(f, fc.p50, theme)} (p10 ${formatValue(f, fc.p10, theme)}, p90 ${formatValue(f, fc.p90, theme)})` : '',
    `link ${v.link}`,
    anomalyText !== null ? `anomaly ${anomalyText}` : '',
  ].filter(Boolean).join('\n');
  return (
    <a
      className={styles.tile}
      style={{ top, left, borderLeftColor: v.color }}
      href={v.href}
      onClick={(e) => follow(e, v.href)}
      title={title}
      data-testid="site-gauge"
      data-site={v.name}
      data-severity={v.state ? Severity[v.state.severity] : 'none'}
      data-color={v.color}
    >
      <div className={styles.tileHead}>
        <span className={styles.siteName}>{v.name}</span>
        <span className={cx(styles.badge)} style={{ color: linkComponent(v.link, (c) => theme.visualization.getColorByName(c)).color }} data-testid="link-state">
          {v.link === 'up' ? '▲' : v.link === 'down' ? '▼' : v.link === 'degraded' ? '◆' : '?'} {v.link}
        </span>
      </div>
      <div className={styles.bar} aria-label={`utilization ${utilText}`}>
        {fill !== null && <div className={styles.fill} style={{ width: `${fill}%`, background: utilColor ?? v.color }} />}
        {fc?.p10 != null && fc.p90 != null && (
          <div className={styles.band} style={{ left: `${pct(fc.p10)}%`, width: `${Math.max(0, (pct(fc.p90) ?? 0) - (pct(fc.p10) ?? 0))}%` }} />
        )}
        {fc?.p50 != null && <div className={styles.marker} style={{ left: `${pct(fc.p50)}%` }} data-testid="forecast-marker" />}
      </div>
      <div className={styles.tileFoot}>
        <span data-testid="utilization">{utilText}</span>
        {anomalyText !== null && (
          <span className={styles.anomaly} data-testid="anomaly-badge" style={{ background: anomalyHot ? v.color : 'transparent', color: anomalyHot ? theme.colors.getContrastText(v.color) : theme.colors.text.secondary }}>
            anomaly {anomalyText}
          </span>
        )}
      </div>
    </a>
  );
}

interface HeatProps { views: SiteView[]; grid: HeatGrid; width: number; height: number; rowHeight: number; theme: GrafanaTheme2; timeZone: string; topN: number }

function HeatMap({ views, grid, width, height, rowHeight, theme, timeZone, topN }: HeatProps) {
  const styles = useStyles2(getStyles);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [top, onScroll] = useScroll();
  const [hover, setHover] = useState<{ row: number; col: number; x: number; y: number } | null>(null);
  const viewH = Math.max(rowHeight, height - AXIS_H - 2);
  const plotW = Math.max(10, width - LABEL_W - 12);
  const rows = grid.sites.length;
  const first = Math.max(0, Math.floor(top / rowHeight));
  const last = Math.min(rows, Math.ceil((top + viewH) / rowHeight) + 1);

  const anomalyField = views.find((v) => v.anomalyField)?.anomalyField;
  const thresholds = anomalyField?.config.thresholds;
  const aMin = anomalyField?.config.min ?? 0;
  const aMax = anomalyField?.config.max ?? 1;
  const offscreen = useMemo(() => {
    const { lut, gap } = buildLut(theme, thresholds, aMin, aMax);
    return gridCanvas(grid, paintGrid(grid, lut, gap, aMin, aMax));
  }, [grid, theme, thresholds, aMin, aMax]);

  const dpr = typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1;
  useLayoutEffect(() => {
    const c = canvasRef.current;
    if (!c || !offscreen) return;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    drawVisible(ctx, offscreen, first, last, rowHeight, plotW, top - first * rowHeight, dpr);
    if (typeof performance.mark === 'function') performance.mark('optifiber-heatmap-drawn');
  }, [offscreen, first, last, rowHeight, plotW, top, dpr, viewH]);

  const labels: React.ReactNode[] = [];
  for (let r = first; r < last; r++) {
    const v = views[r]!;
    labels.push(
      <a key={v.name} href={v.href} onClick={(e) => follow(e, v.href)} className={styles.rowLabel}
        style={{ top: r * rowHeight, height: rowHeight, lineHeight: `${rowHeight}px`, borderLeftColor: v.color }}
        data-testid="heatmap-row-label" data-site={v.name} title={v.name}>
        {v.name}
      </a>,
    );
  }

  const onMove = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const row = Math.floor((y + top) / rowHeight);
    const col = Math.floor((x / plotW) * grid.buckets);
    if (row < 0 || row >= rows || col < 0 || col >= grid.buckets) return setHover(null);
    setHover({ row, col, x: x + LABEL_W, y: y + AXIS_H });
  };
  const onClick = (e: React.MouseEvent<HTMLCanvasElement>) => {
    if (!hover) return;
    const v = views[hover.row];
    if (v) {
      if (v.href.startsWith('/')) locationService.push(v.href);
      else window.open(v.href, '_blank', 'noopener');
    }
    e.preventDefault();
  };

  const bucketMs = (grid.to - grid.from) / grid.buckets;
  const fmtTime = (t: number) => dateTimeFormat(t, { timeZone, format: 'HH:mm:ss' });
  let tooltip: React.ReactNode = null;
  if (hover) {
    const v = views[hover.row]!;
    const score = grid.values[hover.row * grid.buckets + hover.col]!;
    const t0 = grid.from + hover.col * bucketMs;
    const contribs = topContributions(cellContributions(v, grid, hover.row, hover.col), topN);
    const left = Math.min(hover.x + 12, Math.max(0, width - 260));
    const topPx = Math.min(hover.y + 12, Math.max(0, height - 170));
    tooltip = (
      <div className={styles.tooltip} style={{ left, top: topPx }} data-testid="optifiber-tooltip" role="tooltip">
        <div className={styles.tooltipTitle} style={{ borderLeftColor: v.color }}>{v.name}</div>
        <div>{fmtTime(t0)} – {fmtTime(t0 + bucketMs)}</div>
        <div>Anomaly score: <b>{Number.isNaN(score) ? 'no data (gap)' : formatValue(v.anomalyField, score, theme, 'none')}</b></div>
        <div>Utilization now: <b>{formatValue(v.utilizationField, v.utilization, theme)}</b></div>
        {v.forecast?.p50 != null && <div>Forecast p50: <b>{formatValue(v.utilizationField, v.forecast.p50, theme)}</b></div>}
        <div>Link: <b>{v.link}</b>{v.state ? ` · state: ${v.state.reason}` : ''}</div>
        {contribs.length > 0 && (
          <div data-testid="tooltip-contributions">
            <div className={styles.muted}>Top contributing features</div>
            {contribs.map((c) => (
              <div key={c.feature} className={styles.contrib} data-testid="contribution"><span>{c.feature}</span><span>{c.value.toFixed(3)}</span></div>
            ))}
          </div>
        )}
      </div>
    );
  }

  return (
    <div className={styles.heat} style={{ height }} data-testid="optifiber-heatmap">
      <div className={styles.axis} style={{ marginLeft: LABEL_W, width: plotW }}>
        <span>{fmtTime(grid.from)}</span>
        <span className={styles.muted}>anomaly score · {grid.buckets} buckets · {rows} sites</span>
        <span>{fmtTime(grid.to)}</span>
      </div>
      <div className={styles.heatScroll} style={{ height: viewH }} onScroll={onScroll} data-testid="heatmap-scroll">
        <div style={{ height: rows * rowHeight, position: 'relative' }}>
          {labels}
          <canvas
            ref={canvasRef}
            className={styles.canvas}
            width={Math.round(plotW * dpr)}
            height={Math.round(viewH * dpr)}
            style={{ top, left: LABEL_W, width: plotW, height: viewH }}
            onMouseMove={onMove}
            onMouseLeave={() => setHover(null)}
            onClick={onClick}
            data-testid="heatmap-canvas"
          />
        </div>
      </div>
      {tooltip}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  root: css({ display: 'flex', flexDirection: 'column', overflow: 'hidden', position: 'relative', fontSize: theme.typography.bodySmall.fontSize }),
  noData: css({ display: 'flex', flexDirection: 'column', alignItems: 'center', justifyContent: 'center', color: theme.colors.text.secondary, textAlign: 'center', padding: theme.spacing(2) }),
  noDataTitle: css({ fontSize: theme.typography.h4.fontSize, color: theme.colors.text.primary }),
  gauges: css({ overflowY: 'auto', overflowX: 'hidden', position: 'relative', flex: 'none', borderBottom: `1px solid ${theme.colors.border.weak}` }),
  tile: css({
    position: 'absolute', width: TILE_W - 6, height: TILE_H - 6, margin: 3, padding: '3px 6px', boxSizing: 'border-box',
    borderLeft: '4px solid', borderRadius: theme.shape.radius.default, background: theme.colors.background.secondary,
    color: theme.colors.text.primary, textDecoration: 'none', display: 'flex', flexDirection: 'column', justifyContent: 'space-between',
    '&:hover': { background: theme.colors.action.hover, textDecoration: 'none' },
  }),
  tileHead: css({ display: 'flex', justifyContent: 'space-between', gap: 4, whiteSpace: 'nowrap' }),
  siteName: css({ fontWeight: theme.typography.fontWeightMedium, overflow: 'hidden', textOverflow: 'ellipsis' }),
  badge: css({ fontSize: 11 }),
  bar: css({ position: 'relative', height: 8, borderRadius: 2, background: theme.colors.background.canvas, overflow: 'visible' }),
  fill: css({ position: 'absolute', left: 0, top: 0, bottom: 0, borderRadius: 2 }),
  band: css({ position: 'absolute', top: -2, height: 12, background: theme.colors.text.primary, opacity: 0.18, borderRadius: 2 }),
  marker: css({ position: 'absolute', top: -3, width: 2, height: 14, marginLeft: -1, background: theme.colors.text.primary }),
  tileFoot: css({ display: 'flex', justifyContent: 'space-between', fontSize: 11, whiteSpace: 'nowrap' }),
  anomaly: css({ padding: '0 4px', borderRadius: 2 }),
  heat: css({ position: 'relative', flex: 'none', display: 'flex', flexDirection: 'column' }),
  axis: css({ display: 'flex', justifyContent: 'space-between', height: AXIS_H, lineHeight: `${AXIS_H}px`, fontSize: 11, color: theme.colors.text.secondary }),
  heatScroll: css({ overflowY: 'auto', overflowX: 'hidden', position: 'relative' }),
  rowLabel: css({
    position: 'absolute', left: 0, width: LABEL_W - 4, paddingLeft: 4, boxSizing: 'border-box', borderLeft: '3px solid', fontSize: 11,
    overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', color: theme.colors.text.primary, textDecoration: 'none',
    '&:hover': { textDecoration: 'underline' },
  }),
  canvas: css({ position: 'absolute', cursor: 'pointer' }),
  tooltip: css({
    position: 'absolute', zIndex: 10, minWidth: 220, padding: theme.spacing(1), pointerEvents: 'none', fontSize: 12,
    background: theme.colors.background.elevated ?? theme.colors.background.primary, boxShadow: theme.shadows.z3,
    border: `1px solid ${theme.colors.border.medium}`, borderRadius: theme.shape.radius.default, color: theme.colors.text.primary,
  }),
  tooltipTitle: css({ fontWeight: theme.typography.fontWeightBold, borderLeft: '4px solid', paddingLeft: 4, marginBottom: 2 }),
  muted: css({ color: theme.colors.text.secondary }),
  contrib: css({ display: 'flex', justifyContent: 'space-between', gap: 12, fontFamily: theme.typography.fontFamilyMonospace }),
});
