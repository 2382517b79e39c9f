import { DataSourcePlugin } from '@grafana/data';
import { ConfigEditor } from './components/ConfigEditor.js';
import { QueryEditor } from './components/QueryEditor.js';
import { DataSource } from './datasource.js';
import type { OptiFiberOptions, OptiFiberQuery } from './types.js';

// Template variables are served by DataSource.variables (CustomVariableSupport),
// not by the deprecated setVariableQueryEditor/metricFindQuery pair.
export const plugin = new DataSourcePlugin<DataSource, OptiFiberQuery, OptiFiberOptions>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
