// Issue 12: the bad-input tables of the exporter's external interfaces
// (docs/security.md lists the same rows). Every row is a test:
//   API and control: a clear 4xx JSON error (no stack trace), nothing
//     written to cmd_control, no site changed, the process still serving,
//     and afterwards a valid command still applies (nothing lost).
//   Config files (web config, exporter config): an error naming the file
//     and the key; for the web config also as a live reload: refused, the
//     last good version (and its credentials) still in force.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadWebConfig, parseWebConfig, WebConfigError } from '../src/http/web-config.js';
import { ConfigError, loadConfig } from '../src/config/load.js';
import { loadControlToken } from '../src/control/auth.js';
import { CONTROL_TOKEN, HASH, PASSWORD, READ_TOKEN, basic, call, startSecure, type SecFixture, makeCert } from './security-fixture.js';

const CTL = { Authorization: `Bearer ${CONTROL_TOKEN}`, 'Content-Type': 'application/json' };
const RD = { Authorization: basic('prometheus', PASSWORD) };
const cmd = '/api/v1/sites/paris-1/commands';
const hist = '/api/v1/sites/paris-1/history';

interface ApiRow {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  message: RegExp;
}

// prettier-ignore
export const API_ROWS: ApiRow[] = [
  { name: 'invalid percent-encoding in a site (%FF%FE)', path: '/api/v1/sites/%FF%FE/history', headers: RD, status: 400, message: /percent-encoding/ },
  { name: 'lone % in the path, unauthenticated', path: '/api/v1/sites/%/history', status: 400, message: /percent-encoding/ },
  { name: 'lone % on the control route, unauthenticated', method: 'POST', path: '/api/v1/sites/%/commands', status: 400, message: /percent-encoding/ },
  { name: 'site name with a space', path: '/api/v1/sites/bad%20name/history', headers: RD, status: 400, message: /not a site name/ },
  { name: 'unknown site (history)', path: '/api/v1/sites/nosuch/history', headers: RD, status: 404, message: /unknown site/ },
  { name: 'history from= not a time', path: `${hist}?from=yesterday`, headers: RD, status: 400, message: /from/ },
  { name: 'history from after to', path: `${hist}?from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z`, headers: RD, status: 400, message: /after to/ },
  { name: 'history step not a duration', path: `${hist}?step=fast`, headers: RD, status: 400, message: /step/ },
  { name: 'history with too many points', path: `${hist}?from=2020-01-01T00:00:00Z&step=1s`, headers: RD, status: 400, message: /points/ },
  { name: 'history unknown parameter', path: `${hist}?limit=5`, headers: RD, status: 400, message: /unknown query parameter/ },
  { name: 'snapshot sites= with a bad name', path: '/api/v1/snapshot?sites=a!b', headers: RD, status: 400, message: /not a site name/ },
  { name: 'snapshot unknown site', path: '/api/v1/snapshot?sites=nosuch', headers: RD, status: 404, message: /unknown site/ },
  { name: 'snapshot sites= given twice', path: '/api/v1/snapshot?sites=paris-1&sites=lyon-2', headers: RD, status: 400, message: /once/ },
  { name: 'poll after=-1', path: '/api/v1/poll?after=-1', headers: RD, status: 400, message: /after/ },
  { name: 'poll timeout above the maximum', path: '/api/v1/poll?timeout=9999', headers: RD, status: 400, message: /timeout/ },
  { name: 'poll timeout not a number', path: '/api/v1/poll?timeout=soon', headers: RD, status: 400, message: /timeout/ },
  { name: 'unknown API endpoint', path: '/api/v1/nope', headers: RD, status: 404, message: /no such API endpoint/ },
  { name: 'read without credentials', path: '/api/v1/sites', status: 401, message: /authentication required/ },
  { name: 'read with a wrong password', path: '/api/v1/sites', headers: { Authorization: basic('prometheus', 'nope') }, status: 401, message: /invalid username or password/ },
  { name: 'read with a malformed Basic header', path: '/api/v1/sites', headers: { Authorization: 'Basic !!!' }, status: 401, message: /invalid username or password/ },
  { name: 'read with an unknown scheme', path: '/api/v1/sites', headers: { Authorization: 'Digest x' }, status: 401, message: /authentication required/ },
  { name: 'control without credentials', method: 'POST', path: cmd, headers: { 'Content-Type': 'application/json' }, body: '{"cmd_add":1}', status: 401, message: /authentication required/ },
  { name: 'control with a wrong bearer token', method: 'POST', path: cmd, headers: { ...CTL, Authorization: 'Bearer wrong-token-0123456789' }, body: '{"cmd_add":1}', status: 401, message: /invalid bearer token/ },
  { name: 'control with a read-only basic user', method: 'POST', path: cmd, headers: { ...RD, 'Content-Type': 'application/json' }, body: '{"cmd_add":1}', status: 403, message: /lacks the control scope/ },
  { name: 'control with a read-only bearer token', method: 'POST', path: cmd, headers: { ...CTL, Authorization: `Bearer ${READ_TOKEN}` }, body: '{"cmd_add":1}', status: 403, message: /lacks the control scope/ },
  { name: 'control Content-Type text/plain', method: 'POST', path: cmd, headers: { ...CTL, 'Content-Type': 'text/plain' }, body: 'cmd_add=1', status: 415, message: /application\/json/ },
  { name: 'control body not JSON', method: 'POST', path: cmd, headers: CTL, body: '{"cmd_add":', status: 400, message: /not valid JSON/ },
  { name: 'control body over 1 KiB', method: 'POST', path: cmd, headers: CTL, body: JSON.stringify({ cmd_add: 1, pad: 'x'.repeat(1100) }), status: 413, message: /1 KiB/ },
  { name: 'control empty object', method: 'POST', path: cmd, headers: CTL, body: '{}', status: 400, message: /no action/ },
  { name: 'control JSON array', method: 'POST', path: cmd, headers: CTL, body: '[1]', status: 400, message: /JSON object/ },
  { name: 'control JSON null', method: 'POST', path: cmd, headers: CTL, body: 'null', status: 400, message: /JSON object/ },
  { name: 'control two actions', method: 'POST', path: cmd, headers: CTL, body: '{"cmd_add":1,"cmd_remove":1}', status: 400, message: /exactly one action/ },
  { name: 'control cmd_add 0', method: 'POST', path: cmd, headers: CTL, body: '{"cmd_add":0}', status: 400, message: /out of range/ },
  { name: 'control cmd_add 65', method: 'POST', path: cmd, headers: CTL, body: '{"cmd_add":65}', status: 400, message: /out of range/ },
  { name: 'control cmd_add as a string', method: 'POST', path: cmd, headers: CTL, body: '{"cmd_add":"1"}', status: 400, message: /expected an integer/ },
  { name: 'control cmd_add 1.5', method: 'POST', path: cmd, headers: CTL, body: '{"cmd_add":1.5}', status: 400, message: /expected an integer/ },
  { name: 'control unknown fault kind', method: 'POST', path: cmd, headers: CTL, body: '{"fault":"meteor"}', status: 400, message: /unknown kind/ },
  { name: 'control duration without fault', method: 'POST', path: cmd, headers: CTL, body: '{"cmd_add":1,"duration":5}', status: 400, message: /duration is only valid with fault/ },
  { name: 'control fault clear with duration', method: 'POST', path: cmd, headers: CTL, body: '{"fault":"clear","duration":5}', status: 400, message: /not valid with fault "clear"/ },
  { name: 'control unknown key', method: 'POST', path: cmd, headers: CTL, body: '{"cmd_add":1,"force":true}', status: 400, message: /unknown key "force"/ },
  { name: 'control unknown site', method: 'POST', path: '/api/v1/sites/nosuch/commands', headers: CTL, body: '{"cmd_add":1}', status: 404, message: /unknown site/ },
  { name: 'control bad site name', method: 'POST', path: '/api/v1/sites/a!b/commands', headers: CTL, body: '{"cmd_add":1}', status: 400, message: /not a site name/ },
  { name: 'control Idempotency-Key with a space', method: 'POST', path: cmd, headers: { ...CTL, 'Idempotency-Key': 'a b' }, body: '{"cmd_add":1}', status: 400, message: /Idempotency-Key/ },
  { name: 'control Idempotency-Key too long', method: 'POST', path: cmd, headers: { ...CTL, 'Idempotency-Key': 'k'.repeat(129) }, body: '{"cmd_add":1}', status: 400, message: /Idempotency-Key/ },
  { name: 'control cmd_add beyond cmd_modules_max (the simulator says ERANGE)', method: 'POST', path: cmd, headers: CTL, body: '{"cmd_add":64}', status: 409, message: /ERANGE/ },
  { name: 'GET on the control route', path: cmd, headers: CTL, status: 405, message: /use POST/ },
];

