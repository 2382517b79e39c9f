// The browser harness's own data-testids (the frame and the stand-in for
// Grafana's navigation), beside the plugins' (<plugin>/src/testIds.ts).
export const harnessIds = {
  frame: 'harness',
  queryJson: 'query-json',
  queryRuns: 'query-runs',
  variableJson: 'variable-json',
  optionsJson: 'options-json',
  nav: 'grafana-nav',
  /** A nav entry, as Grafana's nav: the include path's last part (overview, history, ...). */
  navItem: (id: string) => `nav-${id}`,
  pageTitle: 'page-title',
} as const;
