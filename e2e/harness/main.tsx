// Harness page. URL parameters:
//   view=panel|query|config|variable|live   theme=dark|light   sites=N   buckets=B
//   scenario=normal|nodata|nan|prom   base=<proxy base URL> (live mode through a proxy)
//   siteUrl=<panel site link template>   subpath=/grafana (Grafana's root_url sub-path)
import './boot.js';
import { applyFieldOverrides, createTheme, dateTime, locationUtil, LoadingState, ThresholdsMode, type DataFrame, type FieldConfigSource, type GrafanaTheme2, type PanelData, type PanelProps } from '@grafana/data';
import { GlobalStyles, ThemeContext } from '@grafana/ui';
import React, { useState } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { ConfigEditor } from '../../grafana-datasource/src/components/ConfigEditor.js';
import { DATASOURCE_TYPE } from '../../grafana-datasource/src/constants.js';
import { QueryEditor } from '../../grafana-datasource/src/components/QueryEditor.js';
import { VariableQueryEditor } from '../../grafana-datasource/src/components/VariableQueryEditor.js';
import type { OptiFiberVariableQuery } from '../../grafana-datasource/src/variables.js';
import type { DataSource } from '../../grafana-datasource/src/datasource.js';
import { liveStream } from '../../grafana-datasource/src/live.js';
import type { OptiFiberQuery } from '../../grafana-datasource/src/types.js';
import { SiteHealthPanel } from '../../grafana-panel-heatmap/src/SiteHealthPanel.js';
import { DEFAULT_OPTIONS, type PanelOptions } from '../../grafana-panel-heatmap/src/types.js';
import { makeFrames, siteName, type Scenario } from './data.js';
import { standardRegistry } from './registry.js';
import { harnessIds } from './testIds.js';

const params = new URLSearchParams(location.search);
const view = params.get('view') ?? 'panel';
const themeName = params.get('theme') === 'light' ? 'light' : 'dark';
const theme = createTheme({ colors: { mode: themeName } });
const W = Number(params.get('width') ?? 1100);
const H = Number(params.get('height') ?? 640);
const registry = standardRegistry();
// Grafana initialises locationUtil with its config (appSubUrl from root_url) at boot.
locationUtil.initialize({ config: { appSubUrl: params.get('subpath') ?? '' } as never, getTimeRangeForUrl: () => ({ from: 'now-6h', to: 'now' }), getVariablesUrlParams: () => ({}) });

export const FIELD_CONFIG: FieldConfigSource = {
  defaults: { min: 0, max: 1, thresholds: { mode: ThresholdsMode.Absolute, steps: [{ value: -Infinity, color: 'green' }, { value: 0.8, color: 'red' }] } },
  overrides: [
    { matcher: { id: 'byRegexp', options: '.*[Uu]tilization.*' }, properties: [
      { id: 'unit', value: 'percentunit' }, { id: 'decimals', value: 1 },
      { id: 'thresholds', value: { mode: ThresholdsMode.Absolute, steps: [{ value: -Infinity, color: 'green' }, { value: 0.7, color: 'orange' }, { value: 0.9, color: 'red' }] } },
    ] },
    { matcher: { id: 'byRegexp', options: '.*(Anomaly score|anomaly_score).*' }, properties: [{ id: 'decimals', value: 2 }] },
  ],
};

function process(series: DataFrame[]): DataFrame[] {
  return applyFieldOverrides({ data: series, fieldConfig: FIELD_CONFIG, fieldConfigRegistry: registry, replaceVariables: (s) => s, theme, timeZone: 'utc' });
}

const TO = Date.UTC(2026, 10, 21, 18, 0, 0);
function panelData(series: DataFrame[], from: number, to: number): PanelData {
  return { series, state: LoadingState.Done, timeRange: { from: dateTime(from), to: dateTime(to), raw: { from: dateTime(from), to: dateTime(to) } } };
}

function panelProps(data: PanelData, options: Partial<PanelOptions> = {}): PanelProps<PanelOptions> {
  return {
    id: 1, data, timeRange: data.timeRange, timeZone: 'utc', options: { ...DEFAULT_OPTIONS, ...options }, fieldConfig: FIELD_CONFIG,
    width: W, height: H, transparent: false, renderCounter: 0, title: 'Site health', eventBus: {} as never,
    onOptionsChange: () => {}, onFieldConfigChange: () => {}, onChangeTimeRange: () => {},
    replaceVariables: (s: string) => s.replace('${__url_time_range}', `from=${data.timeRange.from.valueOf()}&to=${data.timeRange.to.valueOf()}`),
  } as unknown as PanelProps<PanelOptions>;
}

function Frame({ children }: { children: React.ReactNode }) {
  return (
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <div data-testid={harnessIds.frame} data-theme={themeName} style={{ background: theme.colors.background.canvas, color: theme.colors.text.primary, fontFamily: theme.typography.fontFamily, padding: 8, minHeight: '100vh', boxSizing: 'border-box' }}>
        <div style={{ background: theme.colors.background.primary, border: `1px solid ${theme.colors.border.weak}`, borderRadius: 2, padding: 8, width: view === 'panel' ? W : 900 }}>{children}</div>
      </div>
    </ThemeContext.Provider>
  );
}

const root = createRoot(document.getElementById('root')!);

function renderPanel(data: PanelData, options?: Partial<PanelOptions>) {
  flushSync(() => root.render(<Frame><SiteHealthPanel {...panelProps(data, options)} /></Frame>));
}

