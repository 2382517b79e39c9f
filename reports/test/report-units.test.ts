// Pure parts of the reports: CSV quoting, time/step/week parsing, the fit,
// the SVG charts and the CLI's usage errors (no Prometheus needed).
import { CSV_COLUMNS, CSV_HEADER, csvField, csvNumber, siteSelector, validateRange } from '../src/csv.js';
import { promRegexEscape, ReportError } from '../src/prom.js';
import { lineChart } from '../src/svg.js';
import { isoWeekOf, lastCompleteWeek, parseIsoWeek, parseStep, parseTime } from '../src/util.js';
import { linearFit } from '../src/weekly.js';
import { reportHelp, runReport } from '../src/cli.js';

const err = (fn: () => unknown): ReportError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ReportError) return e;
    throw e;
  }
  throw new Error('did not throw');
};

test('RFC 4180 quoting', () => {
  expect(csvField('site1')).toBe('site1');
  expect(csvField('a,b')).toBe('"a,b"');
  expect(csvField('say "hi"')).toBe('"say ""hi"""');
  expect(csvField('two\nlines')).toBe('"two\nlines"');
  expect(csvField('cr\r')).toBe('"cr\r"');
  expect(csvNumber(undefined)).toBe('');
  expect(csvNumber(NaN)).toBe('NaN');
  expect(csvNumber(Infinity)).toBe('+Inf');
  expect(csvNumber(-Infinity)).toBe('-Inf');
  expect(csvNumber(1.5e-7)).toBe('1.5e-7');
  expect(csvNumber(100000000000)).toBe('100000000000');
});

test('header: documented columns, units in the names, no duplicates', () => {
  expect(CSV_HEADER.split(',')).toEqual(CSV_COLUMNS.map((c) => c.name));
  expect(new Set(CSV_COLUMNS.map((c) => c.name)).size).toBe(CSV_COLUMNS.length);
  for (const c of CSV_COLUMNS.slice(3)) expect(c.name).toMatch(/_(bytes_per_second|ratio|db|modules|max|seconds)$/);
});

test('site selection is a safe regex matcher', () => {
  expect(siteSelector(undefined)).toBe('');
  expect(siteSelector(['a.b', 'c|d', 'e"f'])).toBe('{site=~"a\\\\.b|c\\\\|d|e\\"f"}'.replace(/\\\\/g, '\\'));
  expect(promRegexEscape('x(1)')).toBe('x\\(1\\)');
});

test('steps and times', () => {
  expect(parseStep('30s')).toBe(30);
  expect(parseStep('5m')).toBe(300);
  expect(parseStep('1h30m')).toBe(5400);
  expect(parseStep('1d')).toBe(86400);
  expect(parseStep('60')).toBe(60);
  for (const bad of ['', 'abc', '0', '0s', '-5m', '5 m', '5M', '0.5']) expect(err(() => parseStep(bad)).exitCode).toBe(2);
  const now = Date.parse('2026-11-21T18:00:00Z') / 1000;
  expect(parseTime('2026-11-20', '--from', now)).toBe(Date.parse('2026-11-20T00:00:00Z') / 1000);
  expect(parseTime('2026-11-20T06:00:00+02:00', '--from', now)).toBe(Date.parse('2026-11-20T04:00:00Z') / 1000);
  expect(parseTime('1794787200', '--from', now)).toBe(1794787200);
  expect(parseTime('now', '--to', now)).toBe(now);
  expect(parseTime('now-1d', '--from', now)).toBe(now - 86400);
  for (const bad of ['yesterday', '2026-13-01x', '20/11/2026', 'now-x']) expect(err(() => parseTime(bad, '--from', now)).message).toMatch(/--from/);
  expect(err(() => validateRange(10, 5, 1)).message).toMatch(/must be before/);
  expect(err(() => validateRange(0, 100, 200)).message).toMatch(/longer than the range/);
  expect(validateRange(0, 100, 10)).toBe(11);
});

