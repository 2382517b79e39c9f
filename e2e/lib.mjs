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
