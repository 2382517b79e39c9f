import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildPages } from '../src/abi/page-encoder.js';
import { PageReader } from '../src/source/page-reader.js';
import type { DirectoryInfo } from '../src/source/types.js';
import { renderTop, rowsFromSnapshot, runTop, type TopFrame, type TopRow } from '../src/top/top.js';

const dir: DirectoryInfo = {
  abiMajor: 1, abiMinor: 0, pageSize: 4096, siteCount: 3, tickIntervalMs: 1000, timeScale: 60,
  live: true, simulated: true, generation: 1n, tick: 42, updateTimeMs: 0, simTimeS: 0, seed: 7n, host: 'userspace',
};

const rows: TopRow[] = [
  { index: 0, name: 'ams-fra', throughputGbps: 387.5, utilizationPct: 96.875, osnrDb: 18.5, preFecBer: 2.5e-6, link: 'up', fault: 'none' },
  { index: 1, name: 'a-very-long-site-name-indeed', throughputGbps: 0, utilizationPct: 0, osnrDb: -1.25, preFecBer: 0, link: 'down', fault: 'fiber_cut' },
  { index: 2, name: 'par-lon', throughputGbps: 12.34, utilizationPct: 3.1, osnrDb: 11, preFecBer: 0.0125, link: 'degraded', fault: 'ber_creep' },
];

const frame = (overrides: Partial<TopFrame> = {}): TopFrame => ({
  source: '/proc/optifiber/myinfo', dir, rows, invalid: [], consistent: true, nowMs: Date.UTC(2026, 10, 21, 12, 34, 56), ...overrides,
});

describe('renderTop', () => {
  test('a table with every column in its unit', () => {
    const lines = renderTop(frame()).split('\n');
    expect(lines[0]).toBe('optifiber top  /proc/optifiber/myinfo  host userspace (simulated)  tick 42  sites 3  12:34:56');
    expect(lines[1]).toBe('total 399.8 Gbit/s  down 1  degraded 1  faults 2  invalid 0');
    expect(lines[2]).toBe(' SITE NAME                    GBIT/S  UTIL%  OSNR dB PRE-FEC BER LINK     FAULT        ');
    expect(lines[3]).toBe('    0 ams-fra                  387.5   96.9    18.50     2.50e-6 up       none         ');
    expect(lines[4]).toBe('    1 a-very-long-site-na…       0.0    0.0    -1.25           0 down     fiber_cut    ');
    expect(lines[5]).toBe('    2 par-lon                   12.3    3.1    11.00     1.25e-2 degraded ber_creep    ');
    expect(lines).toHaveLength(6);
  });

  test('no escape codes without color; red/yellow rows with color', () => {
    expect(renderTop(frame())).not.toContain('\x1b[');
    const colored = renderTop(frame(), { color: true }).split('\n');
    expect(colored[3]).not.toContain('\x1b[3'); // healthy row plain
    expect(colored[4]?.startsWith('\x1b[31m')).toBe(true); // down: red
    expect(colored[5]?.startsWith('\x1b[33m')).toBe(true); // degraded: yellow
  });

  test('rows beyond the terminal height are summarised', () => {
    const lines = renderTop(frame(), { maxLines: 5 }).split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[3]).toContain('ams-fra');
    expect(lines[4]).toBe('… 2 more sites');
  });

  test('invalid pages and mixed ticks are shown', () => {
    const text = renderTop(frame({ invalid: [{ index: 9, reason: 'torn' }], consistent: false }));
    expect(text.split('\n')[0]).toContain('[mixed ticks]');
    expect(text).toContain('invalid 1');
    expect(text.split('\n').at(-1)).toBe('invalid pages: 1 (site 9: torn)');
  });

  test('an unavailable source says so and why', () => {
    const text = renderTop(frame({ dir: null, rows: [], error: 'path gone (ENOENT)' }));
    expect(text.split('\n')).toEqual([
      'optifiber top  /proc/optifiber/myinfo  12:34:56',
      '',
      'SOURCE UNAVAILABLE: path gone (ENOENT)',
      'retrying every second; Ctrl-C to quit',
    ]);
  });
});

describe('rowsFromSnapshot and runTop against a real page file', () => {
  let workDir: string;
  beforeAll(() => (workDir = mkdtempSync(join(tmpdir(), 'top-'))));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  const page = () => buildPages({}, [{ name: 'ams-fra', throughput_bps: 200e9, capacity_bps: 400e9, osnr_cdb: 1850, pre_fec_ber_e18: 2_500_000_000_000n, link_state: 1, fault: 0 }]);

  test('derives units from the snapshot', () => {
    const path = join(workDir, 'rows');
    writeFileSync(path, page());
    const reader = PageReader.open(path);
    try {
      expect(rowsFromSnapshot(reader.snapshot())).toEqual([
        { index: 0, name: 'ams-fra', throughputGbps: 200, utilizationPct: 50, osnrDb: 18.5, preFecBer: 2.5e-6, link: 'up', fault: 'none' },
      ]);
    } finally {
      reader.close();
    }
  });

  test('shows unavailable, then the table once the source appears, and stops on SIGTERM', async () => {
    const path = join(workDir, 'live');
    let written = '';
    const out = new Writable({ write: (chunk: Buffer, _encoding, done) => ((written += chunk.toString()), done()) });
    const running = runTop({ source: path, intervalMs: 20, out: out as unknown as NodeJS.WriteStream });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(written).toContain('SOURCE UNAVAILABLE');
    expect(written).not.toContain('ams-fra');
    writeFileSync(`${path}.tmp`, page());
    renameSync(`${path}.tmp`, path);
    // The reader retries attaching at most once per second.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(written).toContain('ams-fra');
    process.emit('SIGTERM');
    await running;
    const listeners = process.listenerCount('SIGTERM');
    expect(listeners).toBe(0);
  });
});