test('ISO weeks', () => {
  expect(parseIsoWeek('2026-W46')).toEqual({ label: '2026-W46', start: Date.UTC(2026, 10, 9) / 1000, end: Date.UTC(2026, 10, 16) / 1000 });
  expect(parseIsoWeek('2026-W01').start).toBe(Date.UTC(2025, 11, 29) / 1000); // 2026-01-01 is a Thursday
  expect(parseIsoWeek('2020-W53').label).toBe('2020-W53');
  expect(err(() => parseIsoWeek('2021-W53')).message).toMatch(/2021 has no week 53/);
  expect(err(() => parseIsoWeek('2026-W00')).exitCode).toBe(2);
  expect(err(() => parseIsoWeek('46')).message).toMatch(/not an ISO week/);
  expect(isoWeekOf(Date.UTC(2027, 0, 1) / 1000).label).toBe('2026-W53');
  expect(lastCompleteWeek(Date.UTC(2026, 10, 21, 18) / 1000).label).toBe('2026-W46');
  expect(lastCompleteWeek(Date.UTC(2026, 10, 16, 0, 0, 1) / 1000).label).toBe('2026-W46');
});

test('growth fit', () => {
  const f = linearFit([0, 1, 2, 3], [1, 3, 5, 7])!;
  expect(f.b).toBeCloseTo(2);
  expect(f.a).toBeCloseTo(1);
  expect(f.r2).toBeCloseTo(1);
  expect(linearFit([0, 1], [1, 2])).toBeUndefined();
});

test('SVG chart: lines, band, log axis, gaps', () => {
  const pts = (f: (i: number) => number) => Array.from({ length: 48 }, (_, i) => ({ t: 86400 + i * 3600, v: f(i) }));
  const svg = lineChart({
    width: 600, height: 200, from: 86400, to: 86400 * 3, yLabel: 'Gbit/s', yFormat: (v) => String(v),
    lines: [{ name: 'throughput', color: '#00f', points: pts((i) => 10 + i).filter((_, i) => i < 10 || i > 20) }],
    band: { name: 'forecast', color: '#f90', lo: pts((i) => 9 + i), hi: pts((i) => 12 + i) },
  });
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('<polygon');
  expect((/<path d="([^"]+)"/.exec(svg)![1]!.match(/M/g) ?? []).length).toBe(2); // the gap splits the line
  expect(svg).toContain('>throughput<');
  const log = lineChart({ width: 600, height: 200, from: 0, to: 86400, yLabel: 'BER', yFormat: (v) => v.toExponential(0), log: true, lines: [{ name: 'ber', color: '#000', points: [{ t: 0, v: 1e-7 }, { t: 3600, v: 1e-3 }] }] });
  expect(log).toContain('>1e-7<');
  expect(log).toContain('>1e-3<');
});

describe('CLI usage errors', () => {
  const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    let out = '';
    let er = '';
    const code = await runReport(args, { env, stdout: (s) => (out += s), stderr: (s) => (er += s) });
    return { code, out, er };
  };
  test('help and unknown reports', async () => {
    expect((await run(['--help'])).out).toBe(reportHelp());
    expect((await run(['csv', '--help'])).code).toBe(0);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.er).toContain('usage: optifiber report');
    const bad = await run(['xlsx']);
    expect(bad.code).toBe(2);
    expect(bad.er).toMatch(/unknown report "xlsx"/);
  });
  test('flag errors', async () => {
    expect((await run(['csv', '--from'])).er).toMatch(/flag --from needs a value/);
    expect((await run(['csv', 'positional'])).er).toMatch(/unexpected argument "positional"/);
    expect((await run(['pdf', '--week', '2026-W46'])).er).toMatch(/--out is required/);
    expect((await run(['schedule', '--listen', 'nowhere'])).er).toMatch(/--listen "nowhere" must be HOST:PORT/);
    expect((await run(['csv', '--from', 'now-1d', '--out', '/tmp/x.csv', '--sites', ','])).er).toMatch(/--sites is empty/);
  });
  test('SOURCE_DATE_EPOCH is "now" for csv and pdf; anything but unix seconds is refused', async () => {
    // 2026-11-01: week 46 has not begun then, whatever the clock says today
    const early = await run(['pdf', '--week', '2026-W46', '--out', '/tmp/x.pdf'], { SOURCE_DATE_EPOCH: '1761955200' });
    expect([early.code, early.er]).toEqual([2, expect.stringMatching(/--week 2026-W46 starts .*in the future/)]);
    const bad = await run(['csv', '--from', 'now-1d', '--out', '/tmp/x.csv'], { SOURCE_DATE_EPOCH: 'yesterday' });
    expect([bad.code, bad.er]).toEqual([2, expect.stringMatching(/SOURCE_DATE_EPOCH "yesterday" must be unix seconds/)]);
  });
});
