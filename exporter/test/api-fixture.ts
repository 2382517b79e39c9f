// Test fixture for the API and control tests: a real page file written by a
// small test writer (the ABI encoder), the real PageReader and Sampler on
// it, a fake simulator control socket that applies commands to the writer,
// and an express app with the routers on 127.0.0.1:0.
import { mkdtempSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import express from 'express';
import { buildPages } from '../src/abi/page-encoder.js';
import type { RawSite } from '../src/abi/page-encoder.js';
import { PageReader } from '../src/source/page-reader.js';
import { Sampler } from '../src/sampler/sampler.js';
import { apiRouter, apiNotFound } from '../src/api/router.js';
import type { ApiRouter } from '../src/api/router.js';
import type { ApiLimits } from '../src/api/deps.js';
import type { EventLogger as Logger } from '../src/log/logger.js';
import { controlRouter } from '../src/control/router.js';
import type { ControlDeps } from '../src/control/router.js';
import { UnixSocketControlChannel } from '../src/control/channel.js';

export const FAULTS = ['none', 'fiber_cut', 'osnr_degrade', 'ber_creep', 'amp_failure', 'crc_burst', 'traffic_surge'];

export interface WriterSite {
  name: string;
  cmdModules: number;
  cmdModulesMax: number;
  fault: number;
  faultsTotal: number;
  bytes: number;
  sampleSeq: number;
}

/** Writes a page file the way the simulator does (one tick per step()). */
export class TestWriter {
  readonly dir: string;
  readonly file: string;
  tick = 1;
  simTimeS = 1_800_000_000;
  readonly sites: WriterSite[];
  /** When false, accepted commands are not applied (read-back timeout tests). */
  apply = true;
  private fd: number;

  constructor(names: string[]) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'ofapi-'));
    this.file = path.join(this.dir, 'pages');
    this.sites = names.map((name) => ({ name, cmdModules: 4, cmdModulesMax: 16, fault: 0, faultsTotal: 0, bytes: 0, sampleSeq: 1 }));
    this.fd = openSync(this.file, 'w+');
    this.write();
  }

  private raw(): Uint8Array {
    const now = Date.now();
    const sites: RawSite[] = this.sites.map((s, i) => ({
      name: s.name,
      site_index: i,
      sample_seq: s.sampleSeq,
      update_time_ns: BigInt(now) * 1_000_000n,
      sim_time_s: this.simTimeS,
      throughput_bps: 40_000_000_000,
      offered_bps: 42_000_000_000,
      module_capacity_bps: 100_000_000_000,
      capacity_bps: s.cmdModules * 100_000_000_000,
      cmd_modules: s.cmdModules,
      cmd_modules_max: s.cmdModulesMax,
      link_state: s.fault === 1 ? 0 : 1,
      bytes: s.bytes,
      crc_errors: 0,
      pre_fec_ber_e18: 1_000_000_000_000n,
      osnr_cdb: s.fault === 2 ? 1500 : 2850,
      q_factor_cdb: 1200,
      rx_power_cdbm: -520,
      tx_power_cdbm: 100,
      chromatic_dispersion_ps_nm: 12,
      laser_bias_ua: 45000,
      temperature_mc: 41250,
      fault: s.fault,
      faults_total: s.faultsTotal,
    }));
    return buildPages({ tick: this.tick, tick_interval_ms: 100, update_time_ns: BigInt(now) * 1_000_000n, sim_time_s: this.simTimeS }, sites);
  }

  private write(): void {
    const img = this.raw();
    writeSync(this.fd, img, 0, img.length, 0);
  }

  step(): void {
    this.tick++;
    this.simTimeS += 1;
    for (const s of this.sites) {
      s.sampleSeq++;
      s.bytes += 5_000_000_000;
    }
    this.write();
  }

  /** The simulator's grammar, enough for the tests: returns the reply line. */
  command(line: string): string {
    const kv = Object.fromEntries(line.trim().split(' ').map((p) => p.split('=') as [string, string]));
    const s = this.sites.find((x) => x.name === kv.site);
    if (!s) return 'error EINVAL: unknown site';
    if (kv.cmd_add) {
      const n = s.cmdModules + Number(kv.cmd_add);
      if (n > s.cmdModulesMax) return 'error ERANGE: cmd_modules would exceed cmd_modules_max';
      if (this.apply) s.cmdModules = n;
    } else if (kv.cmd_remove) {
      const n = s.cmdModules - Number(kv.cmd_remove);
      if (n < 1) return 'error ERANGE: cmd_modules would fall below 1';
      if (this.apply) s.cmdModules = n;
    } else if (kv.fault === 'clear') {
      if (this.apply) s.fault = 0;
    } else if (kv.fault) {
      const k = FAULTS.indexOf(kv.fault);
      if (k <= 0) return 'error EINVAL: unknown fault';
      if (this.apply) {
        s.fault = k;
        s.faultsTotal++;
      }
    } else return 'error EINVAL: no action';
    return 'ok';
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A cmd_control socket like the simulator's; `reply` overrides the answer. */
export class FakeSimSocket {
  readonly path: string;
  readonly lines: string[] = [];
  reply: ((line: string) => string | null) | undefined;
  private server: net.Server;

  constructor(readonly writer: TestWriter) {
    this.path = path.join(writer.dir, 'cmd_control');
    this.server = net.createServer((sock) => {
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        this.lines.push(line);
        const r = this.reply ? this.reply(line) : this.writer.command(line);
        if (r === null) return; // never answer
        sock.end(`${r}\n`);
      });
      sock.on('error', () => {});
    });
  }
  listen(): Promise<void> {
    return new Promise((r) => this.server.listen(this.path, r));
  }
  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

