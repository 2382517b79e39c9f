import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/load.js';
import { keyCatalogue, parseDurationMs } from '../src/config/schema.js';
import { configHelp } from '../src/config/load.js';
import { COLLECTOR_NAMES, enabledCollectors } from '../src/metrics/collector-table.js';

const dir = mkdtempSync(join(tmpdir(), 'optifiber-config-test-'));
function file(text: string): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, text);
  return p;
}
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config: defaults and precedence', () => {
  test('defaults', () => {
    const { config } = loadConfig({ argv: [], env: {} });
    expect(config.web.listen_address).toBe('127.0.0.1:9886');
    expect(config.sampler.interval).toBe(1000);
    expect(config.sampler.history).toBe(3_600_000);
    expect(config.source.kind).toBe('kernel');
    expect(config.thresholds).toEqual({
      osnr_low_db: 20,
      pre_fec_ber_high_ratio: 1e-4,
      rx_power_low_dbm: -18,
      rx_power_high_dbm: 3,
      utilization_high_ratio: 0.9,
      anomaly_score: 0.8,
    });
  });

  test('flags > env > file > defaults', () => {
    const f = file('sampler:\n  interval: 2s\n  history: 10m\nthresholds:\n  osnr_low_db: 18\nweb:\n  listen_address: 127.0.0.1:1111\n');
    const { config, configFile } = loadConfig({
      argv: ['--config.file', f, '--sampler.interval=250ms'],
      env: { OPTIFIBER_SAMPLER_INTERVAL: '500ms', OPTIFIBER_WEB_LISTEN_ADDRESS: '127.0.0.1:2222' },
    });
    expect(configFile).toBe(f);
    expect(config.sampler.interval).toBe(250); // flag
    expect(config.web.listen_address).toBe('127.0.0.1:2222'); // env over file
    expect(config.sampler.history).toBe(600_000); // file
    expect(config.thresholds.osnr_low_db).toBe(18); // file
    expect(config.thresholds.rx_power_low_dbm).toBe(-18); // default
  });

  test('config file from OPTIFIBER_CONFIG_FILE; numbers in YAML are seconds for durations', () => {
    const f = file('sampler:\n  interval: 0.1\nsimulator:\n  sites: [a, b]\n');
    const { config } = loadConfig({ argv: [], env: { OPTIFIBER_CONFIG_FILE: f } });
    expect(config.sampler.interval).toBe(100);
    expect(config.simulator.sites).toEqual(['a', 'b']);
  });

  test('list, enum and subcommand defaults from flags', () => {
    const { config } = loadConfig({
      argv: ['--simulator.sites=ams,fra', '--log.level', 'debug'],
      env: {},
      defaults: { source: { kind: 'userspace' } },
    });
    expect(config.simulator.sites).toEqual(['ams', 'fra']);
    expect(config.log.level).toBe('debug');
    expect(config.source.kind).toBe('userspace');
  });

  test('unknown OPTIFIBER_ variables are warnings, not errors', () => {
    const r = loadConfig({ argv: [], env: { OPTIFIBER_SAMPLER_INTERVALL: '1s' } });
    expect(r.warnings).toEqual([expect.stringContaining('OPTIFIBER_SAMPLER_INTERVALL: not a configuration variable')]);
    expect(r.warnings[0]).toContain('did you mean OPTIFIBER_SAMPLER_INTERVAL');
  });

  test('every key has a flag and an env name', () => {
    const keys = keyCatalogue();
    expect(keys.find((k) => k.path === 'web.listen_address')).toMatchObject({
      flag: '--web.listen-address',
      env: 'OPTIFIBER_WEB_LISTEN_ADDRESS',
    });
    expect(new Set(keys.map((k) => k.flag)).size).toBe(keys.length);
  });

  test('durations', () => {
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(parseDurationMs('100ms')).toBe(100);
    expect(parseDurationMs('2')).toBe(2000);
    expect(parseDurationMs('1x')).toBeUndefined();
    expect(parseDurationMs('')).toBeUndefined();
  });
});

