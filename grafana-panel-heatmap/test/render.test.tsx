import { createTheme, dateTime, LoadingState, type PanelProps } from '@grafana/data';
import { ThemeContext } from '@grafana/ui';
import { render, screen } from '@testing-library/react';
import React from 'react';
import { SiteHealthPanel } from '../src/SiteHealthPanel.js';
import { DEFAULT_OPTIONS, type PanelOptions } from '../src/types.js';
import { dsFrame } from './frames.js';
import { testIds } from '../src/testIds.js';

function props(series: PanelProps<PanelOptions>['data']['series']): PanelProps<PanelOptions> {
  const range = { from: dateTime(0), to: dateTime(10_000), raw: { from: '0', to: '10000' } };
  return {
    id: 1, data: { series, state: LoadingState.Done, timeRange: range }, timeRange: range, timeZone: 'utc', options: DEFAULT_OPTIONS,
    fieldConfig: { defaults: {}, overrides: [] }, width: 800, height: 400, transparent: false, renderCounter: 0, title: 't',
    eventBus: {} as never, onOptionsChange: () => {}, onFieldConfigChange: () => {}, onChangeTimeRange: () => {},
    replaceVariables: (s: string) => s,
  } as unknown as PanelProps<PanelOptions>;
}

const wrap = (ui: React.ReactElement) => <ThemeContext.Provider value={createTheme()}>{ui}</ThemeContext.Provider>;

describe('SiteHealthPanel (jsdom)', () => {
  test('no data', () => {
    render(wrap(<SiteHealthPanel {...props([])} />));
    expect(screen.getByTestId(testIds.panel.noData).textContent).toMatch(/No data/);
  });
  test('a gauge per site with its link', () => {
    render(wrap(<SiteHealthPanel {...props([dsFrame('a', 'utilization', [0.5]), dsFrame('b', 'utilization', [0.95]), dsFrame('a', 'anomalyScore', [0.2, 0.3])])} />));
    const gauges = screen.getAllByTestId(testIds.gauges.gauge);
    expect(gauges.map((g) => g.getAttribute('data-site'))).toEqual(['a', 'b']);
    expect(gauges[0]!.getAttribute('href')).toBe('/d/optifiber-site?var-site=a');
    expect(gauges[1]!.getAttribute('data-severity')).toBe('critical');
    expect(screen.getAllByTestId(testIds.heatmap.rowLabel).map((l) => l.getAttribute('data-site'))).toEqual(['a', 'b']);
    expect(screen.getAllByTestId(testIds.heatmap.rowLabel)[1]!.textContent).toMatch(/^\s*b: Critical, utilization above 0\.8\.$/);
    // state by icon and text as well as colour
    expect(gauges[1]!.textContent).toMatch(/b: Critical, utilization above 0\.8\./);
    expect(gauges[1]!.querySelector(`[data-testid=${testIds.gauges.stateIcon}]`)?.getAttribute('data-severity')).toBe('critical');
  });
  test('a javascript: site link renders no href (textUtil.sanitizeUrl)', () => {
    const p = props([dsFrame('a', 'utilization', [0.5])]);
    render(wrap(<SiteHealthPanel {...p} options={{ ...DEFAULT_OPTIONS, siteUrl: 'javascript:alert(document.domain)//${site}' }} />));
    const g = screen.getByTestId(testIds.gauges.gauge);
    expect(g.hasAttribute('href')).toBe(false);
    expect(document.body.innerHTML).not.toMatch(/javascript:/i);
  });
});
