import { createTheme, ThresholdsMode, type ThresholdsConfig } from '@grafana/data';
import { buildLut, paintGrid } from '../src/heatmap.js';
import { locationUtil } from '@grafana/data';
import { siteLink } from '../src/links.js';
import { moveCell } from '../src/SiteHealthPanel.js';
import { activeStep, linkComponent, linkFromValue, Severity, stepSeverity, thresholdComponent, worst } from '../src/state.js';

const id = (c: string) => c;
const three: ThresholdsConfig = { mode: ThresholdsMode.Absolute, steps: [{ value: -Infinity, color: 'green' }, { value: 0.7, color: 'orange' }, { value: 0.9, color: 'red' }] };

describe('thresholds and worst state', () => {
  test('active threshold step (absolute and percentage)', () => {
    expect(activeStep(0.5, three)).toBe(0);
    expect(activeStep(0.7, three)).toBe(1);
    expect(activeStep(0.95, three)).toBe(2);
    expect(activeStep(0.79, undefined)).toBe(0);
    expect(activeStep(0.8, undefined)).toBe(1); // default: 0.8
    const pct: ThresholdsConfig = { mode: ThresholdsMode.Percentage, steps: [{ value: -Infinity, color: 'green' }, { value: 50, color: 'red' }] };
    expect(activeStep(60, pct, 0, 100)).toBe(1);
    expect(activeStep(0.4, pct, 0, 1)).toBe(0);
  });

  test('step -> severity', () => {
    expect(stepSeverity(0, 3)).toBe(Severity.ok);
    expect(stepSeverity(1, 3)).toBe(Severity.warning);
    expect(stepSeverity(2, 3)).toBe(Severity.critical);
    expect(stepSeverity(1, 2)).toBe(Severity.critical);
  });

  test("a site's color is its worst component", () => {
    const util = thresholdComponent('utilization', 0.75, three, id);
    const link = linkComponent('up', id);
    const anomaly = thresholdComponent('anomaly', 0.85, undefined, id);
    expect(util?.color).toBe('orange');
    expect(worst([util, link])?.kind).toBe('utilization');
    expect(worst([util, link, anomaly])).toMatchObject({ kind: 'anomaly', color: 'red', severity: Severity.critical });
    expect(worst([link, linkComponent('down', id)])?.reason).toBe('link down');
    expect(worst([null, thresholdComponent('anomaly', NaN, undefined, id)])).toBeNull();
    expect(worst([linkComponent('unknown', id), link])?.severity).toBe(Severity.unknown);
  });

  test('link values', () => {
    expect(linkFromValue(0)).toBe('down');
    expect(linkFromValue(0.5)).toBe('degraded');
    expect(linkFromValue(1)).toBe('up');
    expect(linkFromValue(null)).toBe('unknown');
  });

  test('heat-map colors follow the thresholds; NaN is a gap', () => {
    const theme = createTheme({ colors: { mode: 'dark' } });
    const { lut, gap } = buildLut(theme, undefined);
    const rgb = (v: number) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255];
    const red = rgb(lut[255]!);
    const green = rgb(lut[0]!);
    expect(red[0]).toBeGreaterThan(red[1]!); // red above 0.8
    expect(green[1]).toBeGreaterThan(green[0]!); // green below
    expect(lut[255]! >>> 24).toBe(255);
    const px = paintGrid({ sites: ['a'], buckets: 3, from: 0, to: 1, values: new Float32Array([0, NaN, 1]), sampleIndex: new Int32Array(3) }, lut, gap);
    expect(Array.from(px)).toEqual([lut[0], gap, lut[255]]);
  });

  test('site link', () => {
    expect(siteLink('/d/optifiber-site?var-site=${site}', 'paris 1')).toEqual({ href: '/d/optifiber-site?var-site=paris%201', internal: '/d/optifiber-site?var-site=paris%201' });
    expect(siteLink('/d/x?var-site=${site}&${__url_time_range}', 'a', (s) => s.replace('${__url_time_range}', 'from=1&to=2')).href).toBe('/d/x?var-site=a&from=1&to=2');
    expect(siteLink('https://noc.example/sites/${site}', 'a')).toEqual({ href: 'https://noc.example/sites/a' });
  });

  test.each([
    'javascript:alert(document.cookie)',
    ' JavaScript:alert(1)',
    'java\tscript:alert(1)',
    '&#106;avascript:alert(1)',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'vbscript:msgbox(1)',
  ])('site link %p is refused (Grafana\'s textUtil.sanitizeUrl): no href at all', (url) => {
    expect(siteLink(url, 'a')).toEqual({});
  });

  test('a variable that expands to javascript: is refused too (sanitised after replaceVariables)', () => {
    expect(siteLink('${target}', 'a', () => 'javascript:alert(1)')).toEqual({});
  });

  test('sub-path: Grafana paths get root_url\'s sub-path in href, and navigate without it', () => {
    locationUtil.initialize({ config: { appSubUrl: '/grafana' } as never, getTimeRangeForUrl: () => ({ from: 'now-1h', to: 'now' }), getVariablesUrlParams: () => ({}) });
    try {
      expect(siteLink('/d/optifiber-site?var-site=${site}', 'a')).toEqual({ href: '/grafana/d/optifiber-site?var-site=a', internal: '/d/optifiber-site?var-site=a' });
      // a template that already carries the sub-path is not prefixed twice
      expect(siteLink('/grafana/d/x?var-site=${site}', 'a')).toEqual({ href: '/grafana/d/x?var-site=a', internal: '/d/x?var-site=a' });
      // protocol-relative = another origin: external, untouched
      expect(siteLink('//evil.example/x', 'a')).toEqual({ href: '//evil.example/x' });
    } finally {
      locationUtil.initialize({ config: { appSubUrl: '' } as never, getTimeRangeForUrl: () => ({ from: 'now-1h', to: 'now' }), getVariablesUrlParams: () => ({}) });
    }
  });

  test('heat-map keyboard: arrows, pages, Home/End, clamped at the edges', () => {
    const c = { row: 1, col: 1 };
    expect(moveCell(c, 'ArrowLeft', 4, 10, 2)).toEqual({ row: 1, col: 0 });
    expect(moveCell({ row: 1, col: 0 }, 'ArrowLeft', 4, 10, 2)).toEqual({ row: 1, col: 0 });
    expect(moveCell(c, 'ArrowRight', 4, 10, 2)).toEqual({ row: 1, col: 2 });
    expect(moveCell(c, 'ArrowUp', 4, 10, 2)).toEqual({ row: 0, col: 1 });
    expect(moveCell(c, 'ArrowDown', 4, 10, 2)).toEqual({ row: 2, col: 1 });
    expect(moveCell(c, 'PageDown', 4, 10, 2)).toEqual({ row: 3, col: 1 });
    expect(moveCell(c, 'PageDown', 4, 10, 5)).toEqual({ row: 3, col: 1 });
    expect(moveCell(c, 'Home', 4, 10, 2)).toEqual({ row: 1, col: 0 });
    expect(moveCell(c, 'End', 4, 10, 2)).toEqual({ row: 1, col: 9 });
    expect(moveCell(c, 'a', 4, 10, 2)).toBeNull();
  });
});
