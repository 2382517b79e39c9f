// Plugin checks without a Grafana server: plugin.json rules, dist/ (shared,
// grafana-common/plugin-tests.mjs), and this plugin's routes.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS module
import { pluginChecks } from '../../grafana-common/plugin-tests.mjs';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
const json = pluginChecks(dir, { id: 'optifiber-telemetry-datasource', externals: ['@grafana/data', '@grafana/ui', '@grafana/runtime', 'react'] });

describe('optifiber-telemetry-datasource routes', () => {
  test('routes: the exporter URL comes from jsonData and the token only from secureJsonData', () => {
    const routes = json.routes as Array<{ path: string; url: string; headers?: Array<{ name: string; content: string }> }>;
    expect(routes.map((r) => r.path)).toEqual(['open', 'bearer']);
    for (const r of routes) expect(r.url).toBe('{{ .JsonData.url }}');
    // route paths are matched by prefix: neither may be a prefix of the other
    expect('bearer'.startsWith('open') || 'open'.startsWith('bearer')).toBe(false);
    expect(routes[1]!.headers).toEqual([{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }]);
  });
});
