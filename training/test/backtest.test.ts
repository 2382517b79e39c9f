/**
 * @jest-environment ./exporter/test/ai-environment.cjs
 */
// The backtest CLI: replays a history through the exporter's own pipeline and
// committed models, online (moved with backtest.ts from the exporter's
// ai-serving.test.ts).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultModelDir } from '@optifiber/exporter/ai/model-dir';
import { runBacktest } from '../src/backtest.js';

describe('backtest CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ofbt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const quiet = (): void => {};

  test('anomaly on a plain timestamp,value series: one row per timestamp, spike flagged', async () => {
    const rows = ['timestamp,value'];
    for (let i = 0; i < 400; i++) rows.push(`${1700000000 + i * 60},${1000 + 10 * Math.sin(i / 7) + (i === 300 ? 5000 : 0)}`);
    writeFileSync(join(dir, 's.csv'), rows.join('\n'));
    expect(await runBacktest(['anomaly', '--input', join(dir, 's.csv'), '--output', join(dir, 's.out')], quiet)).toBe(0);
    const out = readFileSync(join(dir, 's.out'), 'utf8').trim().split('\n');
    expect(out[0]).toBe('timestamp,anomaly_score');
    expect(out.length).toBe(401);
    expect(Number(out[301]!.split(',')[1])).toBeGreaterThanOrEqual(0.8);
    expect(Number(out[100]!.split(',')[1])).toBeLessThan(0.8);
  });

  test('anomaly on the optical testbed format (label column ignored)', async () => {
    const rows = ['Timestamp,Type,ID,BER,OSNR,InputPower,OutputPower,Failure'];
    for (let i = 0; i < 200; i++) {
      const fail = i >= 150 && i < 170;
      rows.push(`${1624457562 + i * 3},Devices,SPO2/18/11,${fail ? '1.5E-04' : (2e-7 * (1 + 0.1 * Math.sin(i))).toExponential(2)},${fail ? 18.3 : 25.4 + 0.2 * Math.sin(i / 3)},,,${fail ? 1 : ''}`);
      rows.push(`${1624457562 + i * 3},Infrastructure,Ampli1,,,${(-20 + 0.3 * Math.cos(i)).toFixed(1)},0.7,`);
    }
    writeFileSync(join(dir, 'o.csv'), rows.join('\n'));
    const noLabel = rows.map((r) => r.split(',').slice(0, 7).join(','));
    writeFileSync(join(dir, 'o2.csv'), noLabel.join('\n'));
    expect(await runBacktest(['anomaly', '--input', join(dir, 'o.csv'), '--output', join(dir, 'o.out')], quiet)).toBe(0);
    expect(await runBacktest(['anomaly', '--input', join(dir, 'o2.csv'), '--output', join(dir, 'o2.out')], quiet)).toBe(0);
    const a = readFileSync(join(dir, 'o.out'), 'utf8');
    expect(a).toBe(readFileSync(join(dir, 'o2.out'), 'utf8'));
    const out = a.trim().split('\n');
    expect(out.length).toBe(201);
    expect(Number(out[152]!.split(',')[1])).toBeGreaterThanOrEqual(0.8);
  });

  const forecastInput = (): string[] => {
    const rows = ['time,value'];
    const v = (i: number): number => 1000 + 300 * Math.sin((2 * Math.PI * i) / 288) + (i % 5);
    for (let i = 0; i < 900; i++) rows.push(`${new Date(Date.UTC(2020, 0, 1) + i * 300000).toISOString().replace('T', ' ').slice(0, 19)},${v(i)}`);
    return rows;
  };

  test('forecast (served model, the default): one row per input row with p10/p50/p90, using only the past', async () => {
    const rows = forecastInput();
    writeFileSync(join(dir, 'f.csv'), rows.join('\n'));
    expect(await runBacktest(['forecast', '--input', join(dir, 'f.csv'), '--output', join(dir, 'f.out')], quiet)).toBe(0);
    const out = readFileSync(join(dir, 'f.out'), 'utf8').trim().split('\n');
    expect(out[0]).toBe('timestamp,forecast,p10,p90');
    expect(out.length - 1).toBe(900);
    for (const l of out.slice(200)) {
      const [, p50, p10, p90] = l.split(',').map(Number);
      expect(p10!).toBeLessThanOrEqual(p50!);
      expect(p50!).toBeLessThanOrEqual(p90!);
    }
    // no look-ahead: changing the future does not change earlier forecasts
    const changed = [...rows];
    changed[850] = changed[850]!.replace(/,.*/, ',99999');
    writeFileSync(join(dir, 'f2.csv'), changed.join('\n'));
    await runBacktest(['forecast', '--input', join(dir, 'f2.csv'), '--output', join(dir, 'f2.out')], quiet);
    const out2 = readFileSync(join(dir, 'f2.out'), 'utf8').trim().split('\n');
    expect(out2.slice(0, 850)).toEqual(out.slice(0, 850));
    expect(out2.slice(851)).not.toEqual(out.slice(851));
  });

  test('forecast --refit keeps the fit-on-the-head comparison: rows after the split only', async () => {
    writeFileSync(join(dir, 'f.csv'), forecastInput().join('\n'));
    expect(await runBacktest(['forecast', '--refit', '--horizon', '15m', '--train-fraction', '0.6667', '--input', join(dir, 'f.csv'), '--output', join(dir, 'fr.out')], quiet)).toBe(0);
    const out = readFileSync(join(dir, 'fr.out'), 'utf8').trim().split('\n');
    expect(out[0]).toBe('timestamp,forecast');
    expect(out.length - 1).toBe(900 - Math.floor(900 * 0.6667));
  });

  test('forecast refuses a series coarser than the served buckets, with a clear error', async () => {
    const rows = ['time,value', ...Array.from({ length: 50 }, (_, i) => `${1700000000 + i * 3600},${100 + i}`)];
    writeFileSync(join(dir, 'h.csv'), rows.join('\n'));
    const logs: string[] = [];
    expect(await runBacktest(['forecast', '--input', join(dir, 'h.csv'), '--output', join(dir, 'h.out')], (l) => logs.push(l))).toBe(2);
    expect(logs.join('\n')).toMatch(/coarser than the served model's 300 s buckets: use --refit/);
  });

  test('wide CSV, any delimiter: label columns are not inputs, one row per timestamp in input order', async () => {
    for (const [name, d] of [['semi', ';'], ['tab', '\t'], ['comma', ',']] as const) {
      const rows = [['datetime', 'a', 'b', 'anomaly', 'changepoint'].join(d)];
      for (let i = 0; i < 600; i++) rows.push([`2020-03-09 10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`, 5 + Math.sin(i), 3 + (i === 500 ? 60 : Math.cos(i / 3)), i === 500 ? 1 : 0, 0].join(d));
      writeFileSync(join(dir, `${name}.csv`), rows.join('\n'));
      expect(await runBacktest(['anomaly', '--input', join(dir, `${name}.csv`), '--output', join(dir, `${name}.out`)], quiet)).toBe(0);
      const out = readFileSync(join(dir, `${name}.out`), 'utf8').trim().split('\n');
      expect(out.length).toBe(601);
      expect(out[1]!.startsWith('2020-03-09 10:00:00,')).toBe(true);
      expect(Number(out[501]!.split(',')[1])).toBeGreaterThanOrEqual(0.8);
    }
    // the label columns change nothing
    const noLabel = readFileSync(join(dir, 'comma.csv'), 'utf8').split('\n').map((l) => l.split(',').slice(0, 3).join(','));
    writeFileSync(join(dir, 'nolabel.csv'), noLabel.join('\n'));
    await runBacktest(['anomaly', '--input', join(dir, 'nolabel.csv'), '--output', join(dir, 'nolabel.out')], quiet);
    expect(readFileSync(join(dir, 'nolabel.out'), 'utf8')).toBe(readFileSync(join(dir, 'comma.out'), 'utf8'));
  });

  test('index-only files need --time-step and then use it', async () => {
    const rows = ['idx,m0,m1,label', ...Array.from({ length: 300 }, (_, i) => `${i},${0.5 + 0.01 * Math.sin(i)},${0.2},0`)];
    writeFileSync(join(dir, 'idx.csv'), rows.join('\n'));
    const logs: string[] = [];
    expect(await runBacktest(['anomaly', '--input', join(dir, 'idx.csv'), '--output', join(dir, 'idx.out')], (l) => logs.push(l))).toBe(1);
    expect(logs.join('\n')).toMatch(/row index: pass --time-step/);
    expect(await runBacktest(['anomaly', '--time-step', '60s', '--input', join(dir, 'idx.csv'), '--output', join(dir, 'idx.out')], quiet)).toBe(0);
    expect(readFileSync(join(dir, 'idx.out'), 'utf8').trim().split('\n').length).toBe(301);
    expect(await runBacktest(['anomaly', '--time-step', 'soon', '--input', join(dir, 'idx.csv'), '--output', join(dir, 'idx.out')], quiet)).toBe(2);
  });

  // What public corpora look like, written here (no labelled corpus is read): a value with a
  // daily-ish wave and a burst at rows 300-304, and a 0/1 label marking the burst.
  const wave = Array.from({ length: 600 }, (_, i) => 10 + Math.sin(i / 20) + 0.1 * Math.sin(i * 1.7) + (i >= 300 && i < 305 ? 8 : 0));
  const mark = wave.map((_, i) => (i >= 300 && i < 305 ? 1 : 0));
  const run = async (name: string, text: string, ...args: string[]): Promise<{ rc: number; out: string[]; logs: string }> => {
    writeFileSync(join(dir, name), text);
    const logs: string[] = [];
    const rc = await runBacktest(['anomaly', '--input', join(dir, name), '--output', join(dir, `${name}.out`), ...args], (l) => logs.push(l));
    return { rc, out: rc === 0 ? readFileSync(join(dir, `${name}.out`), 'utf8').trim().split('\n') : [], logs: logs.join('\n') };
  };
  const scores = (out: string[]): string[] => out.slice(1).map((l) => l.split(',').at(-1)!);

  test('a label never reaches the model, whatever the corpus calls it', async () => {
    const plain = await run('plain.csv', ['timestamp,value', ...wave.map((v, i) => `${1700000000 + 3600 * i},${v}`)].join('\n'));
    expect(plain.rc).toBe(0);
    // (before: is_anomaly and the rest were scored as inputs, and the label found the burst)
    for (const name of ['is_anomaly', 'Is-Anomaly', 'anomaly_label', 'labels', 'outlier', 'ground_truth', 'attack']) {
      const r = await run('lab.csv', [`timestamp,value,${name}`, ...wave.map((v, i) => `${1700000000 + 3600 * i},${v},${mark[i]}`)].join('\n'));
      expect([name, r.rc, scores(r.out)]).toEqual([name, 0, scores(plain.out)]);
    }
    // a column of any other name is an input; --label-column makes it a label
    const other = ['timestamp,value,flag', ...wave.map((v, i) => `${1700000000 + 3600 * i},${v},${mark[i]}`)].join('\n');
    expect(scores((await run('flag.csv', other)).out)).not.toEqual(scores(plain.out));
    expect(scores((await run('flag.csv', other, '--label-column', 'FLAG')).out)).toEqual(scores(plain.out));
    expect((await run('flag.csv', other, '--label-column', 'nope')).logs).toMatch(/--label-column "nope": no such column \(columns: timestamp, value, flag\)/);
  });

  test('files with no time column: --time-step numbers the rows, else a clear error', async () => {
    const idx = await run('i.csv', ['idx,value', ...wave.map((v, i) => `${i},${v}`)].join('\n'), '--time-step', '60s');
    expect(idx.rc).toBe(0);
    expect(Number(scores(idx.out)[302])).toBeGreaterThanOrEqual(0.8);
    const shapes: [string, string, string[]][] = [
      ['lone.txt', wave.join('\n'), []], // one column, no header (UCR-style)
      ['vl.csv', ['value,label', ...wave.map((v, i) => `${v},${mark[i]}`)].join('\n'), []],
      ['vl2.csv', wave.map((v, i) => `${v},${mark[i]}`).join('\n'), ['--label-column', '2']], // headerless value,label
    ];
    for (const [name, text, extra] of shapes) {
      const bad = await run(name, text, ...extra);
      expect([name, bad.rc]).toEqual([name, 1]);
      expect(bad.logs).toMatch(/no time column \(.*\): pass --time-step/);
      const r = await run(name, text, '--time-step', '60s', ...extra);
      expect([name, r.rc, scores(r.out)]).toEqual([name, 0, scores(idx.out)]);
      expect(r.out[1]!.split(',')[0]).toBe('0'); // the row number stands for the time
    }
    // without a header nothing tells a label from a value: it is scored, and the user is told
    // a time and a label but no value: nothing to score (the time is never taken for a value)
    expect((await run('tl.csv', ['timestamp,label', ...mark.map((m, i) => `${1700000000 + 60 * i},${m}`)].join('\n'))).logs).toMatch(/no input columns/);
    // a spreadsheet's byte-order mark and CRLF change nothing
    expect(scores((await run('bom.txt', '\uFEFF' + wave.join('\r\n'), '--time-step', '60s')).out)).toEqual(scores(idx.out));
    const warned = await run('vl3.csv', wave.map((v, i) => `${v},${mark[i]}`).join('\n'), '--time-step', '60s');
    expect(warned.logs).toMatch(/"column 2" holds only 0 and 1 and is scored as an input; if it is a label, pass --label-column 2/);
  });

  test('an entity column: one model per entity, entities listed one after another, a row per input row', async () => {
    const rowsOf = (id: string, shift: number): string[] => wave.map((v, i) => `${1700000000 + 60 * i},${v + shift},${mark[i]},${id}`);
    const two = await run('kpi.csv', ['timestamp,value,label,KPI ID', ...rowsOf('a', 0), ...rowsOf('b', 50)].join('\n'));
    expect(two.rc).toBe(0);
    expect(two.out[0]).toBe('timestamp,KPI ID,anomaly_score');
    expect(two.out.length).toBe(1 + 1200);
    expect(two.logs).toMatch(/1200 rows of 2 KPI ID entities/);
    // each entity scores exactly as it does alone (b's history never sees a's)
    for (const [id, shift, part] of [['a', 0, two.out.slice(1, 601)], ['b', 50, two.out.slice(601)]] as const) {
      const alone = await run(`${id}.csv`, ['timestamp,value,label,KPI ID', ...rowsOf(id, shift)].join('\n'));
      expect(part.map((l) => l.split(',')[1])).toEqual(Array(600).fill(id));
      expect(part.map((l) => l.split(',')[2])).toEqual(scores(alone.out));
    }
    expect(Number(two.out[1 + 600 + 302]!.split(',')[2])).toBeGreaterThanOrEqual(0.8);
    // the entity may come first (series,timestamp,value): the time is the column after it
    const first = ['series,timestamp,value,label', ...rowsOf('a', 0).map((l) => { const c = l.split(','); return [c[3], c[0], c[1], c[2]].join(','); })];
    const ef = await run('first.csv', first.join('\n'));
    expect(ef.out[0]).toBe('timestamp,series,anomaly_score');
    expect(ef.out[1]!.split(',')[0]).toBe('1700000000');
    expect(ef.out.slice(1).map((l) => l.split(',')[2])).toEqual(two.out.slice(1, 601).map((l) => l.split(',')[2]));
    // an entity name with a comma is quoted in the output, so the row still has three cells
    const odd = await run('odd.csv', ['timestamp;value;host', ...rowsOf('a', 0).slice(0, 50).map((l) => { const c = l.split(','); return [c[0], c[1], 'rack 3, row 2'].join(';'); })].join('\n'));
    expect(odd.out[1]).toMatch(/^1700000000,"rack 3, row 2",[\d.]+$/);
    // named by --entity-column; time order is checked per entity, and named in the error
    const host = ['time,cpu,box', ...rowsOf('x', 0).map((l) => l.split(',').filter((_, k) => k !== 2).join(','))];
    expect((await run('host.csv', host.join('\n'), '--entity-column', 'box')).out[0]).toBe('timestamp,box,anomaly_score');
    expect((await run('host.csv', host.join('\n'), '--entity-column', 'rack')).logs).toMatch(/--entity-column "rack": no such column/);
    const swapped = ['timestamp,value,label,KPI ID', ...rowsOf('a', 0), ...rowsOf('b', 50)];
    [swapped[700], swapped[701]] = [swapped[701]!, swapped[700]!];
    expect((await run('kpi2.csv', swapped.join('\n'))).logs).toMatch(/the rows of KPI ID b is not in time order: data row 101/);
    // a forecast is of one series
    const logs: string[] = [];
    expect(await runBacktest(['forecast', '--input', join(dir, 'kpi.csv'), '--output', join(dir, 'f.out')], (l) => logs.push(l))).toBe(2);
    expect(logs.join('\n')).toMatch(/one time,value series \(one entity, one value column\)/);
  });

  test('unsorted input is refused with the row that is out of order', async () => {
    writeFileSync(join(dir, 'u.csv'), 'time,value\n100,1\n200,2\n150,3\n300,4\n');
    const logs: string[] = [];
    expect(await runBacktest(['anomaly', '--input', join(dir, 'u.csv'), '--output', join(dir, 'u.out')], (l) => logs.push(l))).toBe(1);
    expect(logs.join('\n')).toMatch(/not in time order: data row 3 \(t=150\)/);
  });

  test('an empty cell is a gap, never a zero', async () => {
    const rows = ['time,value', ...Array.from({ length: 400 }, (_, i) => `${1700000000 + i * 60},${i === 300 ? '' : 1000 + 10 * Math.sin(i / 7)}`)];
    writeFileSync(join(dir, 'gap.csv'), rows.join('\n'));
    expect(await runBacktest(['anomaly', '--input', join(dir, 'gap.csv'), '--output', join(dir, 'gap.out')], quiet)).toBe(0);
    const out = readFileSync(join(dir, 'gap.out'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
    expect(out.length).toBe(400);
    expect(Math.max(...out)).toBeLessThan(0.5);
  });

  test('usage errors exit 2', async () => {
    expect(await runBacktest(['bogus'], quiet)).toBe(2);
    expect(await runBacktest(['forecast', '--input', 'x', '--output', 'y', '--refit', '--train-fraction', '2'], quiet)).toBe(1);
  });

  const optical = join(defaultModelDir(), '..', '..', '..', 'shared', 'datasets', 'optical-failure', 'SoftFailure_dataset.csv');
  (existsSync(optical) ? test : test.skip)('real optical testbed file (skipped when ../shared/datasets is absent)', async () => {
    expect(await runBacktest(['anomaly', '--input', optical, '--output', join(dir, 'real.out')], quiet)).toBe(0);
    const out = readFileSync(join(dir, 'real.out'), 'utf8').trim().split('\n');
    expect(out.length).toBe(11021);
  });
  if (!existsSync(optical)) console.log(`backtest.test: ${optical} absent, skipping the real-data backtest case`);
});
