import { historyParams, MAX_POINTS, parseStepSeconds, resolveSites, toQueryString, validateQuery, withDefaults } from '../src/query.js';

describe('query building and validation', () => {
  test('defaults: all sites, utilization, history', () => {
    expect(withDefaults({ refId: 'A' })).toEqual({ refId: 'A', sites: [], metric: 'utilization', mode: 'history' });
  });

  test('validation reports what to fix', () => {
    expect(validateQuery(withDefaults({ refId: 'A' }))).toEqual([]);
    expect(validateQuery(withDefaults({ refId: 'A', mode: 'bogus' as never }))[0]).toMatch(/Unknown mode/);
    expect(validateQuery(withDefaults({ refId: 'A', metric: 'nope' as never }))[0]).toMatch(/Unknown metric/);
    expect(validateQuery(withDefaults({ refId: 'A', mode: 'forecast', metric: 'osnrDb' }))[0]).toMatch(/no forecast/);
    expect(validateQuery(withDefaults({ refId: 'A', sites: ['bad name!'] }))[0]).toMatch(/not a site name/);
    expect(validateQuery(withDefaults({ refId: 'A', sites: ['$site'] }))).toEqual([]);
    expect(validateQuery(withDefaults({ refId: 'A', step: '5 parsecs' }))[0]).toMatch(/not a duration/);
  });

  test('step durations', () => {
    expect(parseStepSeconds('15')).toBe(15);
    expect(parseStepSeconds('0.5')).toBe(0.5);
    expect(parseStepSeconds('1h30m')).toBe(5400);
    expect(parseStepSeconds('500ms')).toBe(0.5);
    expect(parseStepSeconds('0')).toBeNull();
    expect(parseStepSeconds('1x')).toBeNull();
  });

  test('template variables expand to sites; All means no filter', () => {
    const vars: Record<string, string> = { $site: 'paris-1,berlin-2', $one: 'oslo', $all: '$__all' };
    const interp = (v: string) => vars[v] ?? v;
    expect(resolveSites(['$site', 'oslo'], interp)).toEqual(['berlin-2', 'oslo', 'paris-1']);
    expect(resolveSites([], interp)).toBeNull();
    expect(resolveSites(['$all'], interp)).toBeNull();
    expect(resolveSites(['{a,b}'], (v) => v)).toEqual(['a', 'b']);
  });

  test('history step never exceeds the exporter limit of 11000 points', () => {
    const p = historyParams(0, 7 * 86400e3, 1000);
    const points = (7 * 86400) / Number(p.step) + 1;
    expect(points).toBeLessThanOrEqual(MAX_POINTS);
    expect(historyParams(0, 3600e3, 15000).step).toBe('15');
    expect(historyParams(0, 3600e3, 15000, '1m').step).toBe('60');
    expect(toQueryString({ a: 1, b: undefined, c: 'x y' })).toBe('?a=1&c=x%20y');
  });
});
