// Bad-input tables (issue 12) for the two external interfaces of the
// remediation service: the Alertmanager webhook and the app's REST API.
// Every row is a test: a clear 4xx with an error message, nothing applied
// (no delivery queued, no action, policy and kill switch unchanged), the
// process still up; after each table a valid request still works (nothing lost).
import { join } from 'node:path';
import { startMcpSimulator, type McpSimulator } from '@optifiber/mcp-simulator';
import { createLogger } from '@optifiber/exporter/log/logger';
import { loadConfig } from '../src/config.js';
import { startRemediationService, type RemediationService } from '../src/service.js';
import type { SqliteStore } from '../src/store-sqlite.js';
import { alert, payload, secrets, startStubExporter, tmpDir, until, type StubExporter } from './helpers.js';

const dir = tmpDir('rem-bad-');
const s = secrets(dir);
let sim: McpSimulator;
let exp: StubExporter;
let svc: RemediationService;

beforeAll(async () => {
  exp = await startStubExporter(['paris-1', 'lyon-2']);
  sim = await startMcpSimulator({ port: 0, clientSecret: s.mcpSecret, exporterUrl: exp.url, exporterToken: exp.token, queuedMs: [5, 10], runningMs: [5, 10], responseDelayMs: [0, 1] });
  const { config } = loadConfig({ env: {}, overrides: {
    web: { listen_address: '127.0.0.1:0', max_request_bytes: 65536 },
    webhook: { bearer_token_file: s.webhookTokenFile, basic_auth_username: 'am', basic_auth_password_file: s.mcpSecretFile },
    api: { proxy_token_file: s.apiTokenFile }, storage: { path: join(dir, 'bad.db') },
    mcp: { url: sim.url, client_secret_file: s.mcpSecretFile, poll_interval: '20ms' }, exporter: { url: exp.url, verify_timeout: '2s' },
  } });
  svc = await startRemediationService(config, { logger: createLogger({ level: 'error' }) });
});
afterAll(async () => {
  await svc.stop();
  await sim.stop();
  await exp.stop();
});

/** What a refused request must leave untouched. */
async function state() {
  const db = (svc.store as SqliteStore).db;
  const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return { inbox: n('SELECT count(*) n FROM inbox'), actions: n('SELECT count(*) n FROM actions'), changes: n("SELECT count(*) n FROM audit WHERE kind IN ('policy','kill_switch','approval')"), policy: JSON.stringify(await svc.engine.policy()), ks: JSON.stringify(await svc.engine.killSwitch()) };
}

async function refused(r: Response, status: number) {
  const text = await r.text();
  expect([r.status, text.slice(0, 300)]).toEqual([status, expect.stringMatching(/\S/)]);
  if (r.headers.get('content-type')?.includes('json')) expect(JSON.parse(text).error).toEqual(expect.any(String));
  expect((await fetch(`${svc.url}/-/healthy`)).status).toBe(200);
}

const bearer = `Bearer ${s.webhookToken}`;
const good = () => payload([alert({ fingerprint: 'beef01' })]);
const withAlert = (patch: Record<string, unknown>) => ({ ...good(), alerts: [{ ...alert({ fingerprint: 'beef01' }), ...patch }] });
type Row = [string, { method?: string; path?: string; auth?: string | null; ct?: string | null; body?: string; headers?: Record<string, string> }, number];
const J = JSON.stringify;

