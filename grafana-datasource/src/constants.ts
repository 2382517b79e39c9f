// The data source's type id, read from plugin.json so it is written once.
import pluginJson from './plugin.json';

export const DATASOURCE_TYPE = pluginJson.id;