describe('bad input: exporter API and control (basic auth and a control token on)', () => {
  let f: SecFixture;
  beforeAll(async () => {
    const dir = (await import('./security-fixture.js')).tmpDir();
    writeFileSync(path.join(dir, 'read.token'), READ_TOKEN, { mode: 0o600 });
    f = await startSecure({
      dir,
      webConfig: `basic_auth_users:\n  prometheus: ${HASH}\nbearer_tokens:\n  grafana:\n    token_file: read.token\n    scopes: [read]\n`,
      rateLimit: { burst: 1000, perSecond: 1000 }, // the rate limit has its own tests
    });
  });
  afterAll(() => f.close());

  test('the table has at least 25 rows', () => expect(API_ROWS.length).toBeGreaterThanOrEqual(25));

  test.each(API_ROWS)('$name -> $status', async (row) => {
    const before = f.writer.sites.map((s) => `${s.cmdModules}/${s.fault}`).join(',');
    const lines = f.sim.lines.filter((l) => !/cmd_add=64/.test(l)).length;
    const r = await call(`${f.base}/`, { rawPath: row.path, method: row.method ?? 'GET', headers: row.headers ?? {}, ...(row.body !== undefined ? { body: row.body } : {}) });
    expect({ status: r.status, message: r.body?.message }).toEqual({ status: row.status, message: expect.stringMatching(row.message) });
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(r.text).not.toMatch(/\bat .+:\d+:\d+|node_modules|URIError|TypeError/);
    // Nothing applied: no site changed, no new line written (the ERANGE row's line was refused by the simulator).
    expect(f.writer.sites.map((s) => `${s.cmdModules}/${s.fault}`).join(',')).toBe(before);
    expect(f.sim.lines.filter((l) => !/cmd_add=64/.test(l)).length).toBe(lines);
    // Still up.
    expect((await call(`${f.base}/-/healthy`, { headers: RD })).status).toBe(200);
  });

  test('after the whole table: nothing lost, a valid command still applies and no stack trace was logged', async () => {
    const r = await call(`${f.base}${cmd}`, { method: 'POST', headers: CTL, body: '{"cmd_add":1}' });
    expect(r.status).toBe(200);
    expect(JSON.stringify(f.logs)).not.toMatch(/"stack"/);
  });
});

