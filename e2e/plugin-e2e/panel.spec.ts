// Runs against a real Grafana (GRAFANA_URL); SKIP otherwise (see datasource.spec.ts).
import { expect, test } from '@grafana/plugin-e2e';
import { testIds } from '../../grafana-panel-heatmap/src/testIds.js';

test('site-health panel renders gauges and the heat-map with the OptiFiber data source', async ({ panelEditPage, readProvisionedDataSource, page }) => {
  const ds = await readProvisionedDataSource({ fileName: 'datasources.yaml', name: 'OptiFiber' });
  await panelEditPage.datasource.set(ds.name);
  await panelEditPage.setVisualization('OptiFiber Site Health');
  await expect(panelEditPage.refreshPanel()).toBeOK();
  await expect(page.getByTestId(testIds.gauges.gauge).first()).toBeVisible();
  await expect(page.getByTestId(testIds.heatmap.canvas)).toBeVisible();
});
