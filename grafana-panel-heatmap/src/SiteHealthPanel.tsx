// The site-health panel: a gauge per site above the anomaly heat-map.
import { css, cx } from '@emotion/css';
import { dateTimeFormat, type Field, type GrafanaTheme2, type PanelProps } from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { Icon, useStyles2, useTheme2, type IconName } from '@grafana/ui';
import React, { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { formatValue } from './format.js';
import { buildLut, drawVisible, gridCanvas, paintGrid } from './heatmap.js';
import { siteLink, type SiteLink } from './links.js';
import { buildGrid, buildSites, cellContributions, topContributions, type HeatGrid, type SiteModel } from './model.js';
import { DEFAULT_THRESHOLDS, Severity, linkComponent, thresholdComponent, worst, type Component } from './state.js';
import { DEFAULT_OPTIONS, type PanelOptions } from './types.js';
import { testIds } from './testIds.js';

type Props = PanelProps<PanelOptions>;

/** `target` is the site's data link (SiteModel.link is its link state). */
interface SiteView extends SiteModel { state: Component | null; color: string; target: SiteLink }

const TILE_W = 184;
const TILE_H = 58;
const LABEL_W = 120;
const AXIS_H = 18;

/** Grafana paths navigate in place (the browser's own handling for modified clicks and external links). */
function follow(e: React.MouseEvent, link: SiteLink) {
  if (link.internal !== undefined && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
    e.preventDefault();
    locationService.push(link.internal);
  }
}

function openLink(link: SiteLink) {
  if (link.internal !== undefined) locationService.push(link.internal);
  else if (link.href) window.open(link.href, '_blank', 'noopener,noreferrer');
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
    return { ...s, state, color: state?.color ?? resolve('text-disabled'), target: siteLink(options.siteUrl, s.name, replaceVariables) };
  }), [sites, resolve, options.siteUrl, replaceVariables]);

  const from = data.timeRange?.from.valueOf() ?? props.timeRange.from.valueOf();
  const to = data.timeRange?.to.valueOf() ?? props.timeRange.to.valueOf();
  const grid = useMemo(() => buildGrid(sites, from, to, options.buckets), [sites, from, to, options.buckets]);

  if (!views.length) {
    return (
      <div className={styles.noData} data-testid={testIds.panel.noData} style={{ width, height }}>
        <div className={styles.noDataTitle}>No data</div>
        <div>This panel needs series labelled by <code>site</code>: the OptiFiber data source, or Prometheus queries such as <code>optifiber_anomaly_score</code>.</div>
      </div>
    );
  }

  const hasHeat = sites.some((s) => s.anomalySeries);
  const gaugeRows = Math.ceil(views.length / Math.max(1, Math.floor(width / TILE_W)));
  const gaugeHeight = options.showGauges ? (hasHeat ? Math.min(gaugeRows * TILE_H + 4, Math.max(TILE_H + 4, Math.floor(height * options.gaugeShare))) : height) : 0;
  return (
    <div className={styles.root} style={{ width, height }} data-testid={testIds.panel.container}>
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
    <div className={styles.gauges} style={{ height }} onScroll={onScroll} data-testid={testIds.gauges.container}>
      <div style={{ height: rows * TILE_H, position: 'relative' }}>{tiles}</div>
    </div>
  );
}

const SEVERITY_ICON: Record<Severity, IconName> = {
  [Severity.ok]: 'check-circle',
  [Severity.unknown]: 'question-circle',
  [Severity.warning]: 'exclamation-triangle',
  [Severity.critical]: 'exclamation-circle',
};
const SEVERITY_TEXT: Record<Severity, string> = { [Severity.ok]: 'OK', [Severity.unknown]: 'Unknown', [Severity.warning]: 'Warning', [Severity.critical]: 'Critical' };
const LINK_GLYPH: Record<string, string> = { up: '▲', down: '▼', degraded: '◆' };
const LINK_ICON: Record<string, IconName> = { up: 'arrow-up', down: 'arrow-down', degraded: 'exclamation-triangle' };

