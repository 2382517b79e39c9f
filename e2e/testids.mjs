// The plugins' data-testids for the browser specs, read from the same
// testIds.ts files the components use (one list, not a copy): each file is
// plain data, so Vite's esbuild strips its types and Node imports the result.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformWithEsbuild } from 'vite';
import { e2eDir } from './lib.mjs';

async function load(rel) {
  const path = join(e2eDir, '..', rel);
  const { code } = await transformWithEsbuild(readFileSync(path, 'utf8'), path, { loader: 'ts', format: 'esm' });
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

export const { testIds: appIds } = await load('grafana-app-remediation/src/testIds.ts');
export const { testIds: panelIds } = await load('grafana-panel-heatmap/src/testIds.ts');
export const { testIds: dsIds } = await load('grafana-datasource/src/testIds.ts');
export const { harnessIds } = await load('e2e/harness/testIds.ts');

/** A CSS selector for one test id (for locators that combine it with attributes). */
export const tid = (id) => `[data-testid=${id}]`;
