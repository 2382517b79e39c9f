// Every data-testid of the data source's editors, in one place
// (grafana-plugin-examples, components/testIds.ts); the browser specs read
// them from here too (e2e/testids.mjs).
export const testIds = {
  queryEditor: {
    container: 'optifiber-query-editor',
    modeHelp: 'optifiber-mode-help',
  },
  variableEditor: {
    container: 'optifiber-variable-editor',
  },
  configEditor: {
    container: 'optifiber-config-editor',
  },
} as const;