/** The site's state as an icon with its name (never colour alone). */
function StateIcon({ v, size = 'sm' }: { v: SiteView; size?: 'xs' | 'sm' }) {
  const sev = v.state?.severity ?? Severity.unknown;
  return (
    <span style={{ color: v.color, flex: 'none', display: 'inline-flex' }} title={SEVERITY_TEXT[sev]} aria-hidden data-testid={testIds.gauges.stateIcon} data-severity={Severity[sev]}>
      <Icon name={SEVERITY_ICON[sev]} size={size} />
    </span>
  );
}

/** The state in words for screen readers (the icon carries it visually). */
function StateText({ v }: { v: SiteView }) {
  const styles = useStyles2(getStyles);
  return <span className={styles.srOnly}>{`: ${SEVERITY_TEXT[v.state?.severity ?? Severity.unknown]}${v.state ? `, ${v.state.reason}` : ''}.`}</span>;
}

function siteSummary(v: SiteView, theme: GrafanaTheme2): string {
  const f = v.utilizationField;
  const fc = v.forecast;
  return [
    `${v.name}: ${SEVERITY_TEXT[v.state?.severity ?? Severity.unknown]}${v.state ? ` (${v.state.reason})` : ''}`,
    `utilization ${formatValue(f, v.utilization, theme)}`,
    fc?.p50 != null ? `forecast p50 ${formatValue(f, fc.p50, theme)} (p10 ${formatValue(f, fc.p10, theme)}, p90 ${formatValue(f, fc.p90, theme)})` : '',
    `link ${v.link}`,
    v.anomaly !== null ? `anomaly ${formatValue(v.anomalyField, v.anomaly, theme, 'none')}` : '',
  ].filter(Boolean).join(', ');
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
  const summary = siteSummary(v, theme);
  return (
    <a
      className={styles.tile}
      style={{ top, left, borderLeftColor: v.color }}
      href={v.target.href}
      onClick={(e) => follow(e, v.target)}
      title={summary.split(', ').join('\n')}
      data-testid={testIds.gauges.gauge}
      data-site={v.name}
      data-severity={v.state ? Severity[v.state.severity] : 'none'}
      data-color={v.color}
    >
      <div className={styles.tileHead}>
        <span className={styles.siteName}><StateIcon v={v} /> {v.name}<StateText v={v} /></span>
        <span className={cx(styles.badge)} data-testid={testIds.gauges.linkState}>
          <Icon name={LINK_ICON[v.link] ?? 'question-circle'} size="xs" style={{ color: linkComponent(v.link, (c) => theme.visualization.getColorByName(c)).color }} aria-hidden /> {v.link}
        </span>
      </div>
      <div className={styles.bar}>
        {fill !== null && <div className={styles.fill} style={{ width: `${fill}%`, background: utilColor ?? v.color }} />}
        {fc?.p10 != null && fc.p90 != null && (
          <div className={styles.band} style={{ left: `${pct(fc.p10)}%`, width: `${Math.max(0, (pct(fc.p90) ?? 0) - (pct(fc.p10) ?? 0))}%` }} />
        )}
        {fc?.p50 != null && <div className={styles.marker} style={{ left: `${pct(fc.p50)}%` }} data-testid={testIds.gauges.forecastMarker} />}
      </div>
      <div className={styles.tileFoot}>
        <span data-testid={testIds.gauges.utilization}>{utilText}</span>
        {anomalyText !== null && (
          <span className={styles.anomaly} data-testid={testIds.gauges.anomalyBadge} style={{ background: anomalyHot ? v.color : 'transparent', color: anomalyHot ? theme.colors.getContrastText(v.color) : theme.colors.text.secondary }}>
            anomaly {anomalyText}
          </span>
        )}
      </div>
    </a>
  );
}

interface HeatProps { views: SiteView[]; grid: HeatGrid; width: number; height: number; rowHeight: number; theme: GrafanaTheme2; timeZone: string; topN: number }
interface Cell { row: number; col: number }

