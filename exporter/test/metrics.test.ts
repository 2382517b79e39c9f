import { spawnSync } from 'node:child_process';
import { standardRegistry, metricCatalogue } from '../src/metrics/catalogue.js';
import type { CollectContext } from '../src/metrics/registry.js';
import { Registry } from '../src/metrics/registry.js';
import type { Format } from '../src/metrics/format.js';
import { loadConfig } from '../src/config/load.js';
import { negotiateFormat, acceptsGzip } from '../src/http/negotiate.js';
import { enabledCollectors } from '../src/metrics/collector-table.js';
import { SiteCollector } from '../src/metrics/collectors/site.js';
import type { Tick } from '../src/sampler/types.js';
import { makeSample, makeTick } from './helpers/samples.js';

const thresholds = loadConfig({ argv: [], env: {} }).config.thresholds;
const stats = { readRetriesTotal: 3, tornReadsTotal: 7, stageErrorsTotal: 0, lastSampleMs: 1_700_000_000_500, historyBytes: 0, historyCapacity: 0 };
const build = { version: '0.1.0', revision: 'abc', nodejsVersion: 'v20.0.0' };

function render(tick: Tick | undefined, format: Format = 'prometheus', argv: string[] = []): string {
  const { registry, exporter } = standardRegistry(undefined, enabledCollectors(loadConfig({ argv, env: {} }).config.collector));
  exporter.tickDuration.observe(0.002);
  exporter.scrapeDuration.observe(0.01);
  const ctx: CollectContext = { tick, thresholds, stats, build };
  return registry.render(format, ctx);
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

const sites = [
  makeSample(0, { name: 'ams', linkState: 'degraded', fault: 'ber_creep', bytes: 2 ** 53 - 1 }),
  makeSample(1, { name: 'fra', linkState: 'down', throughputBps: 0, rxPowerDbm: -40 }),
];

describe('metrics rendering', () => {
  test('per-site values with units converted as the HELP says', () => {
    const t = render(makeTick(sites));
    expect(value(t, 'optifiber_site_info{site="ams",index="0"}')).toBe(1);
    expect(value(t, 'optifiber_throughput_bytes_per_second{site="ams"}')).toBe(sites[0]!.throughputBps / 8);
    expect(value(t, 'optifiber_capacity_bytes_per_second{site="ams"}')).toBe(12.5e9);
    expect(value(t, 'optifiber_transferred_bytes_total{site="ams"}')).toBe(2 ** 53 - 1);
    expect(value(t, 'optifiber_link_up{site="ams"}')).toBe(1);
    expect(value(t, 'optifiber_link_up{site="fra"}')).toBe(0);
    expect(value(t, 'optifiber_link_state{site="ams",state="degraded"}')).toBe(1);
    expect(value(t, 'optifiber_link_state{site="ams",state="up"}')).toBe(0);
    expect(value(t, 'optifiber_link_state{site="fra",state="down"}')).toBe(1);
    expect(value(t, 'optifiber_simulated_fault_info{site="ams",fault="ber_creep"}')).toBe(1);
    expect(value(t, 'optifiber_simulated_fault_info{site="fra",fault="none"}')).toBe(1);
    expect(value(t, 'optifiber_rx_power_dbm{site="fra"}')).toBe(-40);
    expect(value(t, 'optifiber_laser_bias_current_amperes{site="ams"}')).toBe(0.045);
    expect(value(t, 'optifiber_site_page_valid{site="ams"}')).toBe(1);
    expect(value(t, 'optifiber_osnr_low_threshold_db{site="fra"}')).toBe(20);
    expect(value(t, 'optifiber_pre_fec_ber_high_threshold_ratio{site="fra"}')).toBe(1e-4);
    expect(value(t, 'optifiber_source_up')).toBe(1);
    expect(value(t, 'optifiber_source_read_retries_total')).toBe(3);
    expect(value(t, 'optifiber_source_torn_reads_total')).toBe(7);
    expect(value(t, 'optifiber_sites')).toBe(2);
    expect(value(t, 'optifiber_last_sample_timestamp_seconds')).toBe(1_700_000_000.5);
    expect(t).toContain('optifiber_source_info{kind="userspace",path="/tmp/x/myinfo",host="userspace"} 1');
    expect(t).toContain('optifiber_exporter_build_info{version="0.1.0",revision="abc",nodejs_version="v20.0.0"} 1');
    expect(t).toContain('optifiber_tick_duration_seconds_bucket{le="0.0025"} 1');
    expect(t).toContain('optifiber_scrape_collector_success{collector="site"} 1');
    // ~35 series per site
    const perSite = t.split('\n').filter((l) => l.includes('site="ams"')).length;
    expect(perSite).toBeGreaterThanOrEqual(33);
  });

  test('Prometheus text: counters keep _total in TYPE; info metrics are gauges', () => {
    const t = render(makeTick(sites));
    expect(t).toContain('# TYPE optifiber_crc_errors_total counter\n');
    expect(t).toContain('# TYPE optifiber_site_info gauge\n');
    expect(t).toContain('# TYPE process_cpu_seconds_total counter\n');
    expect(t).not.toContain('# EOF');
  });

  test('OpenMetrics: family names without _total/_info, samples with them, # EOF last', () => {
    const t = render(makeTick(sites), 'openmetrics');
    expect(t).toContain('# TYPE optifiber_crc_errors counter\noptifiber_crc_errors_total{site="ams"} 10\n');
    expect(t).toContain('# TYPE optifiber_site info\noptifiber_site_info{site="ams",index="0"} 1\n');
    expect(t).toContain('# TYPE optifiber_source_read_retries counter\noptifiber_source_read_retries_total 3\n');
    expect(t.endsWith('\n# EOF\n')).toBe(true);
    // Rendering OpenMetrics does not change the text format afterwards (the prom-client quirk).
    const registry = standardRegistry().registry;
    const ctx: CollectContext = { tick: makeTick(sites), thresholds, stats, build };
    registry.render('openmetrics', ctx);
    expect(registry.render('prometheus', ctx)).toContain('# TYPE optifiber_crc_errors_total counter\noptifiber_crc_errors_total{site="ams"} 10\n');
    // every family declared once
    const types = t.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
  });

  test('invalid pages keep only page_valid 0; vanished sites are gone', () => {
    const { registry } = standardRegistry();
    const ctx = (tick: Tick): CollectContext => ({ tick, thresholds, stats, build });
    registry.render('prometheus', ctx(makeTick(sites)));
    // fra's page goes bad: only its page_valid series remains (named from the last good sample)
    const t = registry.render('prometheus', ctx(makeTick([sites[0]!], { invalid: [{ index: 1, reason: 'bad magic' }] })));
    expect(value(t, 'optifiber_site_page_valid{site="fra"}')).toBe(0);
    expect(t.split('\n').filter((l) => l.includes('site="fra"'))).toEqual(['optifiber_site_page_valid{site="fra"} 0']);
    // a page never seen valid gets a placeholder name
    const t2 = registry.render('prometheus', ctx(makeTick([], { invalid: [{ index: 7, reason: 'bad magic' }] })));
    expect(value(t2, 'optifiber_site_page_valid{site="index-7"}')).toBe(0);
    // sites that disappear stop being exported
    const t3 = registry.render('prometheus', ctx(makeTick([sites[0]!])));
    expect(t3).not.toContain('site="fra"');
  });

  test('source down: up 0, no per-site series, self-metrics still there', () => {
    const tick = makeTick([], { source: { kind: 'kernel', path: '/proc/optifiber/myinfo', up: false, error: 'gone' } });
    const t = render(tick);
    expect(value(t, 'optifiber_source_up')).toBe(0);
    expect(value(t, 'optifiber_sites')).toBe(0);
    expect(t).not.toContain('site=');
    expect(promtool(t)).toEqual({ status: 0, out: '' });
    expect(value(render(undefined), 'optifiber_source_up')).toBe(0);
  });

  test('a failing collector reports success 0; the others are unaffected', () => {
    const r = new Registry();
    r.register({ name: 'ok', describe: () => [], collect: (w) => w.raw('# HELP a_b x\n# TYPE a_b gauge\na_b 1\n') });
    r.register({ name: 'bad', describe: () => [], collect: (w) => { w.raw('partial_output 1\n'); throw new Error('boom'); } });
    const t = r.render('prometheus', { tick: undefined, thresholds, stats, build });
    expect(t).toContain('a_b 1\n');
    expect(t).not.toContain('partial_output');
    expect(t).toContain('optifiber_scrape_collector_success{collector="bad"} 0');
    expect(t).toContain('optifiber_scrape_collector_success{collector="ok"} 1');
  });

  test('label values are escaped', () => {
    const t = render(makeTick(sites, { source: { kind: 'file', path: 'C:\\x "y"\nz', up: true } }));
    expect(t).toContain('path="C:\\\\x \\"y\\"\\nz"');
    expect(promtool(t).status).toBe(0);
  });

  test('catalogue lists every family with type, help and labels', () => {
    const cat = metricCatalogue();
    const names = cat.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of [
      'optifiber_site_info', 'optifiber_throughput_bytes_per_second', 'optifiber_offered_load_bytes_per_second',
      'optifiber_capacity_bytes_per_second', 'optifiber_cmd_module_capacity_bytes_per_second', 'optifiber_cmd_modules',
      'optifiber_cmd_modules_max', 'optifiber_link_up', 'optifiber_link_state', 'optifiber_transferred_bytes_total',
      'optifiber_crc_errors_total', 'optifiber_fec_corrected_bit_errors_total', 'optifiber_fec_uncorrectable_blocks_total',
      'optifiber_loss_of_signal_events_total', 'optifiber_pre_fec_bit_error_ratio', 'optifiber_post_fec_bit_error_ratio',
      'optifiber_osnr_db', 'optifiber_q_factor_db', 'optifiber_rx_power_dbm', 'optifiber_tx_power_dbm',
      'optifiber_chromatic_dispersion_ps_per_nm', 'optifiber_laser_bias_current_amperes', 'optifiber_module_temperature_celsius',
      'optifiber_simulated_fault_info', 'optifiber_site_sample_timestamp_seconds', 'optifiber_site_page_valid',
      'optifiber_osnr_low_threshold_db', 'optifiber_pre_fec_ber_high_threshold_ratio', 'optifiber_rx_power_low_threshold_dbm',
      'optifiber_rx_power_high_threshold_dbm', 'optifiber_utilization_high_threshold_ratio', 'optifiber_anomaly_score_threshold',
      'optifiber_exporter_build_info', 'optifiber_source_up', 'optifiber_source_info', 'optifiber_source_read_retries_total',
      'optifiber_source_torn_reads_total', 'optifiber_last_sample_timestamp_seconds', 'optifiber_tick_duration_seconds',
      'optifiber_scrape_duration_seconds', 'optifiber_sites', 'optifiber_scrape_collector_duration_seconds',
      'optifiber_scrape_collector_success', 'process_resident_memory_bytes', 'process_cpu_seconds_total', 'process_start_time_seconds',
    ]) expect(names).toContain(n);
    for (const d of cat) {
      expect(d.help.length).toBeGreaterThan(10);
      if (d.type === 'counter') expect(d.name).toMatch(/_total$/);
      if (d.type === 'info') expect(d.name).toMatch(/_info$/);
    }
    expect(cat.find((d) => d.name === 'optifiber_link_state')!.labels).toEqual(['site', 'state']);
  });
});