const WEBHOOK: Row[] = [
  ['no Authorization', { auth: null }, 401],
  ['wrong bearer token', { auth: 'Bearer wrong-token-0123456789' }, 401],
  ['wrong basic-auth password', { auth: `Basic ${Buffer.from('am:nope').toString('base64')}` }, 401],
  ['unknown basic-auth user', { auth: `Basic ${Buffer.from('root:mcp-client-secret-0123456789').toString('base64')}` }, 401],
  ['basic auth without a colon', { auth: `Basic ${Buffer.from('am').toString('base64')}` }, 401],
  ['unsupported scheme (Digest)', { auth: 'Digest username="am"' }, 401],
  ['Content-Type text/plain', { ct: 'text/plain' }, 415],
  ['no Content-Type', { ct: null }, 415],
  ['unsupported charset', { ct: 'application/json; charset=x-no-such-charset' }, 415],
  ['body not JSON', { body: '{"version": "4",' }, 400],
  ['empty body', { body: '' }, 400],
  ['JSON null', { body: 'null' }, 400],
  ['JSON array', { body: '[]' }, 400],
  ['version 3', { body: J({ ...good(), version: '3' }) }, 400],
  ['no alerts', { body: J({ ...good(), alerts: undefined }) }, 400],
  ['alerts is an object', { body: J({ ...good(), alerts: {} }) }, 400],
  ['no receiver', { body: J({ ...good(), receiver: undefined }) }, 400],
  ['status "pending"', { body: J({ ...good(), status: 'pending' }) }, 400],
  ['negative truncatedAlerts', { body: J({ ...good(), truncatedAlerts: -1 }) }, 400],
  ['groupKey of 5000 characters', { body: J({ ...good(), groupKey: 'g'.repeat(5000) }) }, 400],
  ['alert without fingerprint', { body: J(withAlert({ fingerprint: undefined })) }, 400],
  ['fingerprint not hex', { body: J(withAlert({ fingerprint: 'zz; DROP TABLE actions' })) }, 400],
  ['fingerprint of 65 hex digits', { body: J(withAlert({ fingerprint: 'a'.repeat(65) })) }, 400],
  ['startsAt not a time', { body: J(withAlert({ startsAt: 'yesterday' })) }, 400],
  ['alert status "unknown"', { body: J(withAlert({ status: 'unknown' })) }, 400],
  ['label value not a string', { body: J(withAlert({ labels: { site: 1, remediation: 'auto' } })) }, 400],
  ['deeply nested JSON', { body: '['.repeat(20000) + ']'.repeat(20000) }, 400],
  ['body over max_request_bytes', { body: J({ ...good(), groupKey: 'x'.repeat(70000) }) }, 413],
  ['GET', { method: 'GET', body: undefined, ct: null }, 405],
  ['PUT', { method: 'PUT' }, 405],
  ['invalid percent-encoding in the path', { path: '/api/v1/alertmanager/webhook%FF' }, 400],
];

describe('bad-input table: Alertmanager webhook', () => {
  test.each(WEBHOOK.map(([n, o, st]) => [`${n} -> ${st}`, o, st] as Row))('webhook: %s', async (_name, o, status) => {
    const before = await state();
    const headers: Record<string, string> = { ...o.headers };
    if (o.auth !== null) headers.Authorization = o.auth ?? bearer;
    if (o.ct !== null) headers['Content-Type'] = o.ct ?? 'application/json';
    const method = o.method ?? 'POST';
    const r = await fetch(`${svc.url}${o.path ?? '/api/v1/alertmanager/webhook'}`, { method, headers, ...(method === 'GET' ? {} : { body: 'body' in o ? o.body : J(good()) }) });
    await refused(r, status);
    expect(await state()).toEqual(before);
  });
  test('webhook: after the table a valid delivery is accepted and acted on (nothing lost)', async () => {
    const r = await fetch(`${svc.url}/api/v1/alertmanager/webhook`, { method: 'POST', headers: { Authorization: bearer, 'Content-Type': 'application/json' }, body: J(good()) });
    expect(r.status).toBe(202);
    await until(async () => (await svc.store.action(1))?.result === 'succeeded', 10000, 'action succeeded');
  });
});

