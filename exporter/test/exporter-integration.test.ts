/**
 * @jest-environment ./exporter/test/ai-environment.cjs
 */
// (The AI environment: startExporter now loads the ONNX models, whose native
// addon needs the main realm's typed arrays; see ai-environment.cjs.)
// The real simulator + the real exporter (in process), scraped over HTTP and
// compared with the pages read independently through PageReader.
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import http from 'node:http';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/log/logger.js';
import { startExporter, type ExporterHandle } from '../src/http/start.js';
import { PageReader } from '../src/source/page-reader.js';
import type { SiteSample, Snapshot } from '../src/source/types.js';


interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
function get(url: string, headers: Record<string, string> = {}): Promise<Resp> {
  return new Promise((ok, fail) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', fail);
      })
      .on('error', fail);
  });
}

function parse(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

/** What the exporter must publish for one page, written out independently of the collectors. */
function expected(s: SiteSample): Map<string, number> {
  const l = `{site="${s.name}"}`;
  const e = new Map<string, number>([
    [`optifiber_site_info{site="${s.name}",index="${s.index}"}`, 1],
    [`optifiber_site_remediable${l}`, s.interface ? 0 : 1], // the simulator: commands apply
    [`optifiber_throughput_bytes_per_second${l}`, s.throughputBps / 8],
    [`optifiber_offered_load_bytes_per_second${l}`, s.offeredBps / 8],
    [`optifiber_capacity_bytes_per_second${l}`, s.capacityBps / 8],
    [`optifiber_cmd_module_capacity_bytes_per_second${l}`, s.moduleCapacityBps / 8],
    [`optifiber_cmd_modules${l}`, s.cmdModules],
    [`optifiber_cmd_modules_max${l}`, s.cmdModulesMax],
    [`optifiber_link_up${l}`, s.linkState === 'down' ? 0 : 1],
    [`optifiber_link_state{site="${s.name}",state="down"}`, s.linkState === 'down' ? 1 : 0],
    [`optifiber_link_state{site="${s.name}",state="up"}`, s.linkState === 'up' ? 1 : 0],
    [`optifiber_link_state{site="${s.name}",state="degraded"}`, s.linkState === 'degraded' ? 1 : 0],
    [`optifiber_transferred_bytes_total${l}`, s.bytes],
    [`optifiber_crc_errors_total${l}`, s.crcErrors],
    [`optifiber_fec_corrected_bit_errors_total${l}`, s.fecCorrectedBits],
    [`optifiber_fec_uncorrectable_blocks_total${l}`, s.fecUncorrectableBlocks],
    [`optifiber_loss_of_signal_events_total${l}`, s.losEvents],
    [`optifiber_pre_fec_bit_error_ratio${l}`, s.preFecBer],
    [`optifiber_post_fec_bit_error_ratio${l}`, s.postFecBer],
    [`optifiber_osnr_db${l}`, s.osnrDb],
    [`optifiber_q_factor_db${l}`, s.qFactorDb],
    [`optifiber_rx_power_dbm${l}`, s.rxPowerDbm],
    [`optifiber_tx_power_dbm${l}`, s.txPowerDbm],
    [`optifiber_chromatic_dispersion_ps_per_nm${l}`, s.chromaticDispersionPsNm],
    [`optifiber_laser_bias_current_amperes${l}`, s.laserBiasAmperes],
    [`optifiber_module_temperature_celsius${l}`, s.temperatureCelsius],
    [`optifiber_simulated_fault_info{site="${s.name}",fault="${s.fault}"}`, 1],
    [`optifiber_site_sample_timestamp_seconds${l}`, s.updateTimeMs / 1000],
    [`optifiber_site_page_valid${l}`, 1],
    [`optifiber_osnr_low_threshold_db${l}`, 20],
    [`optifiber_pre_fec_ber_high_threshold_ratio${l}`, 1e-4],
    [`optifiber_rx_power_low_threshold_dbm${l}`, -18],
    [`optifiber_rx_power_high_threshold_dbm${l}`, 3],
    [`optifiber_utilization_high_threshold_ratio${l}`, 0.9],
    [`optifiber_anomaly_score_threshold${l}`, 0.8],
  ]);
  return e;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('exporter against the real simulator', () => {
  let h: ExporterHandle;
  let metricsUrl: string;
  beforeAll(async () => {
    const { config } = loadConfig({
      argv: [
        '--web.listen-address=127.0.0.1:0',
        '--source.kind=userspace',
        '--simulator.nsites=6',
        '--simulator.tick-ms=700',
        '--simulator.time-scale=60',
        '--simulator.fault-rate=200',
        '--simulator.seed=42',
        '--sampler.interval=100ms',
      ],
      env: {},
    });
    h = await startExporter(config, createLogger({ level: 'error' }));
    metricsUrl = `${h.url}/metrics`;
    await until('first tick', async () => ((await get(`${h.url}/-/ready`)).status === 200 ? true : undefined), 10_000);
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('every per-site metric equals the page value of the same sample', async () => {
    const reader = PageReader.open(h.source.path);
    try {
      let compared = 0;
      for (let attempt = 0; attempt < 40 && compared === 0; attempt++) {
        const a: Snapshot = reader.snapshot();
        const scraped = parse((await get(metricsUrl)).body.toString());
        const b: Snapshot = reader.snapshot();
        // Same writer tick before and after, and the exporter published that tick.
        if (a.dir.tick !== b.dir.tick) continue;
        if (!a.sites.every((s) => scraped.get(`optifiber_site_sample_timestamp_seconds{site="${s.name}"}`) === s.updateTimeMs / 1000)) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        expect(a.sites).toHaveLength(6);
        expect(scraped.get('optifiber_sites')).toBe(6);
        expect(scraped.get('optifiber_source_up')).toBe(1);
        for (const s of a.sites) {
          const exp = expected(s);
          // model outputs are not page values (model-serving.test.ts checks them)
          const got = new Map([...scraped].filter(([k]) => k.includes(`site="${s.name}"`) && !/^optifiber_(anomaly_score|anomaly_contribution|forecast_throughput_bytes_per_second|forecast_utilization_ratio)\{/.test(k)));
          expect([...got.keys()].sort()).toEqual([...exp.keys()].sort()); // nothing missing, nothing extra
          for (const [k, v] of exp) expect([k, got.get(k)]).toEqual([k, v]);
          compared++;
        }
      }
      expect(compared).toBe(6);
    } finally {
      reader.close();
    }
  });

  test('live exposition is promtool-clean; OpenMetrics and gzip are served', async () => {
    const plain = await get(metricsUrl);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: plain.body, encoding: 'utf8' });
    expect({ status: lint.status, out: lint.stdout + lint.stderr }).toEqual({ status: 0, out: '' });

    const om = await get(metricsUrl, { Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' });
    expect(om.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const omText = om.body.toString();
    expect(omText).toMatch(/# TYPE optifiber_transferred_bytes counter\noptifiber_transferred_bytes_total\{site="site-/);
    expect(omText.endsWith('# EOF\n')).toBe(true);

    const gz = await get(metricsUrl, { 'Accept-Encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    const text = gunzipSync(gz.body).toString();
    expect(text).toContain('optifiber_source_up 1');
    expect(Number(gz.headers['content-length'])).toBe(gz.body.length);
  });

  test('healthy, ready, 404, oversize request', async () => {
    expect((await get(`${h.url}/-/healthy`)).status).toBe(200);
    expect((await get(`${h.url}/-/ready`)).status).toBe(200);
    const nf = await get(`${h.url}/nope`);
    expect(nf.status).toBe(404);
    const big = await new Promise<number>((ok, fail) => {
      const req = http.request(`${h.url}/api/v1/sites/site-00001/commands`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': String(10 * 1024 * 1024) } }, (res) => {
        res.resume();
        ok(res.statusCode!);
      });
      req.on('error', fail);
      req.write('{');
      // no more body: the server answers from the header
    });
    expect(big).toBe(413);
    // the API and control routers are mounted
    const sites = await get(`${h.url}/api/v1/sites`);
    expect(sites.status).toBe(200);
    expect(sites.body.toString()).toContain('site-00006');
    const cmd = await new Promise<{ status: number; body: string }>((ok, fail) => {
      const req = http.request(`${h.url}/api/v1/sites/site-00001/commands`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => ok({ status: res.statusCode!, body: b }));
      });
      req.on('error', fail);
      req.end('{"cmd_add":1}');
    });
    expect(cmd.status).toBe(403); // no token configured: control disabled, and the message says how to enable it
    expect(cmd.body).toContain('--control.token-file');
  });

  test('simulator killed: source_up 0, serving continues; restarted: reattached', async () => {
    const sim = h.source.simulator!;
    const pid = sim.pid!;
    process.kill(pid, 'SIGKILL');
    const down = await until(
      'source_up 0',
      async () => {
        const r = await get(metricsUrl);
        expect(r.status).toBe(200);
        const m = parse(r.body.toString());
        return m.get('optifiber_source_up') === 0 ? m : undefined;
      },
      5000,
    );
    expect(down.get('optifiber_sites')).toBe(0);
    expect([...down.keys()].some((k) => k.includes('site='))).toBe(false);
    expect((await get(`${h.url}/-/healthy`)).status).toBe(200);
    const up = await until(
      'source_up 1 again',
      async () => {
        const m = parse((await get(metricsUrl)).body.toString());
        return m.get('optifiber_source_up') === 1 && m.get('optifiber_sites') === 6 ? m : undefined;
      },
      15_000,
    );
    expect(sim.pid).not.toBe(pid);
    expect(up.get('optifiber_site_page_valid{site="site-00001"}')).toBe(1);
  });
});
