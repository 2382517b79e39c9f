import { pluginWebpackConfig } from '../grafana-common/webpack.plugin.mjs';

export default pluginWebpackConfig(import.meta.url);
