// Shared by the browser tests and the benchmark: the Vite harness server and
// Debian's Chromium driven by playwright-core.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';

export const e2eDir = dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function startHarness() {
  const server = await createServer({ configFile: join(e2eDir, 'vite.config.mjs'), server: { port: 20000 + Math.floor(Math.random() * 20000), host: '127.0.0.1' } });
  await server.listen();
  const addr = server.httpServer.address();
  return { url: `http://127.0.0.1:${addr.port}/`, close: () => server.close() };
}

export async function launchChromium() {
  const profile = mkdtempSync(join(tmpdir(), 'optifiber-chromium-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    // playwright gives every launch() a fresh temporary --user-data-dir itself
    // (passing one is refused); TMPDIR points it at our own scratch folder.
    env: { ...process.env, TMPDIR: profile },
  });
  return { browser, close: async () => { await browser.close().catch(() => {}); rmSync(profile, { recursive: true, force: true }); } };
}

/** Opens a harness view and waits until the harness has rendered. */
export async function openView(browser, base, query, { width = 1140, height = 720 } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource|favicon|fonts?\//i.test(m.text())) errors.push(m.text()); });
  await page.goto(`${base}?${new URLSearchParams(query)}`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 60_000 });
  return { page, errors };
}

const AXE = join(e2eDir, '..', 'node_modules', 'axe-core', 'axe.min.js');

/**
 * Runs axe-core (WCAG 2.x A/AA rules and best practices) on the page as it is
 * now; throws when a violation is serious or critical. `label` names the state
 * in the message. Returns the minor/moderate ones for the caller to report.
 */
export async function axeCheck(page, label) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} [${(n.any[0] ?? n.all[0] ?? n.none[0])?.message ?? ''}] "${(n.html ?? '').slice(0, 120)}"`) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) throw new Error(`axe (${label}): ${bad.map((v) => `${v.impact} ${v.id} "${v.help}" at ${v.nodes.join(', ')}`).join('; ')}`);
  return violations;
}
