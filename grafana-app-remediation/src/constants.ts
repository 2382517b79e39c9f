// The app's id and the Grafana paths built from it: read from plugin.json, so
// the id is written once (grafana-plugin-examples app-basic, constants.ts).
import pluginJson from './plugin.json';

export const PLUGIN_ID = pluginJson.id;
/** The app's pages: /a/<id>/<page> (plugin.json `includes`). */
export const PLUGIN_BASE_URL = `/a/${PLUGIN_ID}`;
/** The app's configuration page. */
export const CONFIG_PAGE_URL = `/plugins/${PLUGIN_ID}`;
/** Grafana's proxy for app plugin routes (pkg/api/pluginproxy): /api/plugin-proxy/<plugin id>/<route path>/... */
export const PROXY_BASE = `/api/plugin-proxy/${PLUGIN_ID}`;
/** Grafana's plugin settings endpoint (jsonData, secureJsonData, enabled). */
export const SETTINGS_URL = `/api/plugins/${PLUGIN_ID}/settings`;