type Req = Row[1];
/** A row of the API table; headers override API_HEADERS ('' removes one). */
const get = (path: string, headers?: Record<string, string>): Req => ({ path, method: 'GET', ...(headers ? { headers } : {}) });
const post = (path: string, body: string, headers?: Record<string, string>): Req => ({ path, body, ...(headers ? { headers } : {}) });
const put = (path: string, body: string, headers?: Record<string, string>): Req => ({ path, method: 'PUT', body, ...(headers ? { headers } : {}) });
const API_HEADERS = { Authorization: `Bearer ${s.apiToken}`, 'X-OptiFiber-Role': 'Admin', 'X-Grafana-User': 'alice', 'Content-Type': 'application/json' };
/** GETs refused with 400: one bad path or query parameter each. */
const BAD_QUERIES: [string, string][] = [
  ['unknown query parameter', '/api/v1/actions?sort=id'],
  ['limit=0', '/api/v1/actions?limit=0'],
  ['limit not a number', '/api/v1/actions?limit=ten'],
  ['limit above 1000', '/api/v1/audit?limit=100000'],
  ['since not a time', '/api/v1/actions?since=yesterday'],
  ['site not a site name', '/api/v1/actions?site=..%2Fetc'],
  ['result not a result', '/api/v1/actions?result=won'],
  ['repeated parameter', '/api/v1/actions?state=done&state=unknown'],
  ['before_id negative', '/api/v1/audit?before_id=-1'],
  ['action id not a number', '/api/v1/actions/abc'],
  ['action id 0', '/api/v1/actions/0'],
  ['action id %FF', '/api/v1/actions/%FF'],
];
const API: Row[] = [
  ['no bearer token', get('/api/v1/overview', { Authorization: '' }), 401],
  ['wrong bearer token', get('/api/v1/overview', { Authorization: 'Bearer wrong-token-0123456789abc' }), 401],
  ['no role header', get('/api/v1/overview', { 'X-OptiFiber-Role': '' }), 403],
  ['role Root', get('/api/v1/overview', { 'X-OptiFiber-Role': 'Root' }), 403],
  ['role in lower case', get('/api/v1/overview', { 'X-OptiFiber-Role': 'admin' }), 403],
  ...BAD_QUERIES.map(([name, path]): Row => [name, get(path), 400]),
  ['approve a missing action', post('/api/v1/actions/99999/approve', '{}'), 404],
  ['approve as Viewer', post('/api/v1/actions/1/approve', '{}', { 'X-OptiFiber-Role': 'Viewer' }), 403],
  ['approve without a user', post('/api/v1/actions/1/approve', '{}', { 'X-Grafana-User': '' }), 403],
  ['approve body not JSON', post('/api/v1/actions/1/approve', '{comment'), 400],
  ['approve with an unknown key', post('/api/v1/actions/1/approve', '{"force": true}'), 400],
  ['approve comment too long', post('/api/v1/actions/1/approve', J({ comment: 'c'.repeat(1001) })), 400],
  ['policy body not JSON', put('/api/v1/policies', '{"dry_run": tru'), 400],
  ['policy body an array', put('/api/v1/policies', '[]'), 400],
  ['policy unknown key', put('/api/v1/policies', '{"max_modules": 3}'), 400],
  ['policy cooldown negative', put('/api/v1/policies', '{"cooldown_seconds": -1}'), 400],
  ['policy max_cmd_modules 1000', put('/api/v1/policies', '{"max_cmd_modules": 1000}'), 400],
  ['policy dry_run "false" (a string)', put('/api/v1/policies', '{"dry_run": "false"}'), 400],
  ['policy site name with a slash', put('/api/v1/policies', '{"sites": {"a/b": {}}}'), 400],
  ['policy body over 64 KiB', put('/api/v1/policies', J({ sites: {}, pad: 'x'.repeat(70000) })), 413],
  ['kill switch enabled "yes"', put('/api/v1/kill-switch', '{"enabled": "yes"}'), 400],
  ['kill switch unknown key', put('/api/v1/kill-switch', '{"enabled": true, "until": "never"}'), 400],
  ['kill switch reason too long', put('/api/v1/kill-switch', J({ enabled: true, reason: 'r'.repeat(1001) })), 400],
  ['kill switch as Editor', put('/api/v1/kill-switch', '{"enabled": true}', { 'X-OptiFiber-Role': 'Editor' }), 403],
  ['unknown route', post('/api/v1/actions/1/force', '{}'), 404],
];

describe('bad-input table: app REST API', () => {
  test.each(API.map(([n, o, st]) => [`${n} -> ${st}`, o, st] as Row))('api: %s', async (_name, o, status) => {
    const before = await state();
    const method = o.method ?? 'POST';
    const headers = Object.fromEntries(Object.entries({ ...API_HEADERS, ...o.headers }).filter(([, v]) => v !== ''));
    const r = await fetch(`${svc.url}${o.path}`, { method, headers, ...(method === 'GET' ? {} : { body: o.body ?? '' }) });
    await refused(r, status);
    expect(await state()).toEqual(before);
  });
  test('api: after the table a valid policy change is applied (nothing lost)', async () => {
    const r = await fetch(`${svc.url}/api/v1/policies`, { method: 'PUT', headers: API_HEADERS, body: '{"cooldown_seconds": 1200}' });
    expect(r.status).toBe(200);
    expect((await svc.engine.policy()).cooldown_seconds).toBe(1200);
  });
});
