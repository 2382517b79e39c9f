#!/usr/bin/env node
// Generates docs/metrics.md from the exporter's metric catalogue
// (metricCatalogue() in exporter/src/metrics/catalogue.ts), via exporter/dist.
//   node scripts/gen-metrics-docs.mjs          write docs/metrics.md
//   node scripts/gen-metrics-docs.mjs --check  exit 1 if docs/metrics.md is stale
// Build first (npm run build, or npx tsc -b exporter).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'exporter', 'dist', 'metrics');
export const METRICS_MD = join(ROOT, 'docs', 'metrics.md');

if (!existsSync(join(DIST, 'docs.js'))) {
  console.error('exporter/dist/metrics/docs.js missing: run `npx tsc -b exporter` first');
  process.exit(2);
}
const { metricCatalogue } = await import(pathToFileURL(join(DIST, 'catalogue.js')).href);
const { metricsMarkdown } = await import(pathToFileURL(join(DIST, 'docs.js')).href);
const text = metricsMarkdown(metricCatalogue());

if (process.argv.includes('--check')) {
  const cur = existsSync(METRICS_MD) ? readFileSync(METRICS_MD, 'utf8') : '';
  if (cur !== text) {
    console.error('docs/metrics.md is stale: run `node scripts/gen-metrics-docs.mjs`');
    process.exit(1);
  }
  console.log('docs/metrics.md is up to date');
} else {
  writeFileSync(METRICS_MD, text);
  console.log(`wrote ${METRICS_MD.slice(ROOT.length + 1)} (${metricCatalogue().length} families)`);
}