function QueryEditorDemo() {
  const [query, setQuery] = useState<OptiFiberQuery>({ refId: 'A', sites: ['site-0001', '$site'], metric: 'anomalyScore', mode: 'history' });
  const [runs, setRuns] = useState(0);
  const ds = { siteNames: async () => Array.from({ length: 8 }, (_, i) => siteName(i)) } as unknown as DataSource;
  return (
    <div>
      <QueryEditor query={query} onChange={setQuery} onRunQuery={() => setRuns((r) => r + 1)} datasource={ds} />
      <pre data-testid={harnessIds.queryJson} style={{ marginTop: 12 }}>{JSON.stringify(query)}</pre>
      <div data-testid={harnessIds.queryRuns}>{runs}</div>
    </div>
  );
}

function VariableEditorDemo() {
  const [query, setQuery] = useState<unknown>(params.get('legacy') ?? { refId: 'V', kind: 'sites' });
  return (
    <div>
      <VariableQueryEditor query={query as OptiFiberVariableQuery} onChange={setQuery} />
      <pre data-testid={harnessIds.variableJson} style={{ marginTop: 12 }}>{JSON.stringify(query)}</pre>
    </div>
  );
}

function ConfigEditorDemo() {
  const [options, setOptions] = useState<React.ComponentProps<typeof ConfigEditor>['options']>({
    id: 1, uid: 'optifiber', orgId: 1, name: 'OptiFiber', type: DATASOURCE_TYPE, typeName: 'OptiFiber Telemetry', typeLogoUrl: '',
    access: 'proxy', url: 'http://127.0.0.1:9886', user: '', database: '', basicAuth: false, basicAuthUser: '', isDefault: false, readOnly: false, withCredentials: false,
    jsonData: { url: 'http://127.0.0.1:9886', authType: 'bearer' as const, pollTimeoutSeconds: 20 },
    // As Grafana sends it after saving: which secrets are set, never their values.
    secureJsonFields: { token: true },
    secureJsonData: {},
  });
  return (
    <div>
      <ConfigEditor options={options} onOptionsChange={setOptions} />
      <pre data-testid={harnessIds.optionsJson} style={{ marginTop: 12 }}>{JSON.stringify({ jsonData: options.jsonData, secureJsonFields: options.secureJsonFields, secureJsonData: options.secureJsonData })}</pre>
    </div>
  );
}

declare global {
  interface Window { __harness: Record<string, unknown>; __ready?: boolean }
}

if (view === 'panel') {
  const n = Number(params.get('sites') ?? 4);
  const buckets = Number(params.get('buckets') ?? 500);
  const scenario = (params.get('scenario') ?? 'normal') as Scenario;
  const stepMs = 15_000;
  const from = TO - (buckets - 1) * stepMs;
  const siteUrl = params.get('siteUrl');
  renderPanel(panelData(process(makeFrames(n, buckets, TO, stepMs, scenario)), from, TO + 1), siteUrl !== null ? { siteUrl } : {});
} else if (view === 'variable') {
  root.render(<Frame><VariableEditorDemo /></Frame>);
} else if (view === 'query') {
  root.render(<Frame><QueryEditorDemo /></Frame>);
} else if (view === 'config') {
  root.render(<Frame><ConfigEditorDemo /></Frame>);
} else if (view === 'live') {
  // Live mode through a (loopback) proxy: the data source's long-poll loop with fetch.
  const base = params.get('base') ?? '';
  const latencies: number[] = [];
  window.__harness = { latencies };
  const fetcher = async (url: string, opts?: { signal?: AbortSignal }) => {
    const r = await fetch(url, { signal: opts?.signal });
    return { status: r.status, data: await r.json().catch(() => null) };
  };
  liveStream({ fetcher, base, refId: 'A', metric: 'utilization', sites: null, windowMs: 5 * 60_000, timeoutSeconds: 20 }).subscribe((res) => {
    const series = process(res.data as DataFrame[]);
    let newest = 0;
    for (const f of series) { const v = f.fields[0]?.values; newest = Math.max(newest, (v?.[v.length - 1] as number) ?? 0); }
    renderPanel(panelData(series, Date.now() - 5 * 60_000, Date.now() + 1000), { showGauges: true });
    // pixels: the frame after the DOM commit
    requestAnimationFrame(() => setTimeout(() => latencies.push(Date.now() - newest), 0));
  });
}

// Benchmark hooks: build N x B frames once, then time synchronous renders.
window.__harness = {
  ...(window.__harness ?? {}),
  theme: themeName,
  benchPrepare(n: number, buckets: number) {
    const stepMs = 15_000;
    const t0 = performance.now();
    const series = process(makeFrames(n, buckets, TO, stepMs, 'normal'));
    const overridesMs = performance.now() - t0;
    (window.__harness as Record<string, unknown>).benchData = { series, from: TO - (buckets - 1) * stepMs, to: TO + 1 };
    return { frames: series.length, overridesMs };
  },
  benchRender() {
    const d = (window.__harness as { benchData: { series: DataFrame[]; from: number; to: number } }).benchData;
    performance.mark('optifiber-render-start');
    renderPanel(panelData([...d.series], d.from, d.to));
    performance.mark('optifiber-render-end');
    return performance.measure('optifiber-render', 'optifiber-render-start', 'optifiber-render-end').duration;
  },
  benchUnmount() {
    flushSync(() => root.render(<Frame><div /></Frame>));
  },
};
window.__ready = true;
export type { GrafanaTheme2 };
