import { DataSourcePlugin } from '@grafana/data';
import { ConfigEditor } from './components/ConfigEditor.js';
import { QueryEditor } from './components/QueryEditor.js';
import { VariableQueryEditor } from './components/VariableQueryEditor.js';
import { DataSource } from './datasource.js';
import type { OptiFiberOptions, OptiFiberQuery } from './types.js';

export const plugin = new DataSourcePlugin<DataSource, OptiFiberQuery, OptiFiberOptions>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor as never)
  .setVariableQueryEditor(VariableQueryEditor as never);
