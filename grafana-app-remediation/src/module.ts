import { AppPlugin } from '@grafana/data';
import { App } from './components/App.js';
import { AppConfig } from './components/AppConfig.js';
import type { AppSettings } from './types.js';

export const plugin = new AppPlugin<AppSettings>().setRootPage(App).addConfigPage({
  title: 'Configuration',
  icon: 'cog',
  body: AppConfig,
  id: 'configuration',
});