/** Keyboard movement over the grid; null = the key is not ours. */
export function moveCell(c: Cell, key: string, rows: number, cols: number, page: number): Cell | null {
  const clamp = (x: number, n: number) => Math.max(0, Math.min(n - 1, x));
  switch (key) {
    case 'ArrowLeft': return { row: c.row, col: clamp(c.col - 1, cols) };
    case 'ArrowRight': return { row: c.row, col: clamp(c.col + 1, cols) };
    case 'ArrowUp': return { row: clamp(c.row - 1, rows), col: c.col };
    case 'ArrowDown': return { row: clamp(c.row + 1, rows), col: c.col };
    case 'PageUp': return { row: clamp(c.row - page, rows), col: c.col };
    case 'PageDown': return { row: clamp(c.row + page, rows), col: c.col };
    case 'Home': return { row: c.row, col: 0 };
    case 'End': return { row: c.row, col: cols - 1 };
    default: return null;
  }
}

function HeatMap({ views, grid, width, height, rowHeight, theme, timeZone, topN }: HeatProps) {
  const styles = useStyles2(getStyles);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const [top, onScroll] = useScroll();
  const [hover, setHover] = useState<(Cell & { x: number; y: number }) | null>(null);
  const [cursor, setCursor] = useState<Cell | null>(null);
  const [asTable, setAsTable] = useState(false);
  const viewH = Math.max(rowHeight, height - AXIS_H - 2);
  const plotW = Math.max(10, width - LABEL_W - 12);
  const rows = grid.sites.length;
  const first = Math.max(0, Math.floor(top / rowHeight));
  const last = Math.min(rows, Math.ceil((top + viewH) / rowHeight) + 1);
  const cellW = plotW / grid.buckets;

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
  }, [offscreen, first, last, rowHeight, plotW, top, dpr, viewH, asTable]);


  /** The cell under the pointer, from the event itself (a click need not follow a mousemove: touch, or a click before the hover re-render). */
  const cellAt = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const row = Math.floor((y + top) / rowHeight);
    const col = Math.floor((x / plotW) * grid.buckets);
    if (row < 0 || row >= rows || col < 0 || col >= grid.buckets) return null;
    return { row, col, x: x + LABEL_W, y: y + AXIS_H };
  };
  const onMove = (e: React.MouseEvent<HTMLCanvasElement>) => setHover(cellAt(e));
  const onClick = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const cell = cellAt(e);
    const v = cell && views[cell.row];
    if (v) openLink(v.target);
    e.preventDefault();
  };
  const onKeyDown = (e: React.KeyboardEvent<HTMLCanvasElement>) => {
    const at = cursor ?? { row: first, col: grid.buckets - 1 };
    if (e.key === 'Enter') {
      const v = views[at.row];
      if (v) openLink(v.target);
      return e.preventDefault();
    }
    if (e.key === 'Escape') return setCursor(null);
    const next = moveCell(at, e.key, rows, grid.buckets, Math.max(1, Math.floor(viewH / rowHeight) - 1));
    if (!next) return;
    e.preventDefault();
    setHover(null);
    setCursor(next);
    if (scrollRef.current) scrollRowIntoView(scrollRef.current, next.row, rowHeight, viewH);
  };

  const fmtTime = (t: number) => dateTimeFormat(t, { timeZone, format: 'HH:mm:ss' });
  const active = hover ?? (cursor ? { ...cursor, x: LABEL_W + (cursor.col + 1) * cellW, y: AXIS_H + (cursor.row + 1) * rowHeight - top } : null);
  const detail = active ? cellDetail(active, views, grid, topN, theme, fmtTime) : null;
  const tooltip = active && detail && (
    <CellTooltip d={detail} left={Math.min(active.x + 12, Math.max(0, width - 260))} top={Math.min(active.y + 12, Math.max(0, height - 170))} theme={theme} />
  );
  const announcement = detail?.announcement ?? '';

  return (
    <div className={styles.heat} style={{ height }} data-testid={testIds.heatmap.container}>
      <HeatAxis grid={grid} rows={rows} asTable={asTable} onToggle={() => setAsTable(!asTable)} width={asTable ? width - 12 : plotW} fmtTime={fmtTime} />
      {asTable ? (
        <SiteTable views={views} grid={grid} height={viewH} theme={theme} fmtTime={fmtTime} />
      ) : (
        <div ref={scrollRef} className={styles.heatScroll} style={{ height: viewH }} onScroll={onScroll} data-testid={testIds.heatmap.scroll}>
          <div style={{ height: rows * rowHeight, position: 'relative' }}>
            <RowLabels views={views} first={first} last={last} rowHeight={rowHeight} theme={theme} />
            <canvas
              ref={canvasRef}
              className={styles.canvas}
              width={Math.round(plotW * dpr)}
              height={Math.round(viewH * dpr)}
              style={{ top, left: LABEL_W, width: plotW, height: viewH }}
              onMouseMove={onMove}
              onMouseLeave={() => setHover(null)}
              onClick={onClick}
              tabIndex={0}
              role="application"
              aria-roledescription="heat-map"
              aria-label={`Anomaly score heat-map: ${rows} sites by ${grid.buckets} time buckets. Arrow keys move between cells, Page Up and Page Down by a screen of sites, Home and End to the first and last bucket, Enter opens the site.`}
              aria-describedby="optifiber-heatmap-live"
              onKeyDown={onKeyDown}
              onFocus={() => setCursor((c) => c ?? { row: first, col: grid.buckets - 1 })}
              onBlur={() => setCursor(null)}
              data-testid={testIds.heatmap.canvas}
            />
            {cursor && !hover && (
              <div className={styles.cellFocus} data-testid={testIds.heatmap.cellFocus}
                style={{ left: LABEL_W + cursor.col * cellW - 1, top: cursor.row * rowHeight - 1, width: Math.max(3, cellW) + 2, height: rowHeight + 2 }} />
            )}
          </div>
        </div>
      )}
      <div id="optifiber-heatmap-live" className={styles.srOnly} aria-live="polite" data-testid={testIds.heatmap.announcement}>{cursor ? announcement : ''}</div>
      {!asTable && tooltip}
    </div>
  );
}

