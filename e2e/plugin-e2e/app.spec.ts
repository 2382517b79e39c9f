// The remediation app in a REAL Grafana (GRAFANA_URL, signed in as an Admin by
// auth.setup.ts) with the app provisioned (provisioning/plugins/optifiber.yaml)
// and the remediation service reachable from Grafana at its jsonData.serviceUrl.
// Checks what the browser harness (e2e/specs/app.spec.mjs) can only emulate:
// Grafana's own plugin proxy with the app's plugin.json routes.
// `node e2e/run.mjs` reports this file as SKIP when GRAFANA_URL is not set.
import { readFileSync } from 'node:fs';
import { expect, test } from '@grafana/plugin-e2e';
import { testIds } from '../../grafana-app-remediation/src/testIds.js';

// plugin.json is read as a file: its id is written only there.
const APP: string = JSON.parse(readFileSync(new URL('../../grafana-app-remediation/src/plugin.json', import.meta.url), 'utf8')).id;

test('the plugin routes reach the service: whoami through viewer/* and admin/*', async ({ page }) => {
  const viewer = await page.request.get(`/api/plugin-proxy/${APP}/viewer/api/v1/whoami`);
  expect(viewer.status()).toBe(200);
  expect((await viewer.json()).role).toBe('Viewer');
  const admin = await page.request.get(`/api/plugin-proxy/${APP}/admin/api/v1/whoami`);
  expect(admin.status()).toBe(200);
  expect((await admin.json()).can.killSwitch).toBe(true);
  // no token in what the browser receives
  expect(JSON.stringify(await (await page.request.get(`/api/plugins/${APP}/settings`)).json())).not.toMatch(/serviceToken"\s*:\s*"/);
});

test('Overview, History and Policies render', async ({ gotoAppPage, page }) => {
  await gotoAppPage({ pluginId: APP, path: '/overview' });
  await expect(page.getByTestId(testIds.app.page('overview'))).toBeVisible();
  // the pages' tabs are Grafana's navigation (plugin.json includes), not the app's
  await gotoAppPage({ pluginId: APP, path: '/history' });
  await expect(page.getByTestId(testIds.app.page('history'))).toBeVisible();
  await gotoAppPage({ pluginId: APP, path: '/policies' });
  await expect(page.getByTestId(testIds.policies.form)).toBeVisible();
  await expect(page.getByTestId(testIds.killSwitch.toggle)).toBeEnabled();
});

test('configuration page shows the token as configured', async ({ gotoAppConfigPage, page }) => {
  await gotoAppConfigPage({ pluginId: APP });
  await expect(page.locator('#remediation-token')).toHaveValue('configured');
  await page.getByTestId(testIds.appConfig.test).click();
  await expect(page.getByText(/Connected: the service answered/)).toBeVisible();
});
