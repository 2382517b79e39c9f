/**
 * @jest-environment node
 */
// The permission matrix against the REAL remediation service (service/dist/cli.js,
// with the MCP simulator and a stub exporter; e2e/app/remediation-stack.mjs),
// called the way Grafana's plugin proxy calls it with the app's plugin.json
// routes (dev/plugin-proxy.mjs). The UI only hides buttons; here the service
// itself refuses a lower role (403), and a forged role header never gets through.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, RemediationApi, type Fetcher } from '../src/api.js';
import { PROXY_BASE } from '../src/constants.js';
import { capabilities } from '../src/roles.js';
import type { Role } from '../src/types.js';
// @ts-expect-error plain JS module
import { planProxyRequest } from '../dev/plugin-proxy.mjs';
// @ts-expect-error plain JS module
import { startRemediationStack } from '../../e2e/app/remediation-stack.mjs';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
const pluginJson = JSON.parse(readFileSync(join(dir, 'src/plugin.json'), 'utf8'));
type Stack = { serviceUrl: string; apiToken: string; exporter: { sites: Map<string, { cmdModules: number }> }; api: (m: string, p: string, o?: object) => Promise<{ status: number; data: any }>; until: (f: () => unknown, w: string) => Promise<any>; stop: () => Promise<void> };
let stack: Stack;