describe('promtool check metrics', () => {
  test('a full exposition with many sites, faults, invalid pages prints nothing', () => {
    const many = Array.from({ length: 50 }, (_, i) =>
      makeSample(i, { name: `site-${i}`, linkState: (['up', 'down', 'degraded'] as const)[i % 3], fault: i % 7 === 0 ? 'fiber_cut' : 'none', preFecBer: 1e-20 * (i + 1) }),
    );
    const t = render(makeTick(many, { invalid: [{ index: 99, reason: 'bad magic' }] }));
    expect(promtool(t)).toEqual({ status: 0, out: '' });
  });

  test('--no-collector.X: its families and its scrape_collector series are gone, promtool still silent', () => {
    const tick = makeTick([makeSample(0), makeSample(1, { name: 'site-1', fault: 'fiber_cut' })]);
    const all = render(tick);
    const cut = render(tick, 'prometheus', ['--no-collector.site', '--no-collector.process']);
    const families = (t: string) => new Set(t.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]));
    const site = new SiteCollector().describe();
    expect(site.length).toBeGreaterThan(5);
    for (const d of site) {
      expect(families(all).has(d.name)).toBe(true);
      expect(families(cut).has(d.name)).toBe(false);
    }
    expect(families(cut).has('process_cpu_seconds_total')).toBe(false);
    expect(cut).not.toMatch(/^[a-z_]+\{collector="(site|process)"\}/m);
    expect(cut).toMatch(/^optifiber_scrape_collector_success\{collector="thresholds"\} 1$/m);
    expect(all).toMatch(/^optifiber_scrape_collector_success\{collector="site"\} 1$/m);
    expect(promtool(cut)).toEqual({ status: 0, out: '' });
  });

  test('--collector.disable-defaults keeps only the collectors named', () => {
    const t = render(makeTick([makeSample(0)]), 'prometheus', ['--collector.disable-defaults', '--collector.source']);
    const lines = t.split('\n').filter((l) => l.startsWith('optifiber_scrape_collector_success'));
    expect(lines).toEqual(['optifiber_scrape_collector_success{collector="source"} 1']);
    expect(t).toContain('optifiber_source_up 1');
    expect(t).not.toContain('optifiber_exporter_build_info');
    expect(promtool(t)).toEqual({ status: 0, out: '' });
  });

  test('promtool does catch a bad exposition (the test can fail)', () => {
    const r = promtool('# TYPE foo_total gauge\nfoo_total 1\n');
    expect(r.status).not.toBe(0);
    expect(r.out).not.toBe('');
  });
});

describe('content negotiation', () => {
  test('Accept and Accept-Encoding', () => {
    expect(negotiateFormat(undefined)).toBe('prometheus');
    expect(negotiateFormat('text/plain;version=0.0.4;q=1,*/*;q=0.1')).toBe('prometheus');
    // Prometheus 2.42 default scrape Accept header
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text; version=1.0.0; q=0')).toBe('prometheus');
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('deflate, gzip;q=1.0, *;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});