/** Scrolls just enough for the row to be fully visible (the keyboard cursor's row). */
function scrollRowIntoView(el: HTMLElement, row: number, rowHeight: number, viewH: number) {
  if (row * rowHeight < el.scrollTop) el.scrollTop = row * rowHeight;
  else if ((row + 1) * rowHeight > el.scrollTop + viewH) el.scrollTop = (row + 1) * rowHeight - viewH;
}

/** Above the heat-map: its time range, what it shows, and the table toggle. */
function HeatAxis({ grid, rows, asTable, onToggle, width, fmtTime }: { grid: HeatGrid; rows: number; asTable: boolean; onToggle: () => void; width: number; fmtTime: (t: number) => string }) {
  const styles = useStyles2(getStyles);
  return (
    <div className={styles.axis} style={{ marginLeft: asTable ? 0 : LABEL_W, width }}>
      {!asTable && <span>{fmtTime(grid.from)}</span>}
      <span className={styles.muted}>anomaly score · {grid.buckets} buckets · {rows} sites</span>
      <button type="button" className={styles.toggle} aria-pressed={asTable} onClick={onToggle} data-testid={testIds.heatmap.tableToggle}>
        {asTable ? 'Show heat-map' : 'Show as table'}
      </button>
      {!asTable && <span>{fmtTime(grid.to)}</span>}
    </div>
  );
}

