// What Grafana's index.html provides before any plugin code runs.
(window as unknown as { grafanaBootData: unknown }).grafanaBootData = {
  settings: { buildInfo: { version: '13.1.1' }, featureToggles: {}, datasources: {}, panels: {}, theme2: undefined },
  user: { timezone: 'utc', locale: 'en-US', language: 'en-US', lightTheme: false, theme: 'dark' },
  navTree: [],
};
export {};
