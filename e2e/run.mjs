#!/usr/bin/env node
// Browser tests of the OptiFiber Grafana plugins, in one command:
//   node e2e/run.mjs [name filter]
// Starts the Vite harness on loopback, drives Debian's Chromium with
// playwright-core, prints `PASS <name>` / `FAIL <name>: why` / `SKIP <name>: why`
// per test, saves screenshots under e2e/artifacts/, exits 1 on any failure.
// The @grafana/plugin-e2e specs (e2e/plugin-e2e/) need a real Grafana: they run
// only when GRAFANA_URL is set and are reported as SKIP otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { e2eDir, launchChromium, startHarness, CHROMIUM } from './lib.mjs';
import { tests as harnessTests } from './specs/harness.spec.mjs';
import { tests as appTests, teardown as appTeardown } from './specs/app.spec.mjs';
import { tests as exporterDocsTests } from './specs/exporter-docs.spec.mjs';

const tests = [...harnessTests, ...appTests, ...exporterDocsTests];

// generous: the app tests that cover both themes load and axe-check every page twice
const TEST_TIMEOUT_MS = 90_000;
const filter = process.argv[2];
const artifacts = join(e2eDir, 'artifacts');
mkdirSync(artifacts, { recursive: true });
const counts = { pass: 0, fail: 0, skip: 0 };
const started = Date.now();

function line(kind, name, why) {
  counts[kind.toLowerCase()]++;
  console.log(`${kind} ${name}${why ? `: ${why.replace(/\s+/g, ' ').slice(0, 400)}` : ''}`);
}

const selected = tests.filter((t) => !filter || t.name.includes(filter));
if (!existsSync(CHROMIUM)) {
  for (const t of selected) line('FAIL', t.name, `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
} else if (selected.length) {
  const harness = await startHarness();
  const chromium = await launchChromium();
  try {
    // warm-up: the first load pre-bundles @grafana/ui (cached in node_modules/.vite-optifiber-e2e)
    const warm = await chromium.browser.newPage();
    await warm.goto(`${harness.url}?view=panel&sites=1`, { timeout: 120_000 });
    await warm.waitForFunction(() => window.__ready === true, null, { timeout: 120_000 });
    await warm.close();
    for (const t of selected) {
      const ctx = await chromium.browser.newContext();
      const browser = { newPage: (o) => ctx.newPage(o) };
      const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false });
      let timer;
      try {
        await Promise.race([
          t.run({ browser, base: harness.url, shot }),
          new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${TEST_TIMEOUT_MS / 1000} s`)), TEST_TIMEOUT_MS); }),
        ]);
        line('PASS', t.name);
      } catch (e) {
        line('FAIL', t.name, e.message);
      } finally {
        clearTimeout(timer);
        await ctx.close().catch(() => {});
      }
    }
  } finally {
    await appTeardown().catch((e) => console.error(`app teardown: ${e.message}`));
    await chromium.close();
    await harness.close();
  }
}

// @grafana/plugin-e2e specs: only against a real Grafana.
const specs = readdirSync(join(e2eDir, 'plugin-e2e')).filter((f) => f.endsWith('.spec.ts'));
if (!filter || filter === 'plugin-e2e') {
  if (!process.env.GRAFANA_URL) {
    for (const s of specs) line('SKIP', `plugin-e2e ${s}`, 'GRAFANA_URL is not set (needs a running Grafana with the plugins installed)');
  } else {
    const r = spawnSync('npx', ['playwright', 'test', '-c', join(e2eDir, 'plugin-e2e/playwright.config.ts')], { stdio: 'inherit' });
    for (const s of specs) line(r.status === 0 ? 'PASS' : 'FAIL', `plugin-e2e ${s}`, r.status === 0 ? '' : `playwright exited with ${r.status}`);
  }
}

console.log(`\n${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in e2e/artifacts/`);
process.exit(counts.fail ? 1 : 0);
