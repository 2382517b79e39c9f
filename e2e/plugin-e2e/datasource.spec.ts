// Runs against a real Grafana (GRAFANA_URL) with @grafana/plugin-e2e; the
// plugins must be installed from their dist/ folders and an exporter reachable
// from Grafana at OPTIFIBER_URL. `node e2e/run.mjs` reports these as SKIP when
// GRAFANA_URL is not set. Needs: npm i -D @grafana/plugin-e2e @playwright/test -w e2e
import { readFileSync } from 'node:fs';
import { expect, test } from '@grafana/plugin-e2e';

// plugin.json is read as a file: the type id is written only there.
const TYPE: string = JSON.parse(readFileSync(new URL('../../grafana-datasource/src/plugin.json', import.meta.url), 'utf8')).id;

const EXPORTER = process.env.OPTIFIBER_URL ?? 'http://127.0.0.1:9886';

test('Save & Test succeeds against a running exporter', async ({ createDataSourceConfigPage, page }) => {
  const configPage = await createDataSourceConfigPage({ type: TYPE });
  await page.locator('#optifiber-url').fill(EXPORTER);
  await expect(configPage.saveAndTest()).toBeOK();
  await expect(page.getByText(/OptiFiber exporter OK/)).toBeVisible();
});

test('Save & Test explains an unreachable exporter', async ({ createDataSourceConfigPage, page }) => {
  const configPage = await createDataSourceConfigPage({ type: TYPE });
  await page.locator('#optifiber-url').fill('http://127.0.0.1:1');
  await expect(configPage.saveAndTest()).not.toBeOK();
  await expect(page.getByText(/cannot reach the exporter/)).toBeVisible();
});

test('query editor runs a history query', async ({ panelEditPage, readProvisionedDataSource }) => {
  const ds = await readProvisionedDataSource({ fileName: 'datasources.yaml', name: 'OptiFiber' });
  await panelEditPage.datasource.set(ds.name);
  await panelEditPage.getQueryEditorRow('A').getByText('History', { exact: true }).click();
  await expect(panelEditPage.refreshPanel()).toBeOK();
});
