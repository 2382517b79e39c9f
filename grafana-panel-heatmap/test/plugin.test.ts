// Plugin checks without a Grafana server: plugin.json rules and dist/
// (shared, grafana-common/plugin-tests.mjs).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS module
import { pluginChecks } from '../../grafana-common/plugin-tests.mjs';

pluginChecks(join(dirname(fileURLToPath(import.meta.url)), '..'), {
  id: 'optifiber-sitehealth-panel',
  externals: ['@grafana/data', '@grafana/ui', 'react', '@emotion/css'],
});
