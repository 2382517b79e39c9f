// --web.config.file: parsing/validation, TLS (self-signed cert made here with
// openssl), TLS 1.1 refused, basic auth with bcrypt hashes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import express from 'express';
import bcrypt from 'bcryptjs';
import { loadWebConfig, parseWebConfig, webConfigMiddleware, createWebServer, WebConfigError } from '../src/http/web-config.js';
import type { WebConfig } from '../src/http/web-config.js';

let dir: string;
const HASH = bcrypt.hashSync('s3cret-pass', 4); // cost 4: fast tests
let caPem: Buffer;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ofweb-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'other-key.pem'), '-out', path.join(dir, 'other.pem'),
    '-days', '1', '-subj', '/CN=other'], { stdio: 'ignore' });
  caPem = execFileSync('cat', [path.join(dir, 'cert.pem')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cfgFile(name: string, yaml: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, yaml);
  return p;
}

async function serve(cfg: WebConfig) {
  const app = express();
  app.use(webConfigMiddleware(cfg));
  app.get('/metrics', (_req, res) => {
    res.type('text/plain').send(`ok ${String(res.locals.user ?? '')}`);
  });
  const server = createWebServer(cfg, app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

function httpsGet(port: number, opts: https.RequestOptions = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const r = https.get({ host: '127.0.0.1', port, path: '/metrics', ca: caPem, agent: false, ...opts }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    r.on('error', reject);
  });
}

function handshake(port: number, version: tls.SecureVersion): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: caPem, servername: 'localhost', minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' });
    s.on('secureConnect', () => {
      const v = s.getProtocol() ?? '?';
      s.destroy();
      resolve(`ok ${v}`);
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
  });
}

describe('TLS', () => {
  test('control: this client can speak TLS 1.1 to a server that allows it (so the refusal below is the server\'s)', async () => {
    const srv = tls.createServer({ cert: execFileSync('cat', [path.join(dir, 'cert.pem')]), key: execFileSync('cat', [path.join(dir, 'key.pem')]), minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (c) => c.end());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      expect(await handshake((srv.address() as AddressInfo).port, 'TLSv1.1')).toBe('ok TLSv1.1');
    } finally {
      srv.close();
    }
  });
  test('serves HTTPS with the configured cert; TLS 1.2 and 1.3 accepted, TLS 1.1 refused by the server', async () => {
    const cfg = loadWebConfig(cfgFile('tls.yml', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n'));
    expect(cfg.tls?.minVersion).toBe('TLSv1.2');
    const s = await serve(cfg);
    try {
      const r = await httpsGet(s.port);
      expect(r.status).toBe(200);
      expect(r.body).toBe('ok ');
      expect(await handshake(s.port, 'TLSv1.2')).toBe('ok TLSv1.2');
      expect(await handshake(s.port, 'TLSv1.3')).toBe('ok TLSv1.3');
      // The client offers only TLS 1.1 (allowed on its side by SECLEVEL=0): the server must refuse.
      expect(await handshake(s.port, 'TLSv1.1')).toMatch(/^error .*(PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|unsupported protocol|VERSION)/i);
    } finally {
      await s.close();
    }
  });
  test('min_version TLS13 refuses TLS 1.2', async () => {
    const cfg = parseWebConfig('tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  min_version: TLS13\n', dir);
    const s = await serve(cfg);
    try {
      expect(await handshake(s.port, 'TLSv1.3')).toBe('ok TLSv1.3');
      expect(await handshake(s.port, 'TLSv1.2')).toMatch(/^error/);
    } finally {
      await s.close();
    }
  });
  test('RequireAndVerifyClientCert: a client without a cert is refused', async () => {
    const cfg = parseWebConfig('tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: cert.pem\n', dir);
    const s = await serve(cfg);
    try {
      await expect(httpsGet(s.port)).rejects.toThrow();
      const ok = await httpsGet(s.port, { cert: execFileSync('cat', [path.join(dir, 'cert.pem')]), key: execFileSync('cat', [path.join(dir, 'key.pem')]) });
      expect(ok.status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('basic auth', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    const cfg = parseWebConfig(
      `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  alice: ${HASH}\nhttp_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n    Strict-Transport-Security: max-age=31536000\n`,
      dir,
    );
    s = await serve(cfg);
  });
  afterAll(() => s.close());
  const auth = (u: string, p: string) => ({ headers: { Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` } });

  test('right password: 200, user known to handlers, configured headers set', async () => {
    const r = await httpsGet(s.port, auth('alice', 's3cret-pass'));
    expect(r.status).toBe(200);
    expect(r.body).toBe('ok alice');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
    // cached: the second request does not run bcrypt again and is fast
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) expect((await httpsGet(s.port, auth('alice', 's3cret-pass'))).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
  test('wrong password, unknown user, missing header: 401 with a Basic challenge and JSON body', async () => {
    for (const o of [auth('alice', 'nope'), auth('mallory', 's3cret-pass'), {}, { headers: { Authorization: 'Basic !!!' } }]) {
      const r = await httpsGet(s.port, o);
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Basic realm="optifiber"/);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'unauthorized' });
      expect(r.body).not.toMatch(/\$2[aby]\$|s3cret|at .+:\d+/);
    }
  });
});

describe('validation errors name the file and the key', () => {
  const bad: [string, string, RegExp][] = [
    ['TLS 1.1 minimum', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  min_version: TLS11\n', /tls_server_config\.min_version: TLS11 is not allowed: this exporter requires TLS 1\.2 or later/],
    ['TLS 1.0 minimum', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  min_version: TLS10\n', /TLS10 is not allowed/],
    ['unknown version', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  min_version: SSL3\n', /unknown TLS version "SSL3"/],
    ['missing key_file', 'tls_server_config:\n  cert_file: cert.pem\n', /tls_server_config\.key_file: required/],
    ['missing cert file', 'tls_server_config:\n  cert_file: nope.pem\n  key_file: key.pem\n', /tls_server_config\.cert_file: cannot read .*nope\.pem \(ENOENT\)/],
    ['cert/key mismatch', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: other-key.pem\n', /certificate\/key\/CA rejected by OpenSSL/],
    ['unknown top key', 'tls_config: {}\n', /tls_config: unknown key \(allowed: tls_server_config/],
    ['unknown tls key', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  certfile: x\n', /tls_server_config\.certfile: unknown key/],
    ['CA without verifying policy', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_auth_type: NoClientCert\n  client_ca_file: cert.pem\n', /client_ca_file: set, but client_auth_type NoClientCert/],
    ['verify without CA', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_auth_type: RequireAndVerifyClientCert\n', /client_ca_file: required with client_auth_type RequireAndVerifyClientCert/],
    ['bad client auth', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_auth_type: Maybe\n', /client_auth_type: unknown value "Maybe"/],
    ['bad cipher', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n', /unsupported cipher suite "TLS_RSA_WITH_RC4_128_SHA"/],
    ['plain-text password', 'basic_auth_users:\n  bob: hunter2\n', /basic_auth_users\.bob: expected a bcrypt hash/],
    ['user with colon', `basic_auth_users:\n  "a:b": ${HASH}\n`, /usernames must be non-empty without ":"/],
    ['header not allowed', 'http_server_config:\n  headers:\n    Set-Cookie: x\n', /headers\.Set-Cookie: header not allowed/],
    ['bad nosniff', 'http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n', /must be nosniff/],
    ['invalid YAML', 'tls_server_config: [\n', /invalid YAML/],
    ['duplicate key', 'basic_auth_users: {}\nbasic_auth_users: {}\n', /invalid YAML/],
  ];
  test.each(bad)('%s', (_n, yaml, msg) => {
    let err: unknown;
    try {
      loadWebConfig(cfgFile('bad.yml', yaml));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WebConfigError);
    expect((err as Error).message).toMatch(/^web config .*bad\.yml: /);
    expect((err as Error).message).toMatch(msg);
    expect((err as Error).message).not.toContain('hunter2');
  });
  test('missing file', () => {
    expect(() => loadWebConfig(path.join(dir, 'absent.yml'))).toThrow(/cannot read \(ENOENT\)/);
  });
  test('empty file = plain HTTP, no auth; warnings for clear-text basic auth and low cost', () => {
    const e = parseWebConfig('', dir);
    expect(e.tls).toBeUndefined();
    expect(e.basicAuthUsers.size).toBe(0);
    const w = parseWebConfig(`basic_auth_users:\n  alice: ${HASH}\n`, dir);
    expect(w.warnings.join('\n')).toMatch(/clear text/);
    expect(w.warnings.join('\n')).toMatch(/cost 4 is low/);
  });
  test('options map to Node TLS options', () => {
    const c = parseWebConfig(
      'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n  curve_preferences: [X25519, CurveP256]\n  prefer_server_cipher_suites: true\n  max_version: TLS12\n',
      dir,
    );
    expect(c.tls).toMatchObject({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', ecdhCurve: 'X25519:P-256', honorCipherOrder: true, maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2' });
  });
});
