import { pluginWebpackConfig } from '../grafana-common/webpack.plugin.mjs';

// The remediation dashboard is provisioned from provisioning/dashboards/ (its one
// home) and bundled too, as the app's `includes` dashboard.
export default pluginWebpackConfig(import.meta.url, {
  copy: [{ from: '../provisioning/dashboards/optifiber-remediation.json', to: 'dashboards/optifiber-remediation.json' }],
});