describe('config: every error names the key path and where it came from', () => {
  test('unknown flag, with a suggestion', () => {
    expect(problems(() => loadConfig({ argv: ['--sampler.intervall=1s'], env: {} }))).toEqual([
      '--sampler.intervall: unknown flag (did you mean --sampler.interval?)',
    ]);
  });
  test('flag without value, flag given twice', () => {
    expect(problems(() => loadConfig({ argv: ['--sampler.interval'], env: {} }))).toEqual(['--sampler.interval: missing value']);
    expect(problems(() => loadConfig({ argv: ['--log.level=info', '--log.level=warn'], env: {} }))).toEqual([
      '--log.level: given more than once',
    ]);
  });
  test('out of range flag', () => {
    expect(problems(() => loadConfig({ argv: ['--sampler.interval=50ms'], env: {} }))).toEqual([
      '--sampler.interval: must be at least 100 ms',
    ]);
  });
  test('bad type from env names the variable', () => {
    expect(problems(() => loadConfig({ argv: [], env: { OPTIFIBER_SIMULATOR_NSITES: 'many' } }))).toEqual([
      'OPTIFIBER_SIMULATOR_NSITES: expected an integer',
    ]);
  });
  test('bad duration', () => {
    expect(problems(() => loadConfig({ argv: ['--sampler.history=an hour'], env: {} }))[0]).toMatch(
      /^--sampler\.history: expected a duration/,
    );
  });
  test('bad enum', () => {
    expect(problems(() => loadConfig({ argv: ['--source.kind=disk'], env: {} }))).toEqual([
      '--source.kind: must be one of auto, kernel, file, userspace, got "disk"',
    ]);
  });
  test('bad listen address', () => {
    expect(problems(() => loadConfig({ argv: ['--web.listen-address=localhost'], env: {} }))[0]).toMatch(
      /^--web\.listen-address: expected host:port/,
    );
  });
  test('unknown key in the file, in a section and at top level', () => {
    const f = file('sampler:\n  intervall: 1s\nweb:\n  listen_address: 127.0.0.1:1\nsampling: {}\n');
    const p = problems(() => loadConfig({ argv: ['--config.file', f], env: {} }));
    expect(p).toContain(`${f}: sampler.intervall: unknown key (known: interval, history, history_max_bytes)`);
    expect(p).toContain(`${f}: sampling: unknown key (known: web, source, sampler, simulator, replay, control, thresholds, models, collector, log)`);
    expect(p).toHaveLength(2);
  });
  test('bad type and range in the file', () => {
    const f = file('thresholds:\n  osnr_low_db: low\n  pre_fec_ber_high_ratio: 2\nsimulator:\n  nsites: 1.5\n');
    const p = problems(() => loadConfig({ argv: ['--config.file', f], env: {} }));
    expect(p).toEqual(
      expect.arrayContaining([
        `${f}: thresholds.osnr_low_db: expected a number`,
        `${f}: thresholds.pre_fec_ber_high_ratio: Number must be less than or equal to 1`,
        `${f}: simulator.nsites: expected an integer`,
      ]),
    );
  });
  test('section that is not a mapping, top level not a mapping', () => {
    const f1 = file('sampler: 5\n');
    expect(problems(() => loadConfig({ argv: ['--config.file', f1], env: {} }))).toEqual([`${f1}: sampler: expected a mapping, got number`]);
    const f2 = file('- a\n- b\n');
    expect(problems(() => loadConfig({ argv: ['--config.file', f2], env: {} }))[0]).toContain('top level must be a mapping');
  });
  test('YAML syntax error and duplicate keys', () => {
    const f = file('sampler:\n  interval: 1s\n  interval: 2s\n');
    expect(problems(() => loadConfig({ argv: ['--config.file', f], env: {} }))[0]).toMatch(/YAML: .*[Mm]ap keys must be unique/);
    const g = file('sampler: [\n');
    expect(problems(() => loadConfig({ argv: ['--config.file', g], env: {} }))[0]).toContain(`${g}: YAML:`);
  });
  test('missing config file', () => {
    expect(problems(() => loadConfig({ argv: ['--config.file=/nonexistent/x.yaml'], env: {} }))).toEqual([
      '--config.file /nonexistent/x.yaml: cannot read: ENOENT',
    ]);
  });
  test('cross-field checks', () => {
    expect(problems(() => loadConfig({ argv: ['--thresholds.rx-power-low-dbm=5'], env: {} }))).toEqual([
      'thresholds.rx_power_low_dbm (5) must be below thresholds.rx_power_high_dbm (3)',
    ]);
    expect(problems(() => loadConfig({ argv: ['--sampler.interval=2s', '--sampler.history=1s'], env: {} }))).toEqual([
      'sampler.history (1000 ms) must be 0 or at least sampler.interval (2000 ms)',
    ]);
    expect(problems(() => loadConfig({ argv: ['--source.kind=file'], env: {} }))).toEqual([
      'source.kind is file but source.path is not set',
    ]);
  });
  test('all problems are reported together', () => {
    const p = problems(() => loadConfig({ argv: ['--nope=1', '--sampler.interval=1ms'], env: { OPTIFIBER_LOG_LEVEL: 'loud' } }));
    expect(p).toHaveLength(3);
  });
  test('bad site names', () => {
    expect(problems(() => loadConfig({ argv: ['--simulator.sites=ok,not ok'], env: {} }))[0]).toMatch(
      /^--simulator\.sites\.1: site names are 1\.\.31 chars/,
    );
  });
});