/** The site labels of the visible rows, each a link to its site. */
function RowLabels({ views, first, last, rowHeight, theme }: { views: SiteView[]; first: number; last: number; rowHeight: number; theme: GrafanaTheme2 }) {
  const styles = useStyles2(getStyles);
  const labels: React.ReactNode[] = [];
  for (let r = first; r < last; r++) {
    const v = views[r]!;
    labels.push(
      <a key={v.name} href={v.target.href} onClick={(e) => follow(e, v.target)} className={styles.rowLabel}
        style={{ top: r * rowHeight, height: rowHeight, lineHeight: `${rowHeight}px`, borderLeftColor: v.color }}
        data-testid={testIds.heatmap.rowLabel} data-site={v.name} title={siteSummary(v, theme)}>
        <StateIcon v={v} size="xs" /> {v.name}<StateText v={v} />
      </a>,
    );
  }
  return <>{labels}</>;
}

/** What one heat-map cell says: shown by the tooltip, read out by the live region. */
interface CellDetail {
  v: SiteView;
  from: string;
  to: string;
  scoreText: string;
  contribs: ReturnType<typeof topContributions>;
  announcement: string;
}

function cellDetail(at: Cell, views: SiteView[], grid: HeatGrid, topN: number, theme: GrafanaTheme2, fmtTime: (t: number) => string): CellDetail {
  const v = views[at.row]!;
  const bucketMs = (grid.to - grid.from) / grid.buckets;
  const score = grid.values[at.row * grid.buckets + at.col]!;
  const t0 = grid.from + at.col * bucketMs;
  const contribs = topContributions(cellContributions(v, grid, at.row, at.col), topN);
  const scoreText = Number.isNaN(score) ? 'no data (gap)' : formatValue(v.anomalyField, score, theme, 'none');
  const from = fmtTime(t0);
  const to = fmtTime(t0 + bucketMs);
  const announcement = `${v.name}, ${from} to ${to}: anomaly score ${scoreText}; ${SEVERITY_TEXT[v.state?.severity ?? Severity.unknown]}${v.state ? `, ${v.state.reason}` : ''}${contribs.length ? `; top features ${contribs.map((c) => `${c.feature} ${c.value.toFixed(3)}`).join(', ')}` : ''}.`;
  return { v, from, to, scoreText, contribs, announcement };
}

function CellTooltip({ d, left, top, theme }: { d: CellDetail; left: number; top: number; theme: GrafanaTheme2 }) {
  const styles = useStyles2(getStyles);
  const { v, contribs } = d;
  return (
    <div className={styles.tooltip} style={{ left, top }} data-testid={testIds.tooltip.container} role="tooltip" id="optifiber-heatmap-tooltip">
      <div className={styles.tooltipTitle} style={{ borderLeftColor: v.color }}><StateIcon v={v} size="xs" /> {v.name}</div>
      <div>{d.from} – {d.to}</div>
      <div>Anomaly score: <b>{d.scoreText}</b></div>
      <div>Utilization now: <b>{formatValue(v.utilizationField, v.utilization, theme)}</b></div>
      {v.forecast?.p50 != null && <div>Forecast p50: <b>{formatValue(v.utilizationField, v.forecast.p50, theme)}</b></div>}
      <div>Link: <b>{v.link}</b>{v.state ? ` · state: ${v.state.reason}` : ''}</div>
      {contribs.length > 0 && (
        <div data-testid={testIds.tooltip.contributions}>
          <div className={styles.muted}>Top contributing features</div>
          {contribs.map((c) => (
            <div key={c.feature} className={styles.contrib} data-testid={testIds.tooltip.contribution}><span>{c.feature}</span><span>{c.value.toFixed(3)}</span></div>
          ))}
        </div>
      )}
    </div>
  );
}

