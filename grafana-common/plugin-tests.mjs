// The checks every OptiFiber plugin's test/plugin.test.ts runs (jest globals):
// build dist/ from the current sources, then check src/plugin.json against
// the documented rules, the checker itself, and the built dist/ folder
// (plugin-checks.mjs). Each plugin adds its own tests (routes, pages) beside.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { amdDependencies, checkBundle, checkDist, checkPluginJson } from './plugin-checks.mjs';
import { pluginPublicPath, pluginWebpackConfig } from './webpack.plugin.mjs';
import { pathToFileURL } from 'node:url';

/**
 * @param {string} dir the plugin workspace folder
 * @param {{ id: string, externals: string[] }} expected the plugin id and shared modules its module.js must import
 * @returns {any} src/plugin.json, parsed, for the plugin's own tests
 */
export function pluginChecks(dir, { id, externals }) {
  const json = JSON.parse(readFileSync(join(dir, 'src/plugin.json'), 'utf8'));

  // dist/ is checked as built from the current sources (webpack, ~3 s).
  beforeAll(() => {
    const r = spawnSync(process.execPath, [join(dir, '../node_modules/webpack-cli/bin/cli.js'), '--config', 'webpack.config.mjs'], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
  }, 120_000);

  describe(`${id} plugin checks`, () => {
    test('src/plugin.json follows the documented rules', () => {
      expect(checkPluginJson(json)).toEqual([]);
      expect(json.id).toBe(id);
    });
    test('the checker rejects bad ids and missing fields', () => {
      expect(checkPluginJson({ ...json, id: 'OptiFiber_ds' }).join()).toMatch(/does not match/);
      expect(checkPluginJson({ ...json, info: { ...json.info, logos: undefined } }).join()).toMatch(/logos/);
      expect(checkPluginJson({ ...json, dependencies: {} }).join()).toMatch(/grafanaDependency/);
    });
    test('dist/ has the AMD module with only shared externals, plugin.json, logos, README, CHANGELOG, LICENSE', () => {
      expect(checkDist(dir)).toEqual([]);
      const deps = amdDependencies(readFileSync(join(dir, 'dist/module.js'), 'utf8'));
      expect(deps).toEqual(expect.arrayContaining(externals));
    });
    test('current Grafana: no bundled react/jsx-runtime, a relative (sub-path-safe) public path', () => {
      const source = readFileSync(join(dir, 'dist/module.js'), 'utf8');
      expect(checkBundle(source, id)).toEqual([]);
      expect(amdDependencies(source)).not.toContain('react/jsx-runtime');
      const cfg = pluginWebpackConfig(pathToFileURL(join(dir, 'webpack.config.mjs')).href)({}, { mode: 'production' });
      expect(cfg.output.publicPath).toBe(`public/plugins/${id}/`);
      expect(cfg.module.rules[0].use.options.jsc.transform.react.runtime).toBe('classic');
    });
    test('the bundle checker catches a bundled JSX runtime and an absolute public path', () => {
      expect(checkBundle('var a=Symbol.for("react.transitional.element")', id).join()).toMatch(/jsx-runtime/);
      expect(checkBundle("var a=Symbol.for('react.element')", id).join()).toMatch(/jsx-runtime/);
      expect(checkBundle('r.p="/"', id).join()).toMatch(/sub-path/);
      expect(checkBundle(`r.p="${pluginPublicPath(id)}"`, id)).toEqual([]);
    });
    test('amdDependencies parses define([...]) lists', () => {
      expect(amdDependencies('define(["react","lodash"],function(a,b){})')).toEqual(['react', 'lodash']);
      expect(amdDependencies('(()=>{})()')).toBeNull();
    });
  });
  return json;
}