interface ConfigRow {
  name: string;
  /** web: a web config YAML ({dir} = a directory holding cert.pem, key.pem, short.token, read.token); exporter: flags, env, file. */
  web?: string;
  argv?: string[];
  env?: Record<string, string>;
  file?: string;
  error: RegExp;
}

const Y = (s: string) => s;
// prettier-ignore
export const CONFIG_ROWS: ConfigRow[] = [
  { name: 'web: invalid YAML', web: Y('tls_server_config: [\n'), error: /invalid YAML/ },
  { name: 'web: top level is a list', web: Y('- a\n'), error: /\(top level\): expected a mapping/ },
  { name: 'web: unknown top-level key', web: Y('tls_config: {}\n'), error: /tls_config: unknown key/ },
  { name: 'web: duplicate key', web: Y(`basic_auth_users: {}\nbasic_auth_users: {}\n`), error: /invalid YAML/ },
  { name: 'web: tls_server_config not a mapping', web: Y('tls_server_config: yes\n'), error: /tls_server_config: expected a mapping/ },
  { name: 'web: cert_file missing', web: Y('tls_server_config:\n  cert_file: nope.pem\n  key_file: {dir}/cert-key.pem\n'), error: /cert_file: cannot read/ },
  { name: 'web: key_file absent', web: Y('tls_server_config:\n  cert_file: {dir}/cert.pem\n'), error: /key_file: required/ },
  { name: 'web: cert_file and inline cert both', web: Y('tls_server_config:\n  cert_file: {dir}/cert.pem\n  key_file: {dir}/cert-key.pem\n  cert: x\n'), error: /not both/ },
  { name: 'web: key does not match the certificate', web: Y('tls_server_config:\n  cert_file: {dir}/cert.pem\n  key_file: {dir}/other-key.pem\n'), error: /rejected by OpenSSL/ },
  { name: 'web: min_version TLS11', web: Y('tls_server_config:\n  cert_file: {dir}/cert.pem\n  key_file: {dir}/cert-key.pem\n  min_version: TLS11\n'), error: /TLS 1.2 or later/ },
  { name: 'web: min_version unknown', web: Y('tls_server_config:\n  cert_file: {dir}/cert.pem\n  key_file: {dir}/cert-key.pem\n  min_version: SSL3\n'), error: /unknown TLS version/ },
  { name: 'web: min_version above max_version', web: Y('tls_server_config:\n  cert_file: {dir}/cert.pem\n  key_file: {dir}/cert-key.pem\n  min_version: TLS13\n  max_version: TLS12\n'), error: /above max_version/ },
  { name: 'web: unknown cipher suite', web: Y('tls_server_config:\n  cert_file: {dir}/cert.pem\n  key_file: {dir}/cert-key.pem\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n'), error: /unsupported cipher suite/ },
  { name: 'web: unknown curve', web: Y('tls_server_config:\n  cert_file: {dir}/cert.pem\n  key_file: {dir}/cert-key.pem\n  curve_preferences: [Curve25519x]\n'), error: /unknown curve/ },
  { name: 'web: unknown client_auth_type', web: Y('tls_server_config:\n  cert_file: {dir}/cert.pem\n  key_file: {dir}/cert-key.pem\n  client_auth_type: Maybe\n'), error: /client_auth_type: unknown value/ },
  { name: 'web: verifying client certs without a CA', web: Y('tls_server_config:\n  cert_file: {dir}/cert.pem\n  key_file: {dir}/cert-key.pem\n  client_auth_type: RequireAndVerifyClientCert\n'), error: /client_ca_file: required/ },
  { name: 'web: http2 not a boolean', web: Y('http_server_config:\n  http2: maybe\n'), error: /http2: expected true or false/ },
  { name: 'web: header not allowed', web: Y('http_server_config:\n  headers:\n    Set-Cookie: a\n'), error: /header not allowed/ },
  { name: 'web: X-Frame-Options bad value', web: Y('http_server_config:\n  headers:\n    X-Frame-Options: allow\n'), error: /deny or sameorigin/ },
  { name: 'web: basic_auth_users not a mapping', web: Y('basic_auth_users: [a]\n'), error: /expected a mapping of username/ },
  { name: 'web: password instead of a bcrypt hash', web: Y('basic_auth_users:\n  u: hunter2\n'), error: /expected a bcrypt hash/ },
  { name: 'web: bcrypt cost above the cap', web: Y(`basic_auth_users:\n  u: '$2b$14$${'a'.repeat(53)}'\n`), error: /bcrypt cost 14 outside 4..12/ },
  { name: 'web: user name with a colon', web: Y(`basic_auth_users:\n  'a:b': '${HASH}'\n`), error: /without ":"/ },
  { name: 'web: scopes for an unknown user', web: Y('basic_auth_scopes:\n  ghost: [read]\n'), error: /not a user of basic_auth_users/ },
  { name: 'web: unknown scope', web: Y(`basic_auth_users:\n  u: '${HASH}'\nbasic_auth_scopes:\n  u: [admin]\n`), error: /unknown scope "admin"/ },
  { name: 'web: empty scope list', web: Y(`basic_auth_users:\n  u: '${HASH}'\nbasic_auth_scopes:\n  u: []\n`), error: /non-empty list of scopes/ },
  { name: 'web: bearer token without token_file', web: Y('bearer_tokens:\n  mcp:\n    scopes: [control]\n'), error: /token_file: expected a file path/ },
  { name: 'web: bearer token file too short', web: Y('bearer_tokens:\n  mcp:\n    token_file: {dir}/short.token\n    scopes: [control]\n'), error: /shorter than 16/ },
  { name: 'web: bearer token name is a basic user', web: Y(`basic_auth_users:\n  mcp: '${HASH}'\nbearer_tokens:\n  mcp:\n    token_file: {dir}/read.token\n    scopes: [read]\n`), error: /identities must be unique/ },
  { name: 'web: the same token under two names', web: Y('bearer_tokens:\n  a:\n    token_file: {dir}/read.token\n    scopes: [read]\n  b:\n    token_file: {dir}/read.token\n    scopes: [read]\n'), error: /same token is given to another name/ },
  { name: 'web: bearer token unknown key', web: Y('bearer_tokens:\n  a:\n    token: abc\n    scopes: [read]\n'), error: /bearer_tokens.a.token: unknown key/ },
  { name: 'exporter: unknown flag, with a suggestion', argv: ['--web.listen-addr=:1'], error: /--web.listen-addr: unknown flag \(did you mean --web.listen-address\?\)/ },
  { name: 'exporter: listen address without a port', argv: ['--web.listen-address=localhost'], error: /--web.listen-address/ },
  { name: 'exporter: interval below 100ms', argv: ['--sampler.interval=5ms'], error: /--sampler.interval/ },
  { name: 'exporter: interval not a duration', argv: ['--sampler.interval=often'], error: /--sampler.interval/ },
  { name: 'exporter: unknown source kind', argv: ['--source.kind=disk'], error: /--source.kind: must be one of/ },
  { name: 'exporter: kind file without a path', argv: ['--source.kind=file'], error: /source.path is not set/ },
  { name: 'exporter: max-connections 0', argv: ['--web.max-connections=0'], error: /--web.max-connections/ },
  { name: 'exporter: max-request-bytes below 1 KiB', argv: ['--web.max-request-bytes=10'], error: /--web.max-request-bytes/ },
  { name: 'exporter: a flag given twice', argv: ['--log.level=info', '--log.level=debug'], error: /given more than once/ },
  { name: 'exporter: the web config flag in both spellings', argv: ['--web.config.file=/a', '--web.config-file=/b'], error: /given more than once/ },
  { name: 'exporter: flag without a value', argv: ['--log.level'], error: /missing value/ },
  { name: 'exporter: unknown log level', argv: ['--log.level=verbose'], error: /--log.level: must be one of/ },
  { name: 'exporter: negative fault rate', argv: ['--simulator.fault-rate=-1'], error: /--simulator.fault-rate/ },
  { name: 'exporter: rx low threshold above high', argv: ['--thresholds.rx-power-low-dbm=5', '--thresholds.rx-power-high-dbm=3'], error: /must be below/ },
  { name: 'exporter: history shorter than the interval', argv: ['--sampler.history=500ms', '--sampler.interval=1s'], error: /sampler.history/ },
  { name: 'exporter: bad value in the environment', env: { OPTIFIBER_SAMPLER_INTERVAL: 'x' }, error: /OPTIFIBER_SAMPLER_INTERVAL/ },
  { name: 'exporter: config file missing', argv: ['--config.file=/nonexistent/optifiber.yml'], error: /cannot read/ },
  { name: 'exporter: config file invalid YAML', file: 'web: [\n', error: /YAML/ },
  { name: 'exporter: config file top level is a list', file: '- a\n', error: /top level must be a mapping/ },
  { name: 'exporter: config file unknown section', file: 'webb:\n  listen_address: ":1"\n', error: /webb: unknown key/ },
  { name: 'exporter: config file unknown key', file: 'web:\n  listen: ":1"\n', error: /web.listen: unknown key/ },
  { name: 'exporter: config file duplicate key', file: 'log:\n  level: info\n  level: debug\n', error: /YAML/ },
  { name: 'exporter: config file wrong type', file: 'sampler:\n  history_max_bytes: lots\n', error: /sampler.history_max_bytes/ },
];

