// Replay and absent fields on the exporter side: the ABI absent bits decode
// to NaN (null in JSON), absent fields get no metric line (never a zero),
// promtool stays silent, the --replay/--speed spellings, and the simulator
// arguments the supervisor builds for a replay.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as abi from '../src/abi/layout.js';
import { buildPages } from '../src/abi/page-encoder.js';
import { sitesJson } from '../src/api/serialize.js';
import { replayAliases } from '../src/cli.js';
import { loadConfig } from '../src/config/load.js';
import { standardRegistry } from '../src/metrics/catalogue.js';
import type { CollectContext } from '../src/metrics/registry.js';
import { SimulatorProcess } from '../src/sim/supervisor.js';
import { PageReader } from '../src/source/page-reader.js';
import { makeSample, makeTick } from './helpers/samples.js';

const ONLY_OPTICS = abi.OPTIFIBER_ABSENT_ALL & ~(abi.OPTIFIBER_ABSENT_OSNR | abi.OPTIFIBER_ABSENT_PRE_FEC_BER);

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'replay-test-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('absent bits decode to NaN, unknown link state and fault; present fields keep their values', () => {
  const path = join(dir, 'pages');
  writeFileSync(path, buildPages({ flags: abi.OPTIFIBER_DIR_F_LIVE | abi.OPTIFIBER_DIR_F_REPLAY }, [
    { name: 'SPO2-18-11', osnr_cdb: 1830, pre_fec_ber_e18: 150000000000000n, link_state: abi.OPTIFIBER_LINK_UP, absent: BigInt(ONLY_OPTICS) },
    { name: 'sim', osnr_cdb: 2500, throughput_bps: 8n, link_state: abi.OPTIFIBER_LINK_UP },
  ]));
  const reader = PageReader.open(path);
  try {
    const snap = reader.snapshot();
    expect(snap.dir.replay).toBe(true);
    expect(snap.dir.simulated).toBe(false);
    const [rec, sim] = snap.sites;
    expect(rec!.osnrDb).toBe(18.3);
    expect(rec!.preFecBer).toBeCloseTo(1.5e-4, 12);
    expect(rec!.absent).toBe(ONLY_OPTICS);
    for (const k of ['throughputBps', 'capacityBps', 'cmdModules', 'bytes', 'crcErrors', 'rxPowerDbm', 'temperatureCelsius', 'faultsTotal'] as const)
      expect({ k, v: rec![k] }).toEqual({ k, v: NaN });
    expect(rec!.linkState).toBe('unknown'); // link_state absent, although the word holds 1
    expect(rec!.fault).toBe('unknown');
    expect(sim!.absent).toBe(0); // a writer of ABI minor 0 / the simulation: everything measured
    expect(sim!.throughputBps).toBe(8);
    expect(sim!.linkState).toBe('up');
  } finally {
    reader.close();
  }
});

test('absent fields get no metric line, not a zero; promtool check metrics is silent', () => {
  const thresholds = loadConfig({ argv: [], env: {} }).config.thresholds;
  const stats = { readRetriesTotal: 0, tornReadsTotal: 0, stageErrorsTotal: 0, lastSampleMs: 1, historyBytes: 0, historyCapacity: 0 };
  const nan = { throughputBps: NaN, offeredBps: NaN, capacityBps: NaN, moduleCapacityBps: NaN, cmdModules: NaN, cmdModulesMax: NaN, bytes: NaN, crcErrors: NaN, fecCorrectedBits: NaN, fecUncorrectableBlocks: NaN, losEvents: NaN, postFecBer: NaN, qFactorDb: NaN, rxPowerDbm: NaN, txPowerDbm: NaN, chromaticDispersionPsNm: NaN, laserBiasAmperes: NaN, temperatureCelsius: NaN, faultStartSimS: NaN, faultEndSimS: NaN, faultsTotal: NaN };
  const tick = makeTick([
    makeSample(0, { name: 'SPO2-18-11', ...nan, osnrDb: 18.3, preFecBer: 1.5e-4, linkState: 'unknown', fault: 'unknown', absent: ONLY_OPTICS }),
    makeSample(1, { name: 'Dallas' }),
  ]);
  const { registry } = standardRegistry();
  const ctx: CollectContext = { tick, thresholds, stats, build: { version: '0', revision: 'x', nodejsVersion: 'v20' } };
  const text = registry.render('prometheus', ctx);
  const rec = text.split('\n').filter((l) => l.includes('site="SPO2-18-11"') && !l.startsWith('#'));
  const names = new Set(rec.map((l) => l.replace(/\{.*/, '')));
  expect(names).toContain('optifiber_osnr_db');
  expect(names).toContain('optifiber_pre_fec_bit_error_ratio');
  for (const absent of ['optifiber_throughput_bytes_per_second', 'optifiber_link_up', 'optifiber_link_state', 'optifiber_crc_errors_total', 'optifiber_rx_power_dbm', 'optifiber_cmd_modules', 'optifiber_simulated_fault_info'])
    expect({ absent, has: names.has(absent) }).toEqual({ absent, has: false });
  expect(rec.filter((l) => l.endsWith(' NaN'))).toEqual([]);
  // the live site keeps every family
  expect(text).toContain('optifiber_link_up{site="Dallas"} 1');
  expect(text).toContain('optifiber_simulated_fault_info{site="Dallas",fault="none"} 1');
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: '' });
});

