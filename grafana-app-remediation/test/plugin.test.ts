// Plugin checks without a Grafana server: plugin.json rules and dist/
// (shared, grafana-common/plugin-tests.mjs), then this app's pages, routes,
// Grafana's proxy semantics and the module.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS module
import { pluginChecks } from '../../grafana-common/plugin-tests.mjs';
// @ts-expect-error plain JS module
import { interpolate, matchRoutePath, planProxyRequest } from '../dev/plugin-proxy.mjs';
import { PAGES } from '../src/logic.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
const json = pluginChecks(dir, { id: 'optifiber-remediation-app', externals: ['@grafana/data', '@grafana/ui', '@grafana/runtime', 'react'] });
type Route = { path: string; url: string; reqRole?: string; headers?: Array<{ name: string; content: string }> };

describe('optifiber-remediation-app plugin', () => {
  test('an app plugin without a backend', () => {
    expect(json.type).toBe('app');
    expect(json.backend).toBe(false);
  });
  test('includes: Overview (default), History, Policies, Settings, Audit under /a/<id>/, and the remediation dashboard', () => {
    expect(json.includes.map((i: { name: string; path: string }) => [i.name, i.path])).toEqual([
      ['Overview', '/a/optifiber-remediation-app/overview'],
      ['History', '/a/optifiber-remediation-app/history'],
      ['Policies', '/a/optifiber-remediation-app/policies'],
      ['Settings', '/a/optifiber-remediation-app/settings'],
      ['Audit', '/a/optifiber-remediation-app/audit'],
      ['OptiFiber / Remediation', 'dashboards/optifiber-remediation.json'],
    ]);
    expect(json.includes[0].defaultNav).toBe(true);
    for (const i of json.includes) expect(i.addToNav).toBe(true);
  });
  test('every included page has its component, and every component its include (Grafana builds the nav)', () => {
    const pages = json.includes.filter((i: { type: string }) => i.type === 'page').map((i: { path: string }) => i.path.split('/').pop());
    expect(PAGES.map((p) => p.id)).toEqual(pages);
    expect(PAGES.map((p) => p.title)).toEqual(json.includes.filter((i: { type: string }) => i.type === 'page').map((i: { name: string }) => i.name));
  });
  test('the included dashboard is the provisioned one, copied into dist/ at build', () => {
    const prov = JSON.parse(readFileSync(join(dir, '../provisioning/dashboards/optifiber-remediation.json'), 'utf8'));
    const built = JSON.parse(readFileSync(join(dir, 'dist/dashboards/optifiber-remediation.json'), 'utf8'));
    expect(built).toEqual(prov);
    expect(json.includes.find((i: { type: string }) => i.type === 'dashboard').uid).toBe(prov.uid);
  });
  test('routes: one per role, reqRole, URL from jsonData, token only from secureJsonData, role header set by the route', () => {
    const routes = json.routes as Route[];
    // Grafana matches app routes as a tree pattern: "viewer/*" forwards viewer/<rest> as <rest>
    expect(routes.map((r) => [r.path, r.reqRole])).toEqual([['viewer/*', 'Viewer'], ['editor/*', 'Editor'], ['admin/*', 'Admin']]);
    for (const r of routes) {
      expect(r.url).toBe('{{ .JsonData.serviceUrl }}');
      expect(r.headers).toEqual([
        { name: 'Authorization', content: 'Bearer {{ .SecureJsonData.serviceToken }}' },
        { name: 'X-OptiFiber-Role', content: r.reqRole },
      ]);
      // no route may shadow another
      for (const o of routes) if (o !== r) expect(o.path.startsWith(r.path.slice(0, -1))).toBe(false);
    }
    expect(JSON.stringify(json)).not.toMatch(/\.JsonData\.serviceToken|SecureJsonData\.serviceUrl/);
  });
  test("Grafana's proxy semantics: reqRole, templating, headers set over the browser's", () => {
    const settings = { jsonData: { serviceUrl: 'http://127.0.0.1:9887' }, secureJsonData: { serviceToken: 'tok' } };
    expect(interpolate('Bearer {{ .SecureJsonData.serviceToken }}', settings)).toBe('Bearer tok');
    const viewer = { login: 'noc', role: 'Viewer' };
    expect(planProxyRequest({ routes: json.routes, settings, user: viewer, proxyPath: 'admin/api/v1/kill-switch' })).toEqual({ status: 403, body: { message: 'plugin proxy route access denied' } });
    const p = planProxyRequest({ routes: json.routes, settings, user: viewer, proxyPath: 'viewer/api/v1/actions', search: '?site=paris-1', headers: { 'X-OptiFiber-Role': 'Admin', authorization: 'Bearer forged', cookie: 'grafana_session=x' } });
    expect(p).toEqual({ url: 'http://127.0.0.1:9887/api/v1/actions?site=paris-1', route: 'viewer', headers: { authorization: 'Bearer tok', 'x-optifiber-role': 'Viewer', 'x-grafana-user': 'noc' } });
    expect(planProxyRequest({ routes: json.routes, settings, user: { login: 'a', role: 'Admin' }, proxyPath: 'admin/api/v1/whoami' })).toMatchObject({ route: 'admin', url: 'http://127.0.0.1:9887/api/v1/whoami' });
    // tree match, not prefix: the bare route path or another word does not match
    expect(planProxyRequest({ routes: json.routes, settings, user: viewer, proxyPath: 'viewerx/api/v1/whoami' })).toEqual({ status: 404, body: { message: 'plugin route match not found' } });
    expect(matchRoutePath('viewer/*', 'viewer/api/v1/x')).toEqual({ rest: 'api/v1/x' });
    expect(matchRoutePath('viewer', 'viewer/api/v1/x')).toBeUndefined();
    expect(planProxyRequest({ routes: [{ ...json.routes[0], url: 'http://h:1/base/' }], settings, user: viewer, proxyPath: 'viewer/api/v1/x' })).toMatchObject({ url: 'http://h:1/base/api/v1/x' });
    expect(planProxyRequest({ routes: json.routes, settings: { jsonData: {}, secureJsonData: {} }, user: viewer, proxyPath: 'viewer/x' })).toMatchObject({ status: 502 });
  });
  test('module.ts exports an AppPlugin with the root page and the configuration page', async () => {
    const { plugin } = await import('../src/module.js');
    expect(plugin.root).toBeDefined();
    expect(plugin.configPages?.map((p) => [p.id, p.title])).toEqual([['configuration', 'Configuration']]);
  });
  test('dist/: version stamped from package.json, the logo, no service token in the bundle', () => {
    const built = JSON.parse(readFileSync(join(dir, 'dist/plugin.json'), 'utf8'));
    expect(built.info.version).toBe(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version);
    expect(readFileSync(join(dir, 'dist/img/logo.svg'), 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(join(dir, 'dist/module.js'), 'utf8')).not.toMatch(/serviceToken["']?\s*:\s*["'][^"']/);
  });
});