export interface Fixture {
  writer: TestWriter;
  sim: FakeSimSocket;
  sampler: Sampler;
  api: ApiRouter;
  server: http.Server;
  base: string;
  logs: { level: string; fields: Record<string, unknown>; msg: string }[];
  /** writer.step() + sampler.tick() */
  tick(): Promise<void>;
  /** Run ticks every `ms` until stopped. */
  autoTick(ms?: number): () => void;
  close(): Promise<void>;
}

export async function startFixture(
  opts: { sites?: string[]; control?: Partial<ControlDeps>; limits?: Partial<ApiLimits>; ticks?: number } = {},
): Promise<Fixture> {
  const writer = new TestWriter(opts.sites ?? ['paris-1', 'lyon-2', 'nice-3']);
  const sim = new FakeSimSocket(writer);
  await sim.listen();
  const sampler = new Sampler({ kind: 'file', path: writer.file, open: (p) => PageReader.open(p), intervalMs: 100 });
  const logs: Fixture['logs'] = [];
  const logger: Logger = {
    info: (fields, msg) => logs.push({ level: 'info', fields, msg }),
    warn: (fields, msg) => logs.push({ level: 'warn', fields, msg }),
    error: (fields, msg) => logs.push({ level: 'error', fields, msg }),
  };
  const tick = async () => {
    writer.step();
    await sampler.tick();
  };
  const api = apiRouter({ sampler, logger, limits: { heartbeatMs: 200, ...opts.limits } });
  for (let i = 0; i < (opts.ticks ?? 3); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 5));
    await tick();
  }
  const app = express();
  app.disable('x-powered-by');
  app.use(api);
  app.use(
    controlRouter({
      sampler,
      channel: new UnixSocketControlChannel(sim.path, 2000),
      token: 'test-token-0123456789abcdef',
      logger,
      readbackTimeoutMs: 2000,
      ...opts.control,
    }),
  );
  app.use(apiNotFound());
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const timers = new Set<NodeJS.Timeout>();
  return {
    writer,
    sim,
    sampler,
    api,
    server,
    base,
    logs,
    tick,
    autoTick(ms = 50) {
      const t = setInterval(() => void tick(), ms);
      timers.add(t);
      return () => {
        clearInterval(t);
        timers.delete(t);
      };
    },
    async close() {
      for (const t of timers) clearInterval(t);
      api.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await sampler.stop();
      await sim.close();
      writer.close();
    },
  };
}

/** JSON fetch helper: status, headers, parsed body (or text). */
export async function req(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: r.status, headers: r.headers, body, text };
}
