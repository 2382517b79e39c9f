// Plugin checks without a Grafana server: plugin.json rules, dist/ (shared,
// grafana-common/plugin-tests.mjs), and this plugin's routes.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS module
import { pluginChecks } from '../../grafana-common/plugin-tests.mjs';
// @ts-expect-error plain JS module
import { checkPluginJson } from '../../grafana-common/plugin-checks.mjs';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
const json = pluginChecks(dir, { id: 'optifiber-telemetry-datasource', externals: ['@grafana/data', '@grafana/ui', '@grafana/runtime', 'react'] });

/**
 * Grafana's data-source proxy route selection (pkg/api/pluginproxy/ds_proxy.go,
 * validateRequest): the first route whose method matches (empty or "*" = any)
 * and whose path is a prefix of the proxied path. No match = the request goes
 * to the data source's top-level URL without the route's headers.
 */
function grafanaRoute(routes: Route[], method: string, proxyPath: string): Route | undefined {
  return routes.find((r) => (!r.method || r.method === '*' || r.method === method) && proxyPath.replace(/^\/+/, '').startsWith(r.path));
}
interface Route { path: string; method?: string; url: string; headers?: Array<{ name: string; content: string }> }

describe('optifiber-telemetry-datasource routes', () => {
  const routes = json.routes as Route[];
  test('routes: the exporter URL comes from jsonData and the token only from secureJsonData', () => {
    expect(routes.map((r) => r.path)).toEqual(['open', 'bearer']);
    for (const r of routes) expect(r.url).toBe('{{ .JsonData.url }}');
    // route paths are matched by prefix: neither may be a prefix of the other
    expect('bearer'.startsWith('open') || 'open'.startsWith('bearer')).toBe(false);
    expect(routes[1]!.headers).toEqual([{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }]);
  });

  test('routes are GET-only: a POST to the control API matches no route, so no credential is attached', () => {
    for (const r of routes) expect(r.method).toBe('GET');
    expect(grafanaRoute(routes, 'GET', 'bearer/api/v1/sites')?.path).toBe('bearer');
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(grafanaRoute(routes, method, 'bearer/api/v1/sites/Dallas/commands')).toBeUndefined();
      expect(grafanaRoute(routes, method, 'open/api/v1/sites/Dallas/commands')).toBeUndefined();
    }
    // the matcher itself: a route without a method would have matched
    expect(grafanaRoute([{ ...routes[1]!, method: undefined }], 'POST', 'bearer/api/v1/sites/Dallas/commands')).toBeDefined();
  });

  test('the plugin checker refuses a datasource route that allows other methods than GET', () => {
    expect(checkPluginJson({ ...json, routes: [{ path: 'x', url: 'http://e' }] }).join()).toMatch(/GET-only/);
    expect(checkPluginJson({ ...json, routes: [{ path: 'x', url: 'http://e', method: '*' }] }).join()).toMatch(/GET-only/);
  });
});
