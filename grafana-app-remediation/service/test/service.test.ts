// The service in-process against the real MCP simulator and a stub exporter:
// webhook auth/validation/size, every policy rule, roles, MCP faults.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startMcpSimulator, type McpSimulator } from '@optifiber/mcp-simulator';
import { createLogger } from '@optifiber/exporter/log/logger';
import { loadConfig, ConfigError } from '../src/config.js';
import { startRemediationService, type RemediationService } from '../src/service.js';
import { alert, payload, secrets, startStubExporter, tmpDir, until, type StubExporter } from './helpers.js';

const dir = tmpDir('rem-svc-');
const s = secrets(dir);
let sim: McpSimulator;
let exp: StubExporter;
let svc: RemediationService;
let n = 0;

async function boot(policy: Record<string, unknown> = {}) {
  if (svc) await svc.stop();
  const { config } = loadConfig({ env: {}, overrides: {
    web: { listen_address: '127.0.0.1:0', max_request_bytes: 65536 },
    webhook: { bearer_token_file: s.webhookTokenFile, basic_auth_username: 'am', basic_auth_password_file: s.mcpSecretFile },
    api: { proxy_token_file: s.apiTokenFile }, storage: { path: join(dir, `svc-${++n}.db`) },
    mcp: { url: sim.url, client_secret_file: s.mcpSecretFile, poll_interval: '20ms', backoff_base: '5ms', backoff_max: '50ms', request_timeout: '300ms' },
    exporter: { url: exp.url, verify_timeout: '3s' }, policy,
  } });
  svc = await startRemediationService(config, { logger: createLogger({ level: 'error' }) });
  sim.reset();
  exp.cmdAdds.length = 0;
  for (const x of exp.sites.values()) x.cmdModules = 4;
}
const hook = (body: unknown, auth = `Bearer ${s.webhookToken}`, ct = 'application/json') =>
  fetch(`${svc.url}/api/v1/alertmanager/webhook`, { method: 'POST', headers: { 'Content-Type': ct, Authorization: auth }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const api = (path: string, role = 'Viewer', init: RequestInit = {}) =>
  fetch(`${svc.url}/api/v1${path}`, { ...init, headers: { Authorization: `Bearer ${s.apiToken}`, 'X-OptiFiber-Role': role, 'X-Grafana-User': `${role.toLowerCase()}-user`, 'Content-Type': 'application/json', ...(init.headers as object) } });
const json = async (path: string, role = 'Viewer') => (await api(path, role)).json() as Promise<any>;
const settle = async () => {
  await until(async () => (await json('/overview')).health.queueDepth === 0 && (await json('/overview')).health.actionsInFlight === 0, 10000, 'queue drained');
};

beforeAll(async () => {
  exp = await startStubExporter(['paris-1', 'lyon-2', 'full-3']);
  sim = await startMcpSimulator({ port: 0, clientSecret: s.mcpSecret, exporterUrl: exp.url, exporterToken: exp.token, queuedMs: [5, 10], runningMs: [5, 10], responseDelayMs: [0, 1], hangMs: 2000 });
});
afterAll(async () => {
  await svc?.stop();
  await sim.stop();
  await exp.stop();
});

describe('configuration', () => {
  test('precise errors', () => {
    expect(() => loadConfig({ argv: ['--mcp.urll=x', '--policy.cooldown=soon'], env: {} })).toThrow(ConfigError);
    try {
      loadConfig({ argv: ['--mcp.urll=x', '--policy.cooldown=soon', '--web.listen-address=nope'], env: {} });
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toContain('--mcp.urll: unknown flag (did you mean --mcp.url?)');
      expect(m).toContain('--policy.cooldown: expected a duration');
      expect(m).toContain('--web.listen-address: expected host:port');
    }
    expect(() => loadConfig({ env: {} })).toThrow(/webhook: no authentication configured/);
  });
});

describe('webhook', () => {
  beforeAll(() => boot());
  test('auth: bearer, basic, missing, wrong', async () => {
    expect((await hook(payload([alert({ remediation: null })]), '')).status).toBe(401);
    expect((await hook(payload([alert({ remediation: null })]), 'Bearer wrong-token-wrong-token')).status).toBe(401);
    expect((await hook(payload([alert({ remediation: null })]), `Basic ${Buffer.from(`am:${s.mcpSecret}`).toString('base64')}`)).status).toBe(202);
    expect((await hook(payload([alert({ remediation: null })]))).status).toBe(202);
  });
  test('schema, content type, size', async () => {
    const bad = await hook({ ...payload([alert()]), version: '3' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error).toContain('/version');
    const noFp = payload([alert()]);
    delete (noFp.alerts[0] as any).fingerprint;
    expect((await hook(noFp)).status).toBe(400);
    expect((await hook('{not json')).status).toBe(400);
    expect((await hook(payload([alert()]), undefined, 'text/plain')).status).toBe(415);
    expect((await hook(JSON.stringify({ ...payload([alert()]), pad: 'x'.repeat(70000) }))).status).toBe(413);
  });
});

describe('policy rules', () => {
  test('duplicates (repeat, HA pair, different groupKey) make exactly one action; resolved never provisions', async () => {
    await boot();
    const a = alert({ fingerprint: 'ab01' });
    const deliveries = [payload([a]), payload([a]), { ...payload([a]), groupKey: 'other-am-instance' }];
    const rs = await Promise.all(deliveries.map((d) => hook(d)));
    expect(rs.map((r) => r.status)).toEqual([202, 202, 202]);
    await settle();
    const actions = (await json('/actions')).actions;
    expect(actions).toHaveLength(1);
    expect(actions[0].result).toBe('succeeded');
    expect(exp.cmdAdds).toHaveLength(1);
    // Retention (finding 14): the first duplicate is audited, later ones only counted on the episode.
    expect((await json('/audit?reason=duplicate')).audit).toHaveLength(1);
    // resolved: skipped, and a resolved-first episode never provisions later
    await hook(payload([alert({ fingerprint: 'ab02', site: 'lyon-2', status: 'resolved' })]));
    await hook(payload([alert({ fingerprint: 'ab02', site: 'lyon-2' })]));
    await settle();
    expect((await json('/audit?reason=resolved')).audit).toHaveLength(1);
    expect((await json('/audit?reason=already_resolved')).audit).toHaveLength(1);
    expect(exp.cmdAdds).toHaveLength(1);
  });
  test('not labelled, cooldown, max modules, rate limit', async () => {
    await boot({ cooldown: '1h', rate_limit_actions: 2 });
    await hook(payload([alert({ fingerprint: 'cc00', remediation: 'manual' })]));
    await hook(payload([alert({ fingerprint: 'cc01' })]));
    await settle();
    await hook(payload([alert({ fingerprint: 'cc02', startsAt: '2026-11-21T19:00:00Z' })])); // new episode, same site
    exp.sites.get('full-3')!.cmdModules = 16;
    await hook(payload([alert({ fingerprint: 'cc03', site: 'full-3' })]));
    await settle();
    await hook(payload([alert({ fingerprint: 'cc04', site: 'lyon-2' })]));
    await settle();
    await hook(payload([alert({ fingerprint: 'cc05', site: 'nowhere' })]));
    await settle();
    const reasons = (await json('/audit?kind=decision')).audit.map((x: any) => `${x.decision}:${x.reason}`).reverse();
    expect(reasons).toEqual(['skip:not_remediable', 'act:policy_passed', 'skip:cooldown', 'skip:max_modules', 'act:policy_passed', 'skip:rate_limited']);
    expect(exp.cmdAdds.map((c) => c.site)).toEqual(['paris-1', 'lyon-2']);
  });
  test('dry run records, never calls MCP', async () => {
    await boot({ dry_run: true });
    await hook(payload([alert({ fingerprint: 'dd01' })]));
    await settle();
    expect((await json('/actions')).actions[0].result).toBe('dry_run');
    expect(sim.stats().createRequests).toBe(0);
  });
  test('approval mode and roles; kill switch', async () => {
    await boot({ approval_required: true });
    await hook(payload([alert({ fingerprint: 'ee01' })]));
    const p = await until(async () => (await json('/approvals')).approvals[0], 5000);
    expect(sim.stats().createRequests).toBe(0);
    expect((await api(`/actions/${p.id}/approve`, 'Viewer', { method: 'POST' })).status).toBe(403);
    expect((await api(`/actions/${p.id}/approve`, 'Editor', { method: 'POST' })).status).toBe(403);
    expect((await api('/policies', 'Viewer', { method: 'PUT', body: '{"cooldown_seconds": 60}' })).status).toBe(403);
    expect((await api('/policies', 'Editor', { method: 'PUT', body: '{"cooldown_seconds": -1}' })).status).toBe(400);
    expect((await api('/policies', 'Editor', { method: 'PUT', body: '{"cooldown_seconds": 60}' })).status).toBe(403); // a looser limit: Admin only
    expect((await api('/policies', 'Editor', { method: 'PUT', body: '{"cooldown_seconds": 1200}' })).status).toBe(200);
    expect((await api('/kill-switch', 'Editor', { method: 'PUT', body: '{"enabled": true}' })).status).toBe(403);
    expect((await fetch(`${svc.url}/api/v1/overview`, { headers: { 'X-OptiFiber-Role': 'Admin' } })).status).toBe(401);
    expect((await fetch(`${svc.url}/api/v1/overview`, { headers: { Authorization: `Bearer ${s.apiToken}`, 'X-OptiFiber-Role': 'Root' } })).status).toBe(403);
    const ok = await api(`/actions/${p.id}/approve`, 'Admin', { method: 'POST', body: '{"comment":"ok"}' });
    expect(ok.status).toBe(200);
    await settle();
    const done = (await json(`/actions/${p.id}`)).action;
    expect(done).toMatchObject({ result: 'succeeded', approvedBy: 'admin-user' });
    // kill switch: Admin flips it; new alerts are skipped and approvals refused
    expect((await api('/kill-switch', 'Admin', { method: 'PUT', body: '{"enabled": true, "reason": "maintenance"}' })).status).toBe(200);
    await hook(payload([alert({ fingerprint: 'ee02', site: 'lyon-2' })]));
    await settle();
    expect((await json('/audit?reason=kill_switch')).audit).toHaveLength(1);
    expect(exp.cmdAdds).toHaveLength(1);
  });
  test('resolved alert cancels a pending approval', async () => {
    await boot({ approval_required: true });
    await hook(payload([alert({ fingerprint: 'ff01' })]));
    const p = await until(async () => (await json('/approvals')).approvals[0], 5000);
    await hook(payload([alert({ fingerprint: 'ff01', status: 'resolved' })]));
    await settle();
    expect((await json(`/actions/${p.id}`)).action.result).toBe('cancelled');
    expect((await api(`/actions/${p.id}/approve`, 'Admin', { method: 'POST' })).status).toBe(409);
  });
});

describe('MCP faults: retries under the same Idempotency-Key provision exactly once', () => {
  test.each([
    [{ token_5xx: 1, create_5xx: 2 }],
    [{ create_5xx_after_commit: 1 }],
    [{ create_timeout_after_commit: 1 }],
    [{ create_timeout: 1, create_duplicate: 1 }],
    [{ poll_5xx: 2, poll_stale: 2 }],
  ])('%j', async (faults) => {
    await boot();
    sim.faults.set({ seed: 7, next: faults });
    await hook(payload([alert({ fingerprint: 'fa01' })]));
    await hook(payload([alert({ fingerprint: 'fa01' })]));
    await settle();
    const a = (await json('/actions')).actions;
    expect(a).toHaveLength(1);
    expect(a[0].result).toBe('succeeded');
    expect(sim.stats().jobsCreated).toBe(1);
    expect(exp.cmdAdds).toHaveLength(1);
    sim.faults.set({ seed: 1 });
  }, 20000);
  test('a failed job is a failed action, not retried into a second job', async () => {
    await boot();
    sim.faults.set({ seed: 1, next: { job_fail: 1 } });
    await hook(payload([alert({ fingerprint: 'fb01' })]));
    await settle();
    const a = (await json('/actions')).actions[0];
    expect(a.result).toBe('failed');
    expect(a.reason).toContain('injected job_fail');
    expect(exp.cmdAdds).toHaveLength(0);
  });
});

test('/metrics passes promtool check metrics', async () => {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  expect(text).toContain('optifiber_remediation_actions_total{result="failed"} 1');
  expect(text).toContain('optifiber_remediation_mcp_request_duration_seconds_bucket');
  const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
