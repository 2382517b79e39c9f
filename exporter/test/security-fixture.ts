// The whole ExporterServer (web config, scoped credentials, control, audit)
// over a real page file (TestWriter) and a fake simulator control socket,
// for the issue-12 security tests and the bad-input tables.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { FakeSimSocket, TestWriter } from './api-fixture.js';
import { loadConfig } from '../src/config/load.js';
import { ExporterServer } from '../src/http/server.js';
import { loadWebConfig } from '../src/http/web-config.js';
import { ControlAudit } from '../src/control/audit.js';
import { UnixSocketControlChannel } from '../src/control/channel.js';
import { PageReader } from '../src/source/page-reader.js';
import { Sampler } from '../src/sampler/sampler.js';
import type { Logger } from '../src/log/logger.js';
import type { SourceKind } from '../src/sampler/types.js';

export const CONTROL_TOKEN = 'control-token-0123456789abcdef';
export const READ_TOKEN = 'grafana-read-token-0123456789';
export const PASSWORD = 's3cret-pass';
/** Cost 4: fast tests (the cap is tested on its own). */
export const HASH = bcrypt.hashSync(PASSWORD, 4);

export interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  msg: string;
}

export function captureLogger(lines: LogLine[]): Logger {
  const l: Logger = {
    debug: () => {},
    info: (fields, msg) => void lines.push({ level: 'info', fields, msg }),
    warn: (fields, msg) => void lines.push({ level: 'warn', fields, msg }),
    error: (fields, msg) => void lines.push({ level: 'error', fields, msg }),
    child: () => l,
  };
  return l;
}

export function tmpDir(prefix = 'ofsec-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A self-signed certificate for 127.0.0.1 / localhost in dir (cert.pem, key.pem); returns the PEM. */
export function makeCert(dir: string, name = 'cert', cn = 'localhost'): Buffer {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, `${name}-key.pem`),
    '-out', path.join(dir, `${name}.pem`), '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return execFileSync('cat', [path.join(dir, `${name}.pem`)]);
}

export interface SecFixture {
  dir: string;
  writer: TestWriter;
  sim: FakeSimSocket;
  sampler: Sampler;
  server: ExporterServer;
  base: string;
  logs: LogLine[];
  auditFile: string;
  webConfigFile: string | undefined;
  tick(): Promise<void>;
  close(): Promise<void>;
}

export interface SecOptions {
  /** Web config YAML (written to dir/web.yml; {dir} replaced by the fixture dir). */
  webConfig?: string;
  /** Extra exporter flags. */
  argv?: string[];
  /** The --control.token-file token; null: none. */
  controlToken?: string | null;
  kind?: SourceKind;
  timeouts?: { headersMs?: number; requestMs?: number };
  /** Reuse a directory (restart tests): the audit trail lives there. */
  dir?: string;
  rateLimit?: { burst: number; perSecond: number };
  /** false: the control audit is in memory, as when nothing could control at start. Default true. */
  persistentAudit?: boolean;
}

export async function startSecure(o: SecOptions = {}): Promise<SecFixture> {
  const dir = o.dir ?? tmpDir();
  const writer = new TestWriter(['paris-1', 'lyon-2']);
  const sim = new FakeSimSocket(writer);
  await sim.listen();
  const logs: LogLine[] = [];
  const log = captureLogger(logs);
  let webConfigFile: string | undefined;
  if (o.webConfig !== undefined) {
    webConfigFile = path.join(dir, 'web.yml');
    writeFileSync(webConfigFile, o.webConfig.replaceAll('{dir}', dir));
  }
  const { config } = loadConfig({ argv: ['--web.listen-address=127.0.0.1:0', ...(o.argv ?? [])], env: {} });
  const sampler = new Sampler({ kind: o.kind ?? 'file', path: writer.file, open: (p) => PageReader.open(p), intervalMs: 100 });
  const tick = async () => {
    writer.step();
    await sampler.tick();
  };
  for (let i = 0; i < 3; i++) await tick();
  const auditFile = path.join(dir, 'control-audit.jsonl');
  const audit = new ControlAudit(o.persistentAudit === false ? undefined : auditFile);
  const token = o.controlToken === null ? undefined : (o.controlToken ?? CONTROL_TOKEN);
  const webConfig = webConfigFile ? loadWebConfig(webConfigFile) : undefined;
  const server = new ExporterServer({
    config,
    sampler,
    log,
    control: { channel: new UnixSocketControlChannel(sim.path, 2000), audit, ...(token ? { token } : {}), ...(o.rateLimit ? { rateLimit: o.rateLimit } : {}) },
    ...(webConfig ? { webConfig, webConfigFile: webConfigFile! } : {}),
    ...(o.timeouts ? { timeouts: o.timeouts } : {}),
  });
  const addr = await server.listen();
  // Read-back needs ticks: a timer like the sampler's own.
  const timer = setInterval(() => void tick(), 40);
  return {
    dir,
    writer,
    sim,
    sampler,
    server,
    base: addr.url,
    logs,
    auditFile,
    webConfigFile,
    tick,
    async close() {
      clearInterval(timer);
      await server.close(100);
      await server.closeAuth();
      audit.close();
      await sampler.stop();
      await sim.close();
      writer.close();
      if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** One HTTP(S) request (node:http, so a CA can be given); never throws on a status. */
export function call(url: string, o: { method?: string; headers?: Record<string, string>; body?: string; ca?: Buffer; rawPath?: string } = {}): Promise<CallResult> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const r = mod.request(
      { host: u.hostname, port: u.port, path: o.rawPath ?? `${u.pathname}${u.search}`, method: o.method ?? 'GET', headers: o.headers ?? {}, agent: false, ...(o.ca ? { ca: o.ca } : {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, body });
        });
      },
    );
    r.on('error', reject);
    if (o.body !== undefined) r.end(o.body);
    else r.end();
  });
}

export function command(base: string, site: string, body: unknown, headers: Record<string, string> = {}, ca?: Buffer): Promise<CallResult> {
  return call(`${base}/api/v1/sites/${site}/commands`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(ca ? { ca } : {}),
  });
}

/** A metric sample's value from a text exposition (undefined when absent). */
export function metric(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
