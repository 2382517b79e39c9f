// Plugin checks without a Grafana server: plugin.json rules, routes, dist/.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS module
import { amdDependencies, checkDist, checkPluginJson } from '../../grafana-common/plugin-checks.mjs';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
const json = JSON.parse(readFileSync(join(dir, 'src/plugin.json'), 'utf8'));

// dist/ is checked as built from the current sources (webpack, ~3 s).
beforeAll(() => {
  const r = spawnSync(process.execPath, [join(dir, '../node_modules/webpack-cli/bin/cli.js'), '--config', 'webpack.config.mjs'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
}, 120_000);

describe('optifiber-telemetry-datasource plugin checks', () => {
  test('src/plugin.json follows the documented rules', () => {
    expect(checkPluginJson(json)).toEqual([]);
    expect(json.id).toBe('optifiber-telemetry-datasource');
  });
  test('the checker rejects bad ids and missing fields', () => {
    expect(checkPluginJson({ ...json, id: 'OptiFiber_ds' }).join()).toMatch(/does not match/);
    expect(checkPluginJson({ ...json, info: { ...json.info, logos: undefined } }).join()).toMatch(/logos/);
    expect(checkPluginJson({ ...json, dependencies: {} }).join()).toMatch(/grafanaDependency/);
  });
  test('routes: the exporter URL comes from jsonData and the token only from secureJsonData', () => {
    const routes = json.routes as Array<{ path: string; url: string; headers?: Array<{ name: string; content: string }> }>;
    expect(routes.map((r) => r.path)).toEqual(['open', 'bearer']);
    for (const r of routes) expect(r.url).toBe('{{ .JsonData.url }}');
    // route paths are matched by prefix: neither may be a prefix of the other
    expect('bearer'.startsWith('open') || 'open'.startsWith('bearer')).toBe(false);
    expect(routes[1]!.headers).toEqual([{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }]);
  });
  test('dist/ has the AMD module with only shared externals, plugin.json, logos, README, CHANGELOG, LICENSE', () => {
    expect(checkDist(dir)).toEqual([]);
    const deps = amdDependencies(readFileSync(join(dir, 'dist/module.js'), 'utf8'));
    expect(deps).toEqual(expect.arrayContaining(['@grafana/data', '@grafana/ui', '@grafana/runtime', 'react']));
  });
  test('amdDependencies parses define([...]) lists', () => {
    expect(amdDependencies('define(["react","lodash"],function(a,b){})')).toEqual(['react', 'lodash']);
    expect(amdDependencies('(()=>{})()')).toBeNull();
  });
});
