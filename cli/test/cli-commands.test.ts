/**
 * @jest-environment ./exporter/test/ai-environment.cjs
 */
// The CLI's command table: train, backtest and the report slot are wired,
// each with --help; backtest runs end to end through main().
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, main } from '../src/main.js';

function capture(): { out: string[]; err: string[]; restore: () => void } {
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write;
  const e = process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => (err.push(String(s)), true)) as typeof process.stderr.write;
  return {
    out,
    err,
    restore: () => {
      process.stdout.write = o;
      process.stderr.write = e;
    },
  };
}

describe('optifiber commands', () => {
  test('train, backtest and report are in the table, listed in the usage', async () => {
    expect(Object.keys(COMMANDS)).toEqual(expect.arrayContaining(['exporter', 'start', 'top', 'train', 'backtest', 'report']));
    const c = capture();
    try {
      expect(await main(['--help'])).toBe(0);
    } finally {
      c.restore();
    }
    const usage = c.out.join('');
    for (const n of ['train', 'backtest', 'report']) expect(usage).toMatch(new RegExp(`^  ${n}\\s+\\S`, 'm'));
  });

  test.each([
    ['train', /usage: optifiber train \[--out DIR\] \[--datasets DIR\]/],
    ['backtest', /optifiber backtest anomaly --input FILE --output OUT\.csv/],
  ])('%s --help: usage on stdout, exit 0', async (cmd, re) => {
    const c = capture();
    let code: number;
    try {
      code = await main([cmd, '--help']);
    } finally {
      c.restore();
    }
    expect(code).toBe(0);
    expect(c.out.join('')).toMatch(re);
  });

  test('backtest without arguments: usage on stderr, exit 2', async () => {
    const c = capture();
    let code: number;
    try {
      code = await main(['backtest']);
    } finally {
      c.restore();
    }
    expect(code).toBe(2);
    expect(c.err.join('')).toContain('optifiber backtest forecast');
  });

  test('backtest forecast runs through the CLI', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optifiber-cli-bt-'));
    try {
      const rows = ['time,value'];
      for (let i = 0; i < 2000; i++) rows.push(`${1_700_000_000 + i * 300},${1000 + 300 * Math.sin((2 * Math.PI * i) / 288) + (i % 7)}`);
      writeFileSync(join(dir, 'in.csv'), rows.join('\n') + '\n');
      const c = capture();
      let code: number;
      try {
        code = await main(['backtest', 'forecast', '--input', join(dir, 'in.csv'), '--output', join(dir, 'out.csv')]);
        expect(await main(['backtest', 'forecast', '--refit', '--horizon', '15m', '--train-fraction', '0.6667', '--input', join(dir, 'in.csv'), '--output', join(dir, 'refit.csv')])).toBe(0);
        // the refit-only options without --refit are an error, not silently ignored
        expect(await main(['backtest', 'forecast', '--horizon', '15m', '--input', join(dir, 'in.csv'), '--output', join(dir, 'x.csv')])).toBe(2);
      } finally {
        c.restore();
      }
      expect(code).toBe(0);
      const out = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n');
      expect(out[0]).toBe('timestamp,forecast,p10,p90');
      expect(out.length).toBe(2001);
      const refit = readFileSync(join(dir, 'refit.csv'), 'utf8').trim().split('\n');
      expect(refit[0]).toBe('timestamp,forecast');
      expect(refit.length).toBeGreaterThan(600);
      expect(c.err.join('')).toContain('go with --refit');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
