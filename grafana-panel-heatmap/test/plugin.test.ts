// Plugin checks without a Grafana server: plugin.json rules and dist/
// (shared, grafana-common/plugin-tests.mjs).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS module
import { pluginChecks } from '../../grafana-common/plugin-tests.mjs';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
pluginChecks(dir, {
  id: 'optifiber-sitehealth-panel',
  externals: ['@grafana/data', '@grafana/ui', 'react', '@emotion/css'],
});

test('the built panel sanitises its site links with Grafana\'s own helpers (issue 12, finding 9)', () => {
  const source = readFileSync(join(dir, 'dist/module.js'), 'utf8');
  // @grafana/data is external: the calls survive minification by name
  expect(source).toMatch(/\.textUtil\.sanitizeUrl\(/);
  expect(source).toMatch(/\.locationUtil\.assureBaseUrl\(/);
  expect(source).toMatch(/\.locationUtil\.stripBaseFromUrl\(/);
});
