// Jest project for one Grafana plugin workspace (jsdom, TSX, @grafana/ui).
// Used from the root jest.config.js: grafanaJestProject('grafana-datasource').
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const swc = ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } } }, module: { type: 'es6' } }];
// ESM-only packages @grafana/ui pulls in; they are transformed, everything else is not.
const esm = ['d3-.*', 'internmap', 'ol', 'marked', 'marked-mangle', 'nanoid', 'uuid', '@react-aria', 'react-calendar', 'get-user-locale', 'memoize', 'mimic-function', 'quick-lru'];

/** @param {string} dir workspace folder */
export function grafanaJestProject(dir) {
  return {
    displayName: dir,
    rootDir: root,
    roots: [`<rootDir>/${dir}`],
    testEnvironment: 'jsdom',
    testMatch: ['**/test/**/*.test.ts?(x)'],
    extensionsToTreatAsEsm: ['.ts', '.tsx'],
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1', '\\.(css|scss)$': join(root, 'grafana-common/jest.style-stub.cjs') },
    setupFiles: [join(root, 'grafana-common/jest.setup.mjs')],
    transform: { '^.+\\.(t|j)sx?$': swc, '^.+\\.mjs$': swc },
    transformIgnorePatterns: [`/node_modules/(?!(${esm.join('|')})/)`],
  };
}