describe('bad input: config files (web config, exporter config)', () => {
  let dir: string;
  let live: SecFixture;
  beforeAll(async () => {
    const { tmpDir } = await import('./security-fixture.js');
    dir = tmpDir();
    makeCert(dir, 'cert');
    makeCert(dir, 'other');
    writeFileSync(path.join(dir, 'short.token'), 'short', { mode: 0o600 });
    writeFileSync(path.join(dir, 'read.token'), READ_TOKEN, { mode: 0o600 });
    // A running exporter whose web config each bad row replaces: the reload must be refused.
    live = await startSecure({ webConfig: `basic_auth_users:\n  prometheus: ${HASH}\n` });
  });
  afterAll(() => live.close());

  test('the table has at least 25 rows of each kind', () => {
    expect(CONFIG_ROWS.filter((r) => r.web !== undefined).length).toBeGreaterThanOrEqual(25);
    expect(CONFIG_ROWS.filter((r) => r.web === undefined).length).toBeGreaterThanOrEqual(20);
  });

  test.each(CONFIG_ROWS)('$name', (row) => {
    if (row.web !== undefined) {
      const text = row.web.replaceAll('{dir}', dir);
      const file = path.join(dir, 'web.yml');
      writeFileSync(file, text);
      expect(() => loadWebConfig(file)).toThrow(WebConfigError);
      expect(() => loadWebConfig(file)).toThrow(row.error);
      expect(() => loadWebConfig(file)).toThrow(/web config \S*web\.yml: /);
      // As a live reload: refused, the old credentials still work.
      writeFileSync(live.webConfigFile!, text);
      expect(live.server.webConfigWatcher!.check(true)).toBe(false);
      expect(live.server.webConfigWatcher!.lastReloadSuccessful).toBe(false);
      expect(live.server.webConfigWatcher!.config.basicAuthUsers.has('prometheus')).toBe(true);
      return;
    }
    const argv = [...(row.argv ?? [])];
    if (row.file !== undefined) {
      const f = path.join(dir, 'optifiber.yml');
      writeFileSync(f, row.file);
      argv.push(`--config.file=${f}`);
    }
    let err: unknown;
    try {
      loadConfig({ argv, env: row.env ?? {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(row.error);
  });

  test('after the table: the running exporter still serves with its last good web config', async () => {
    expect((await call(`${live.base}/metrics`, { headers: { Authorization: basic('prometheus', PASSWORD) } })).status).toBe(200);
    writeFileSync(live.webConfigFile!, `basic_auth_users:\n  prometheus: ${HASH}\n`);
    expect(live.server.webConfigWatcher!.check(true)).toBe(true);
    expect(live.server.webConfigWatcher!.lastReloadSuccessful).toBe(true);
  });

  test('switching TLS on by a reload is refused (it needs a new listener)', () => {
    writeFileSync(live.webConfigFile!, `tls_server_config:\n  cert_file: ${dir}/cert.pem\n  key_file: ${dir}/cert-key.pem\n`);
    expect(live.server.webConfigWatcher!.check(true)).toBe(false);
    expect(live.server.webConfigWatcher!.lastReloadError).toMatch(/needs a restart/);
    writeFileSync(live.webConfigFile!, `basic_auth_users:\n  prometheus: ${HASH}\n`);
    expect(live.server.webConfigWatcher!.check(true)).toBe(true);
  });

  test('control token file: missing, short, with spaces', () => {
    expect(() => loadControlToken(path.join(dir, 'none'))).toThrow(/ENOENT/);
    expect(() => loadControlToken(path.join(dir, 'short.token'))).toThrow(/shorter than 16/);
    writeFileSync(path.join(dir, 'space.token'), 'a token with spaces inside', { mode: 0o600 });
    expect(() => loadControlToken(path.join(dir, 'space.token'))).toThrow(/printable ASCII/);
    void parseWebConfig;
  });
});