/** The heat-map's text alternative: one row per site, its state and the range's peak score. */
function SiteTable({ views, grid, height, theme, fmtTime }: { views: SiteView[]; grid: HeatGrid; height: number; theme: GrafanaTheme2; fmtTime: (t: number) => string }) {
  const styles = useStyles2(getStyles);
  const bucketMs = (grid.to - grid.from) / grid.buckets;
  return (
    <div className={styles.tableScroll} style={{ height }} tabIndex={0} role="region" aria-label="Sites as a table" data-testid={testIds.heatmap.table}>
      <table className={styles.table}>
        <caption className={styles.srOnly}>Site state and anomaly score over the panel's time range</caption>
        <thead>
          <tr><th scope="col">Site</th><th scope="col">State</th><th scope="col">Utilization</th><th scope="col">Link</th><th scope="col">Anomaly now</th><th scope="col">Peak anomaly</th></tr>
        </thead>
        <tbody>
          {views.map((v, row) => {
            let peak = NaN;
            let at = -1;
            for (let c = 0; c < grid.buckets; c++) {
              const x = grid.values[row * grid.buckets + c]!;
              if (!Number.isNaN(x) && (Number.isNaN(peak) || x > peak)) { peak = x; at = c; }
            }
            const sev = v.state?.severity ?? Severity.unknown;
            return (
              <tr key={v.name} data-testid={testIds.heatmap.tableRow} data-site={v.name}>
                <th scope="row">{v.target.href ? <a href={v.target.href} onClick={(e) => follow(e, v.target)}>{v.name}</a> : v.name}</th>
                <td><StateIcon v={v} size="xs" /> {SEVERITY_TEXT[sev]}{v.state ? ` (${v.state.reason})` : ''}</td>
                <td>{formatValue(v.utilizationField, v.utilization, theme)}</td>
                <td>{LINK_GLYPH[v.link] ?? '?'} {v.link}</td>
                <td>{v.anomaly === null ? 'No data' : formatValue(v.anomalyField, v.anomaly, theme, 'none')}</td>
                <td>{Number.isNaN(peak) ? 'No data' : `${formatValue(v.anomalyField, peak, theme, 'none')} at ${fmtTime(grid.from + at * bucketMs)}`}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
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
  siteName: css({ fontWeight: theme.typography.fontWeightMedium, overflow: 'hidden', textOverflow: 'ellipsis', display: 'flex', alignItems: 'center', gap: 3 }),
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
  canvas: css({ position: 'absolute', cursor: 'pointer', '&:focus-visible': { outline: `2px solid ${theme.colors.primary.main}`, outlineOffset: -2 } }),
  cellFocus: css({ position: 'absolute', pointerEvents: 'none', border: `2px solid ${theme.colors.text.maxContrast}`, boxSizing: 'border-box' }),
  srOnly: css({ position: 'absolute', width: 1, height: 1, padding: 0, margin: -1, overflow: 'hidden', clip: 'rect(0,0,0,0)', whiteSpace: 'nowrap', border: 0 }),
  toggle: css({ background: 'none', border: 'none', padding: 0, color: theme.colors.text.link, cursor: 'pointer', fontSize: 11, '&:hover': { textDecoration: 'underline' } }),
  tableScroll: css({ overflow: 'auto' }),
  table: css({
    width: '100%', borderCollapse: 'collapse', fontSize: 12,
    'th, td': { textAlign: 'left', padding: '2px 6px', borderBottom: `1px solid ${theme.colors.border.weak}`, whiteSpace: 'nowrap' },
    thead: { position: 'sticky', top: 0, background: theme.colors.background.primary },
    a: { color: theme.colors.text.link },
  }),
  tooltip: css({
    position: 'absolute', zIndex: 10, minWidth: 220, padding: theme.spacing(1), pointerEvents: 'none', fontSize: 12,
    background: theme.colors.background.elevated ?? theme.colors.background.primary, boxShadow: theme.shadows.z3,
    border: `1px solid ${theme.colors.border.medium}`, borderRadius: theme.shape.radius.default, color: theme.colors.text.primary,
  }),
  tooltipTitle: css({ fontWeight: theme.typography.fontWeightBold, borderLeft: '4px solid', paddingLeft: 4, marginBottom: 2 }),
  muted: css({ color: theme.colors.text.secondary }),
  contrib: css({ display: 'flex', justifyContent: 'space-between', gap: 12, fontFamily: theme.typography.fontFamilyMonospace }),
});