test('--replay FILE and --speed X are replay.file and replay.speed', () => {
  expect(replayAliases(['--replay', 'a.csv', '--speed=20', '--replay.loop=true', '--web.listen-address=x'])).toEqual(['--replay.file', 'a.csv', '--replay.speed=20', '--replay.loop=true', '--web.listen-address=x']);
  const c = loadConfig({ argv: replayAliases(['--replay', 'a.csv', '--speed', '20']), env: {} }).config;
  expect(c.replay).toMatchObject({ file: 'a.csv', speed: 20 });
  expect(() => loadConfig({ argv: ['--replay.speed=0'], env: {} })).toThrow(/replay.speed/);
});

test('the simulator runs the recording, with only the tick taken from the simulator keys', () => {
  const bin = join(dir, 'fake-sim');
  writeFileSync(bin, '', { mode: 0o755 });
  const p = new SimulatorProcess({ binary: bin, dir, sites: ['A'], seed: 3, tick_ms: 50 }, undefined, undefined, { file: 'x.csv', speed: 200, delay: 3000, loop: true });
  const a = p.args();
  expect(a.slice(a.indexOf('--replay'))).toEqual(['--replay', 'x.csv', '--speed', '200', '--loop', '--replay-delay-ms', '3000', '--tick-ms', '50']);
  expect(a).not.toContain('--sites');
});

test('a site fed by a network interface (OPTIFIBER_SITE_F_INTERFACE) is flagged; /api/v1/sites and optifiber_site_remediable say it is not remediable', () => {
  const path = join(dir, 'iface-pages');
  writeFileSync(path, buildPages({ flags: abi.OPTIFIBER_DIR_F_LIVE | abi.OPTIFIBER_DIR_F_SIMULATED | abi.OPTIFIBER_DIR_F_INTERFACE }, [
    { name: 'Dallas', flags: abi.OPTIFIBER_SITE_F_VALID | abi.OPTIFIBER_SITE_F_INTERFACE, link_state: abi.OPTIFIBER_LINK_UP, absent: BigInt(abi.OPTIFIBER_ABSENT_CMD_MODULES | abi.OPTIFIBER_ABSENT_FAULT) },
    { name: 'Stone', link_state: abi.OPTIFIBER_LINK_UP },
  ]));
  const reader = PageReader.open(path);
  try {
    const [nic, sim] = reader.snapshot().sites;
    expect(nic!.interface).toBe(true);
    expect(sim!.interface).toBeUndefined();
    const body = sitesJson(makeTick([makeSample(0, { ...nic! }), makeSample(1, { ...sim! })])) as { sites: Record<string, unknown>[] };
    expect(body.sites[0]).toMatchObject({ name: 'Dallas', interface: true, remediable: false, cmdModules: NaN });
    expect(body.sites[1]!.interface).toBeUndefined();
    expect(body.sites[1]!.remediable).toBeUndefined();
    // and for PromQL: optifiber_site_remediable, per site; a replay makes every site 0
    const render = (tick: ReturnType<typeof makeTick>) => standardRegistry().registry.render('prometheus', { tick, thresholds: loadConfig({ argv: [], env: {} }).config.thresholds, stats: { readRetriesTotal: 0, tornReadsTotal: 0, stageErrorsTotal: 0, lastSampleMs: 1, historyBytes: 0, historyCapacity: 0 }, build: { version: '0', revision: 'x', nodejsVersion: 'v20' } });
    const tick = makeTick([makeSample(0, { ...nic! }), makeSample(1, { ...sim! })]);
    const text = render(tick);
    expect(text).toContain('optifiber_site_remediable{site="Dallas"} 0\n');
    expect(text).toContain('optifiber_site_remediable{site="Stone"} 1\n');
    const replayed = render({ ...tick, source: { ...tick.source, dir: { ...tick.source.dir!, replay: true } } });
    expect(replayed).toContain('optifiber_site_remediable{site="Stone"} 0\n');
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: '' });
  } finally {
    reader.close();
  }
});
