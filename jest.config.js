// One jest run for every TypeScript workspace. Sources are ESM; @swc/jest
// strips types without type-checking (tsc -b does that in `npm run build`).
import { grafanaJestProject } from './grafana-common/jest.project.mjs';

/** @type {import('jest').Config} */
const node = {
  displayName: 'node',
  testEnvironment: 'node',
  roots: ['<rootDir>/exporter', '<rootDir>/reports', '<rootDir>/training', '<rootDir>/cli', '<rootDir>/mcp-simulator', '<rootDir>/grafana-app-remediation/service', '<rootDir>/provisioning'],
  testMatch: ['**/test/**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }],
  },
  testTimeout: 30000,
};

// The Grafana plugin workspaces run in jsdom (see grafana-common/jest.project.mjs).
export default {
  projects: [
    node,
    grafanaJestProject('grafana-datasource'),
    grafanaJestProject('grafana-panel-heatmap'),
    // the app plugin's tests (grafana-app-remediation/test); its service/ runs in `node`
    { ...grafanaJestProject('grafana-app-remediation'), roots: ['<rootDir>/grafana-app-remediation/test'] },
  ],
  testTimeout: 30000,
};