beforeAll(async () => {
  if (!existsSync(join(dir, 'service/dist/cli.js')) || !existsSync(join(dir, '../mcp-simulator/dist/cli.js'))) {
    const r = spawnSync(process.execPath, [join(dir, '../node_modules/typescript/bin/tsc'), '-b', join(dir, 'service'), join(dir, '../mcp-simulator')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tsc -b failed: ${r.stdout}${r.stderr}`);
  }
  stack = await startRemediationStack();
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

/** Grafana's plugin proxy for a signed-in user of `role`: reqRole check, route headers set over the request's. */
function grafanaAs(role: Role, extraHeaders: Record<string, string> = {}): Fetcher {
  return async ({ method, url, data }) => {
    const m = new RegExp(`^${PROXY_BASE}/([^?]*)(\\?.*)?$`).exec(url)!;
    const plan = planProxyRequest({
      routes: pluginJson.routes, settings: { jsonData: { serviceUrl: stack.serviceUrl }, secureJsonData: { serviceToken: stack.apiToken } },
      user: { login: role.toLowerCase(), role }, proxyPath: m[1], search: m[2] ?? '', headers: { ...extraHeaders, ...(data !== undefined ? { 'content-type': 'application/json' } : {}) },
    });
    if ('status' in plan) return { status: plan.status, data: plan.body };
    const r = await fetch(plan.url, { method, headers: plan.headers, ...(data !== undefined ? { body: JSON.stringify(data) } : {}) });
    return { status: r.status, data: await r.json().catch(() => null) };
  };
}
const direct = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
  const r = await fetch(`${stack.serviceUrl}/api/v1${path}`, { method, headers: { ...headers, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, data: (await r.json()) as { error?: string } };
};
const asRole = (role: string) => ({ Authorization: `Bearer ${stack.apiToken}`, 'X-OptiFiber-Role': role });

describe('remediation service: the role matrix is enforced by the service, not only by the UI', () => {
  test("whoami through each route: the service's capabilities equal the UI's matrix", async () => {
    for (const role of ['Viewer', 'Editor', 'Admin'] as const) {
      const me = await new RemediationApi(grafanaAs(role)).whoami(role);
      expect(me).toEqual({ user: role.toLowerCase(), role, can: capabilities(role) });
    }
  });

  test('the service refuses lower roles with 403 (token valid, role header too low)', async () => {
    const pending = (await stack.api('GET', '/approvals')).data.approvals[0].id as number;
    const cases: Array<[string, string, string, unknown, RegExp]> = [
      ['Viewer', 'PUT', '/policies', { cooldown_seconds: 5 }, /needs the Editor role; you have Viewer/],
      ['Viewer', 'PUT', '/kill-switch', { enabled: true }, /needs the Admin role; you have Viewer/],
      ['Viewer', 'POST', `/actions/${pending}/approve`, {}, /needs the Admin role; you have Viewer/],
      ['Viewer', 'POST', `/actions/${pending}/reject`, {}, /needs the Admin role; you have Viewer/],
      ['Editor', 'PUT', '/kill-switch', { enabled: true }, /needs the Admin role; you have Editor/],
      ['Editor', 'POST', `/actions/${pending}/approve`, {}, /needs the Admin role; you have Editor/],
    ];
    for (const [role, method, path, body, why] of cases) {
      const r = await direct(method, path, asRole(role), body);
      expect([role, method, path, r.status]).toEqual([role, method, path, 403]);
      expect(r.data.error).toMatch(why);
    }
    expect((await direct('GET', '/overview', { 'X-OptiFiber-Role': 'Admin' })).status).toBe(401);
    expect((await direct('GET', '/overview', { Authorization: 'Bearer wrong-token-0000000000', 'X-OptiFiber-Role': 'Admin' })).status).toBe(401);
    expect((await direct('GET', '/overview', { Authorization: `Bearer ${stack.apiToken}` })).status).toBe(403);
    expect((await stack.api('GET', '/kill-switch')).data.enabled).toBe(false);
    expect((await stack.api('GET', '/approvals')).data.approvals.map((a: { id: number }) => a.id)).toContain(pending);
  });

  test('through the routes: Grafana refuses a higher route (reqRole), a forged header is overwritten and the service refuses', async () => {
    const viewer = new RemediationApi(grafanaAs('Viewer', { 'x-optifiber-role': 'Admin', authorization: 'Bearer forged' }));
    await expect(viewer.setKillSwitch(true)).rejects.toMatchObject({ status: 403, message: expect.stringMatching(/plugin proxy route access denied/) });
    await expect(viewer.putPolicies({ dry_run: true })).rejects.toMatchObject({ status: 403, message: expect.stringMatching(/plugin proxy route access denied/) });
    // the viewer route with a forged X-OptiFiber-Role: the route sets Viewer, the service refuses
    const forged = await grafanaAs('Viewer', { 'x-optifiber-role': 'Admin' })({ method: 'PUT', url: `${PROXY_BASE}/viewer/api/v1/kill-switch`, data: { enabled: true } });
    expect(forged.status).toBe(403);
    expect((forged.data as { error: string }).error).toMatch(/you have Viewer/);
    const editor = new RemediationApi(grafanaAs('Editor'));
    await expect(editor.setKillSwitch(true)).rejects.toBeInstanceOf(ApiError);
    const editorRoute = await grafanaAs('Editor')({ method: 'PUT', url: `${PROXY_BASE}/editor/api/v1/kill-switch`, data: { enabled: true } });
    expect([editorRoute.status, (editorRoute.data as { error: string }).error]).toEqual([403, 'PUT /api/v1/kill-switch needs the Admin role; you have Editor']);
    expect((await stack.api('GET', '/kill-switch')).data.enabled).toBe(false);
  });

  test('Editor saves a policy; Admin approves (capacity verified) and flips the kill switch; the audit names the users', async () => {
    const editor = new RemediationApi(grafanaAs('Editor'));
    const doc = await editor.putPolicies({ cooldown_seconds: 120 });
    expect([doc.policy.cooldown_seconds, doc.updatedBy]).toEqual([120, 'editor']);
    const admin = new RemediationApi(grafanaAs('Admin'));
    const [first] = (await admin.approvals()).approvals;
    const before = stack.exporter.sites.get(first!.site)!.cmdModules;
    await admin.approve(first!.id, 'go');
    const done = await stack.until(async () => { const a = await admin.action(first!.id); return a.action.state === 'done' && a; }, 'approved action done');
    expect([done.action.result, done.action.approvedBy]).toEqual(['succeeded', 'admin']);
    expect(stack.exporter.sites.get(first!.site)!.cmdModules).toBe(before + 1);
    expect(done.audit.some((e: { kind: string; actor: string }) => e.actor === 'admin')).toBe(true);
    expect((await admin.setKillSwitch(true, 'test')).enabled).toBe(true);
    expect((await new RemediationApi(grafanaAs('Viewer')).killSwitch()).by).toBe('admin');
    expect((await admin.setKillSwitch(false)).enabled).toBe(false);
  });
});