describe('config: --collector.<name> / --no-collector.<name>, as node_exporter spells them', () => {
  const enabled = (argv: string[], env: NodeJS.ProcessEnv = {}) => enabledCollectors(loadConfig({ argv, env }).config.collector);

  test('every collector is enabled by default; --no-collector.X disables it; the next argument is never taken as a value', () => {
    expect(enabled([])).toEqual(COLLECTOR_NAMES);
    expect(COLLECTOR_NAMES).toEqual(['site', 'thresholds', 'anomaly', 'forecast', 'source', 'models', 'exporter', 'process']);
    expect(enabled(['--no-collector.process', '--collector.site'])).toEqual(COLLECTOR_NAMES.filter((n) => n !== 'process'));
    expect(loadConfig({ argv: ['--collector.site', 'extra'], env: {} }).positional).toEqual(['extra']);
    expect(enabled(['--collector.process=false'])).not.toContain('process');
  });

  test('--collector.disable-defaults, environment and file', () => {
    expect(enabled(['--collector.disable-defaults', '--collector.site', '--collector.source'])).toEqual(['site', 'source']);
    expect(enabled([], { OPTIFIBER_COLLECTOR_ANOMALY: 'false' })).not.toContain('anomaly');
    const f = file('collector:\n  disable_defaults: true\n  models: true\n');
    expect(enabled([`--config.file=${f}`])).toEqual(['models']);
    // flags win over the file
    expect(enabled([`--config.file=${f}`, '--no-collector.disable-defaults'])).toEqual(COLLECTOR_NAMES);
  });

  test('bad spellings are errors that name the flag', () => {
    expect(problems(() => loadConfig({ argv: ['--no-collector.site=1'], env: {} }))).toEqual(['--no-collector.site: takes no value']);
    expect(problems(() => loadConfig({ argv: ['--collector.site', '--no-collector.site'], env: {} }))).toEqual(['--no-collector.site: given more than once']);
    expect(problems(() => loadConfig({ argv: ['--collector.sites'], env: {} }))[0]).toMatch(/^--collector.sites: unknown flag \(did you mean --collector.site\?\)/);
    expect(problems(() => loadConfig({ argv: ['--collector.site=maybe'], env: {} }))).toEqual(['--collector.site: expected true or false']);
  });

  test('--help lists each collector with its default', () => {
    const help = configHelp();
    for (const n of COLLECTOR_NAMES) expect(help).toContain(`--[no-]collector.${n}  (OPTIFIBER_COLLECTOR_${n.toUpperCase()})  Enable the ${n} collector (default: enabled)`);
    expect(help).toContain('--[no-]collector.disable-defaults');
  });
});
