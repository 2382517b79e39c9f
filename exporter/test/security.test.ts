// Issue 12, part A: the exporter's findings, one describe per finding
// (names start with "F<n>"), against the real ExporterServer over a page
// file and a fake simulator control socket (security-fixture.ts).
import { existsSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import express from 'express';
import { apiRouter } from '../src/api/router.js';
import path from 'node:path';
import tls from 'node:tls';
import bcrypt from 'bcryptjs';
import { loadConfig, configHelp, ConfigError } from '../src/config/load.js';
import { loadWebConfig, parseWebConfig, WebConfigError } from '../src/http/web-config.js';
import { openControlAudit } from '../src/http/start.js';
import { Authenticator, BcryptVerifier, FailureLimiter } from '../src/http/credentials.js';
import { ControlAudit } from '../src/control/audit.js';
import { startFixture } from './api-fixture.js';
import {
  CONTROL_TOKEN,
  HASH,
  PASSWORD,
  READ_TOKEN,
  basic,
  call,
  command,
  makeCert,
  metric,
  startSecure,
  tmpDir,
  type SecFixture,
} from './security-fixture.js';

const readAudit = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('F1 --web.config.file, the exporter-toolkit spelling, and reload on change', () => {
  test('--web.config.file is accepted; --web.config-file stays an alias; help shows the toolkit spelling', () => {
    expect(loadConfig({ argv: ['--web.config.file=/etc/w.yml'], env: {} }).config.web.config_file).toBe('/etc/w.yml');
    expect(loadConfig({ argv: ['--web.config.file', '/etc/w.yml'], env: {} }).config.web.config_file).toBe('/etc/w.yml');
    expect(loadConfig({ argv: ['--web.config-file=/etc/a.yml'], env: {} }).config.web.config_file).toBe('/etc/a.yml');
    expect(configHelp()).toMatch(/--web\.config\.file \(alias --web\.config-file\)/);
    expect(() => loadConfig({ argv: ['--web.config.file=/a', '--web.config-file=/b'], env: {} })).toThrow(/given more than once/);
  });

  test('a rotated certificate is served from the next handshake, without a restart; a bad new version keeps the last good one', async () => {
    const dir = tmpDir();
    const certA = makeCert(dir, 'a', 'cert-a');
    const certB = makeCert(dir, 'b', 'cert-b');
    copyFileSync(path.join(dir, 'a.pem'), path.join(dir, 'cert.pem'));
    copyFileSync(path.join(dir, 'a-key.pem'), path.join(dir, 'key.pem'));
    const f = await startSecure({ dir, webConfig: 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n' });
    const peerCN = () =>
      new Promise<string>((resolve, reject) => {
        const u = new URL(f.base);
        const s = tls.connect({ host: '127.0.0.1', port: Number(u.port), rejectUnauthorized: false }, () => {
          const cn = String(s.getPeerCertificate().subject?.CN);
          s.destroy();
          resolve(cn);
        });
        s.on('error', reject);
      });
    try {
      expect(await peerCN()).toBe('cert-a');
      copyFileSync(path.join(dir, 'b.pem'), path.join(dir, 'cert.pem'));
      copyFileSync(path.join(dir, 'b-key.pem'), path.join(dir, 'key.pem'));
      expect(await peerCN()).toBe('cert-b');
      expect((await call(`${f.base}/metrics`, { ca: certB })).status).toBe(200);
      // SIGHUP (reloadWebConfig) applies the certificate too, not only a new connection.
      copyFileSync(path.join(dir, 'a.pem'), path.join(dir, 'cert.pem'));
      copyFileSync(path.join(dir, 'a-key.pem'), path.join(dir, 'key.pem'));
      expect(f.server.webConfigWatcher!.check(true)).toBe(true);
      expect(await peerCN()).toBe('cert-a');
      copyFileSync(path.join(dir, 'b.pem'), path.join(dir, 'cert.pem'));
      copyFileSync(path.join(dir, 'b-key.pem'), path.join(dir, 'key.pem'));
      expect(await peerCN()).toBe('cert-b');
      // A broken config: refused, cert-b still served, the reload gauge says so.
      writeFileSync(f.webConfigFile!, 'tls_server_config:\n  cert_file: missing.pem\n  key_file: key.pem\n');
      expect(await peerCN()).toBe('cert-b');
      const m = await call(`${f.base}/metrics`, { ca: certB });
      expect(metric(m.text, 'optifiber_exporter_web_config_last_reload_successful')).toBe(0);
      expect(f.logs.some((l) => l.level === 'error' && /keeping the last good one/.test(l.msg))).toBe(true);
      void certA;
    } finally {
      await f.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('F2 scoped credentials: basic auth and bearer coexist; read vs control; identities in the audit', () => {
  let f: SecFixture;
  beforeAll(async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'read.token'), READ_TOKEN, { mode: 0o600 });
    f = await startSecure({
      dir,
      webConfig: [
        'basic_auth_users:',
        `  prometheus: ${HASH}`,
        `  oncall: ${HASH}`,
        'basic_auth_scopes:',
        '  oncall: [read, control]',
        'bearer_tokens:',
        '  grafana:',
        '    token_file: read.token',
        '    scopes: [read]',
      ].join('\n'),
    });
  });
  afterAll(() => f.close());

  test('basic auth on: the control token still adds capacity (it was 401 before)', async () => {
    const r = await command(f.base, 'paris-1', { cmd_add: 1 }, { Authorization: `Bearer ${CONTROL_TOKEN}` });
    expect(r.status).toBe(200);
    expect(r.body.result).toBe('applied');
  });

  test('read identities read but cannot control (403, nothing written); a basic user with the control scope can', async () => {
    expect((await call(`${f.base}/metrics`, { headers: { Authorization: basic('prometheus', PASSWORD) } })).status).toBe(200);
    expect((await call(`${f.base}/api/v1/sites`, { headers: { Authorization: `Bearer ${READ_TOKEN}` } })).status).toBe(200);
    expect((await call(`${f.base}/api/v1/sites`)).status).toBe(401);
    const n = f.sim.lines.length;
    const a = await command(f.base, 'paris-1', { cmd_add: 1 }, { Authorization: basic('prometheus', PASSWORD) });
    const b = await command(f.base, 'paris-1', { cmd_add: 1 }, { Authorization: `Bearer ${READ_TOKEN}` });
    expect([a.status, b.status]).toEqual([403, 403]);
    expect(a.body.message).toMatch(/"prometheus" lacks the control scope/);
    expect(f.sim.lines.length).toBe(n);
    const c = await command(f.base, 'lyon-2', { cmd_add: 1 }, { Authorization: basic('oncall', PASSWORD) });
    expect(c.status).toBe(200);
  });

  test('each identity is named in the persistent audit trail', async () => {
    const names = new Set(readAudit(f.auditFile).map((r) => r.identity));
    expect(names).toEqual(new Set(['control-token', 'prometheus', 'grafana', 'oncall']));
    const applied = readAudit(f.auditFile).filter((r) => r.result === 'applied');
    expect(applied.map((r) => r.identity).sort()).toEqual(['control-token', 'oncall']);
  });

  test('web config validation of the extension keys', () => {
    expect(() => parseWebConfig(`basic_auth_scopes:\n  nobody: [read]\n`, '/tmp')).toThrow(/basic_auth_scopes.nobody: not a user/);
    expect(() => parseWebConfig(`bearer_tokens:\n  x:\n    token_file: /nonexistent\n    scopes: [read]\n`, '/tmp')).toThrow(/bearer_tokens.x.token_file/);
    expect(() => parseWebConfig(`basic_auth_users:\n  u: ${HASH}\nbasic_auth_scopes:\n  u: [admin]\n`, '/tmp')).toThrow(/unknown scope "admin"/);
  });
});

describe('F3 bcrypt off the event loop, cost cap, failures limited per address', () => {
  test('a cost-12 check does not occupy the event loop (it runs in a worker)', async () => {
    const hash12 = bcrypt.hashSync('x', 12);
    const v = new BcryptVerifier();
    try {
      await v.verify('x', hash12); // start the worker
      // Event-loop utilisation: the share of the time the loop was busy (not waiting for I/O). It does not
      // depend on how loaded the machine is: bcryptjs's own async API measures ~1.0 here, the worker ~0.02.
      const e0 = performance.eventLoopUtilization();
      const results = await Promise.all([v.verify('wrong', hash12), v.verify('x', hash12)]);
      const elu = performance.eventLoopUtilization(e0).utilization;
      expect(results).toEqual([false, true]);
      expect(elu).toBeLessThan(0.3);
    } finally {
      await v.close();
    }
  });

  test('hashes above cost 12 are refused when the web config is loaded', () => {
    const h13 = '$2b$13$' + 'a'.repeat(53);
    expect(() => parseWebConfig(`basic_auth_users:\n  u: '${h13}'\n`, '/tmp')).toThrow(/bcrypt cost 13 outside 4..12/);
  });

  test('after 10 failures an address gets 429 without a bcrypt check; failures are counted by reason', async () => {
    const f = await startSecure({ webConfig: `basic_auth_users:\n  prometheus: ${HASH}\n` });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 12; i++) codes.push((await call(`${f.base}/metrics`, { headers: { Authorization: basic('prometheus', `wrong${i}`) } })).status);
      expect(codes.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(codes.slice(10)).toEqual([429, 429]);
      // The right password from that address waits too: nothing is verified while blocked.
      const r = await call(`${f.base}/metrics`, { headers: { Authorization: basic('prometheus', PASSWORD) } });
      expect(r.status).toBe(429);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      const text = f.server.metrics.registry.renderTo(new (await import('../src/metrics/sink.js')).ByteSink(), 'prometheus', {
        tick: f.sampler.latest(),
        thresholds: loadConfig({ argv: [], env: {} }).config.thresholds,
        stats: f.sampler.stats,
        build: { version: 't', revision: 't', nodejsVersion: 't' },
      }).toString();
      expect(metric(text, 'optifiber_exporter_auth_failures_total{reason="invalid"}')).toBe(10);
      expect(metric(text, 'optifiber_exporter_auth_failures_total{reason="rate_limited"}')).toBe(3);
    } finally {
      await f.close();
    }
  });

  test('FailureLimiter forgets after the window', () => {
    let now = 0;
    const l = new FailureLimiter(2, 1000, 100, () => now);
    l.fail('a');
    l.fail('a');
    expect(l.blockedFor('a')).toBe(1);
    expect(l.blockedFor('b')).toBe(0);
    now = 1000;
    expect(l.blockedFor('a')).toBe(0);
  });
});

describe('F4 the kernel source by default; simulated data only when asked, and labelled', () => {
  test('default kind is kernel; without the module the exporter runs with source_up 0, says so once, and attaches when it appears', async () => {
    const { config } = loadConfig({ argv: [], env: {} });
    expect(config.source.kind).toBe('kernel');
    const { chooseSource } = await import('../src/sim/supervisor.js');
    const dir = tmpDir();
    const kpath = path.join(dir, 'myinfo');
    const s = await chooseSource(loadConfig({ argv: [`--source.kernel-path=${kpath}`], env: {} }).config);
    expect(s.kind).toBe('kernel');
    expect(s.simulator).toBeUndefined();
    const { Sampler } = await import('../src/sampler/sampler.js');
    const { PageReader } = await import('../src/source/page-reader.js');
    const { TestWriter } = await import('./api-fixture.js');
    const lines: { level: string; msg: string }[] = [];
    const log = { debug() {}, info: (_f: object, msg: string) => void lines.push({ level: 'info', msg }), warn: (_f: object, msg: string) => void lines.push({ level: 'warn', msg }), error: (_f: object, msg: string) => void lines.push({ level: 'error', msg }), child: () => log };
    const sampler = new Sampler({ kind: 'kernel', path: kpath, open: (p) => PageReader.open(p, { lazy: true, pathCheckIntervalMs: 0 }), intervalMs: 100, logger: log });
    try {
      for (let i = 0; i < 3; i++) await sampler.tick();
      expect(sampler.latest()!.source.up).toBe(false);
      expect(lines.filter((l) => /kernel module not available/.test(l.msg))).toHaveLength(1);
      const w = new TestWriter(['paris-1']);
      copyFileSync(w.file, kpath);
      await sampler.tick();
      expect(sampler.latest()!.source.up).toBe(true);
      w.close();
    } finally {
      await sampler.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('userspace pages are labelled simulated in the metrics and the API; a file source is not', async () => {
    for (const [kind, simulated] of [['userspace', true], ['file', false]] as const) {
      const f = await startSecure({ kind });
      try {
        const m = await call(`${f.base}/metrics`);
        expect(metric(m.text, 'optifiber_source_simulated')).toBe(simulated ? 1 : 0);
        expect((await call(`${f.base}/api/v1/sites`)).body.source.simulated).toBe(simulated);
        expect((await call(`${f.base}/api/v1/snapshot`)).body.source.simulated).toBe(simulated);
      } finally {
        await f.close();
      }
    }
  });
});

describe('F5 control: Idempotency-Key, persistent audit, per-credential rate limits', () => {
  test('a retried key is applied once and answered the same; another command under the key is 422', async () => {
    const f = await startSecure();
    try {
      const h = { Authorization: `Bearer ${CONTROL_TOKEN}`, 'Idempotency-Key': 'job-42' };
      const a = await command(f.base, 'paris-1', { cmd_add: 1 }, h);
      const b = await command(f.base, 'paris-1', { cmd_add: 1 }, h);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(b.headers['idempotent-replayed']).toBe('true');
      expect(b.body).toEqual(a.body);
      expect(f.sim.lines.filter((l) => l.includes('cmd_add'))).toHaveLength(1);
      const c = await command(f.base, 'paris-1', { cmd_add: 2 }, h);
      expect(c.status).toBe(422);
      expect(f.sim.lines).toHaveLength(1);
    } finally {
      await f.close();
    }
  });

  test('the trail survives a restart: a key answered before is replayed, a key left pending is 409, never re-sent', async () => {
    const dir = tmpDir();
    const f1 = await startSecure({ dir });
    const h = { Authorization: `Bearer ${CONTROL_TOKEN}` };
    expect((await command(f1.base, 'paris-1', { cmd_add: 1 }, { ...h, 'Idempotency-Key': 'k1' })).status).toBe(200);
    await f1.close();
    // A crash between "pending" and the outcome: the record a dying exporter leaves.
    writeFileSync(path.join(dir, 'control-audit.jsonl'), JSON.stringify({ ts: new Date().toISOString(), event: 'pending', identity: 'control-token', site: 'lyon-2', command: 'cmd_add=1', idempotencyKey: 'k2' }) + '\n', { flag: 'a' });
    const f2 = await startSecure({ dir });
    try {
      const r1 = await command(f2.base, 'paris-1', { cmd_add: 1 }, { ...h, 'Idempotency-Key': 'k1' });
      expect(r1.status).toBe(200);
      expect(r1.headers['idempotent-replayed']).toBe('true');
      const r2 = await command(f2.base, 'lyon-2', { cmd_add: 1 }, { ...h, 'Idempotency-Key': 'k2' });
      expect(r2.status).toBe(409);
      expect(r2.body.message).toMatch(/may have taken effect/);
      expect(f2.sim.lines).toHaveLength(0);
      const events = readAudit(f2.auditFile).map((r) => `${r.event}:${r.idempotencyKey ?? ''}:${r.status ?? ''}`);
      expect(events).toEqual(['pending:k1:', 'done:k1:200', 'pending:k2:', 'replayed:k1:200', 'refused:k2:409']);
    } finally {
      await f2.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rate limits are per credential: one identity at its limit does not block another', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'mcp.token'), 'mcp-token-0123456789abcdef', { mode: 0o600 });
    const f = await startSecure({ dir, webConfig: 'bearer_tokens:\n  mcp:\n    token_file: mcp.token\n    scopes: [read, control]\n' });
    try {
      f.writer.apply = false;
      const ctl = { Authorization: `Bearer ${CONTROL_TOKEN}` };
      const codes: number[] = [];
      // Default: burst 10. The 11th from control-token is refused...
      for (let i = 0; i < 11; i++) codes.push((await command(f.base, 'paris-1', { fault: 'clear' }, ctl)).status);
      expect(codes.slice(10)).toEqual([429]);
      // ...while mcp still has its own budget.
      expect((await command(f.base, 'paris-1', { fault: 'clear' }, { Authorization: 'Bearer mcp-token-0123456789abcdef' })).status).not.toBe(429);
    } finally {
      await f.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('the audit file rotates at its size bound and keys from the old generation still count', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'a.jsonl');
    const a = new ControlAudit(file, { maxBytes: 400 });
    for (let i = 0; i < 6; i++) a.append({ event: 'done', identity: 'x', site: 's', command: 'cmd_add=1', idempotencyKey: `k${i}`, status: 200, body: { ok: i } });
    a.close();
    const b = new ControlAudit(file, { maxBytes: 400 });
    expect(b.lookup('x', 'k4')?.status).toBe(200);
    expect(b.lookup('y', 'k4')).toBeUndefined(); // keys are per identity
    b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the trail is on disk whenever a credential can control: token file, or a web config granting control only', () => {
    const dir = tmpDir();
    const web = (name: string, body: string) => {
      const f = path.join(dir, name);
      writeFileSync(f, body);
      return f;
    };
    writeFileSync(path.join(dir, 'mcp.token'), 'mcp-token-0123456789abcdef', { mode: 0o600 });
    writeFileSync(path.join(dir, 'ctl.token'), CONTROL_TOKEN, { mode: 0o600 });
    const controlWeb = web('control.yml', 'bearer_tokens:\n  mcp:\n    token_file: mcp.token\n    scopes: [read, control]\n');
    const readWeb = web('read.yml', `basic_auth_users:\n  prometheus: ${HASH}\n`);
    const fileOf = (argv: string[]) => {
      const { config } = loadConfig({ argv, env: {} });
      const a = openControlAudit(config, config.web.config_file ? loadWebConfig(config.web.config_file) : undefined);
      a?.close();
      return a?.file;
    };
    // bearer_tokens-only web config (no --control.token-file): persistent, next to the web config (was: in memory).
    expect(fileOf([`--web.config.file=${controlWeb}`])).toBe(path.join(dir, 'control-audit.jsonl'));
    expect(existsSync(path.join(dir, 'control-audit.jsonl'))).toBe(true);
    expect(fileOf([`--control.token-file=${path.join(dir, 'ctl.token')}`, `--web.config.file=${readWeb}`])).toBe(path.join(dir, 'control-audit.jsonl'));
    expect(fileOf([`--web.config.file=${controlWeb}`, `--control.audit-file=${path.join(dir, 'x', '..', 'mine.jsonl')}`])).toBe(path.join(dir, 'mine.jsonl'));
    // Nothing can control: no trail.
    expect(fileOf([`--web.config.file=${readWeb}`])).toBeUndefined();
    expect(fileOf([])).toBeUndefined();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a web-config-only control identity is audited to disk across a restart; a reload granting control without a trail is refused', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'mcp.token'), 'mcp-token-0123456789abcdef', { mode: 0o600 });
    const webYml = 'bearer_tokens:\n  mcp:\n    token_file: mcp.token\n    scopes: [read, control]\n';
    const f = await startSecure({ dir, controlToken: null, webConfig: webYml });
    try {
      const r = await command(f.base, 'paris-1', { cmd_add: 1 }, { Authorization: 'Bearer mcp-token-0123456789abcdef', 'Idempotency-Key': 'w1' });
      expect(r.status).toBe(200);
      expect(readAudit(f.auditFile).map((x) => `${x.identity}:${x.event}:${x.idempotencyKey}`)).toEqual(['mcp:pending:w1', 'mcp:done:w1']);
    } finally {
      await f.close();
    }
    // Started with only a read identity and an in-memory trail: a reload adding a control identity is refused.
    const g = await startSecure({ dir, controlToken: null, persistentAudit: false, webConfig: `basic_auth_users:\n  prometheus: ${HASH}\n` });
    try {
      writeFileSync(g.webConfigFile!, `basic_auth_users:\n  prometheus: ${HASH}\n${webYml}`);
      expect(g.server.webConfigWatcher!.check(true)).toBe(false);
      expect(g.server.webConfigWatcher!.lastReloadError).toMatch(/granting the control scope needs a restart/);
      const r = await command(g.base, 'paris-1', { cmd_add: 1 }, { Authorization: 'Bearer mcp-token-0123456789abcdef' });
      // Control stays disabled (no identity holds the scope): 403 with the enable hint, nothing written.
      expect([r.status, r.body.message]).toEqual([403, expect.stringMatching(/control/i)]);
      expect(g.sim.lines).toHaveLength(0);
    } finally {
      await g.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('F7 long-poll across a restart; history concurrency cap', () => {
  test('a tick number from before a restart is answered at once with gap: true', async () => {
    const f = await startFixture();
    try {
      const t0 = performance.now();
      const r = await fetch(`${f.base}/api/v1/poll?after=999999&timeout=20`);
      const body = (await r.json()) as { gap: boolean; lastSeq: number };
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(body.gap).toBe(true);
      expect(body.lastSeq).toBeLessThan(999999);
    } finally {
      await f.close();
    }
  });

  test('history: beyond the cap of requests in progress, 503 + Retry-After', async () => {
    const f = await startFixture();
    // The real sampler's latest tick, with a history of 10,000 points (~10 MB of JSON), more than the loopback socket buffers hold.
    const state = f.sampler.latest()!.sites[0]!;
    const view = { latest: () => f.sampler.latest(), onTick: (fn: (t: never) => void) => f.sampler.onTick(fn), history: () => Array.from({ length: 10_000 }, (_, i) => ({ seq: i + 1, takenAtMs: Date.now() - 10_000 + i, state })) };
    const api = apiRouter({ sampler: view, limits: { maxHistoryInFlight: 1 } });
    const app = express().use(api);
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const sock = net.connect(port, '127.0.0.1');
    try {
      await new Promise((r) => sock.once('connect', r));
      sock.pause(); // asks, never reads: holds its slot while the body is unsent
      sock.write('GET /api/v1/sites/paris-1/history HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => setTimeout(r, 300));
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/sites/paris-1/history`);
      const body = (await r.json()) as { message: string };
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(body.message).toMatch(/too many history requests/);
      sock.destroy();
      await new Promise((r) => setTimeout(r, 100));
      // The slot is free again once that client is gone.
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/sites/paris-1/history`)).status).toBe(200);
    } finally {
      sock.destroy();
      api.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await f.close();
    }
  });
});

describe('F19 malformed percent-encoding: 400, one log line at most, no stack', () => {
  test('on the read API and, unauthenticated, on the control route', async () => {
    const f = await startSecure({ webConfig: `basic_auth_users:\n  prometheus: ${HASH}\n` });
    try {
      for (const p of ['/api/v1/sites/%FF%FE/history', '/api/v1/sites/%/commands', '/metrics%', '/api/v1/sites/%E0%A4%A/history']) {
        const r = await call(`${f.base}/`, { rawPath: p, method: p.endsWith('commands') ? 'POST' : 'GET' });
        expect({ p, status: r.status }).toEqual({ p, status: 400 });
        expect(r.body.message).toMatch(/percent-encoding/);
        expect(r.text).not.toMatch(/\bat .+:\d+:\d+|URIError/);
      }
      const lines = f.logs.filter((l) => /percent-encoding/.test(l.msg) || /unhandled/.test(l.msg));
      expect(lines).toHaveLength(1);
      expect(JSON.stringify(lines)).not.toMatch(/stack/);
      expect((await call(`${f.base}/-/healthy`, { headers: { Authorization: basic('prometheus', PASSWORD) } })).status).toBe(200);
    } finally {
      await f.close();
    }
  });
});

describe('F20 header/request timeouts and a connection cap', () => {
  test('connections above web.max-connections are closed at once', async () => {
    const f = await startSecure({ argv: ['--web.max-connections=3'] });
    const socks: net.Socket[] = [];
    try {
      const u = new URL(f.base);
      for (let i = 0; i < 3; i++) {
        const s = net.connect(Number(u.port), '127.0.0.1');
        await new Promise((r) => s.once('connect', r));
        socks.push(s);
      }
      await new Promise((r) => setTimeout(r, 100));
      const extra = net.connect(Number(u.port), '127.0.0.1');
      socks.push(extra);
      const closed = await new Promise<boolean>((resolve) => {
        extra.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 2000);
      });
      expect(closed).toBe(true);
    } finally {
      for (const s of socks) s.destroy();
      await f.close();
    }
  });

  test('a slowloris connection is closed once the header timeout passes', async () => {
    const f = await startSecure({ timeouts: { headersMs: 500 } });
    try {
      const u = new URL(f.base);
      const s = net.connect(Number(u.port), '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      const t0 = performance.now();
      const drip = setInterval(() => s.write('X-a: b\r\n'), 100);
      const closedAfter = await new Promise<number>((resolve) => {
        s.on('error', () => {});
        s.once('close', () => resolve(performance.now() - t0));
        setTimeout(() => resolve(Infinity), 5000);
      });
      clearInterval(drip);
      expect(closedAfter).toBeLessThan(2500);
    } finally {
      await f.close();
    }
  });
});

describe('F22 control bodies: 1 KiB, as documented', () => {
  test('a 2 KiB body is 413 through the real server (max_request_bytes is 64 KiB for the rest); nothing written', async () => {
    const f = await startSecure();
    try {
      const body = JSON.stringify({ cmd_add: 1, pad: 'x'.repeat(2000) });
      const r = await command(f.base, 'paris-1', body, { Authorization: `Bearer ${CONTROL_TOKEN}` });
      expect(r.status).toBe(413);
      expect(r.body.message).toMatch(/1 KiB/);
      const chunked = await call(`${f.base}/api/v1/sites/paris-1/commands`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${CONTROL_TOKEN}`, 'Transfer-Encoding': 'chunked' },
        body,
      });
      expect(chunked.status).toBe(413);
      expect(f.sim.lines).toHaveLength(0);
    } finally {
      await f.close();
    }
  });
});

describe('Authenticator units', () => {
  test('bearer and basic identities, scopes, unknown schemes', async () => {
    const a = new Authenticator({ basicUsers: new Map([['u', HASH]]), bearer: [{ name: 'ctl', token: 'x'.repeat(20), scopes: ['control'] }] });
    const req = (h?: string) => ({ get: () => h, socket: { remoteAddress: '10.0.0.1' } }) as never;
    expect(await a.authenticate(req(`Bearer ${'x'.repeat(20)}`), 'control')).toMatchObject({ ok: true, identity: { name: 'ctl', scheme: 'bearer' } });
    expect(await a.authenticate(req(`Bearer ${'x'.repeat(20)}`), 'read')).toMatchObject({ ok: false, status: 403 });
    expect(await a.authenticate(req(basic('u', PASSWORD)), 'read')).toMatchObject({ ok: true, identity: { name: 'u', scheme: 'basic' } });
    expect(await a.authenticate(req('Digest abc'), 'read')).toMatchObject({ ok: false, status: 401, reason: 'missing' });
    expect(await a.authenticate(req(), 'read')).toMatchObject({ ok: false, status: 401, reason: 'missing' });
    await a.close();
    void ConfigError;
    void WebConfigError;
  });
  test('refusals of a blocked address are held (the next guess waits), at most maxHeldPerAddress at a time; others are not', async () => {
    const limiter = new FailureLimiter(1, 60_000);
    const a = new Authenticator({ bearer: [{ name: 'ctl', token: 'x'.repeat(20), scopes: ['control'] }], limiter, refusalDelayMs: 300, maxHeldPerAddress: 2 });
    const req = (ip: string, h: string) => ({ get: () => h, socket: { remoteAddress: ip } }) as never;
    expect(await a.authenticate(req('10.0.0.9', `Bearer ${'y'.repeat(20)}`), 'control')).toMatchObject({ status: 401, reason: 'invalid' });
    // Blocked now: four guesses at once; two are held on the timer, the two beyond the bound are answered first.
    const order: number[] = [];
    const guesses = [0, 1, 2, 3].map((i) => a.authenticate(req('10.0.0.9', `Bearer ${'y'.repeat(20)}`), 'control').then((r) => (order.push(i), r)));
    // Another address, and the right token, are not held behind them.
    const other = a.authenticate(req('10.0.0.10', `Bearer ${'x'.repeat(20)}`), 'control').then((r) => (order.push(9), r));
    const rs = await Promise.all(guesses);
    expect(rs.map((r) => (r.ok ? 200 : r.status))).toEqual([429, 429, 429, 429]);
    expect((await other).ok).toBe(true);
    expect(order.indexOf(9)).toBeLessThan(order.indexOf(0));
    expect(order.slice(-2).sort()).toEqual([0, 1]);
    await a.close();
  });
});
