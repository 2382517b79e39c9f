// Browser spec of the exporter's API explorer (/docs, exporter/src/http/docs.ts):
// the REAL exporter (embedded simulator) with basic auth from a web config,
// opened directly (the exporter has no roles: one identity with the read scope).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import YAML from 'yaml';
import { axeCheck } from '../lib.mjs';

const root = new URL('../../', import.meta.url);
const PASSWORD = 'e2e-docs-pass';

async function startExporter() {
  const { loadConfig } = await import(new URL('exporter/dist/config/load.js', root).href);
  const { startExporter: start } = await import(new URL('exporter/dist/http/start.js', root).href);
  const { createLogger } = await import(new URL('exporter/dist/log/logger.js', root).href);
  const dir = mkdtempSync(join(tmpdir(), 'optifiber-e2e-docs-'));
  const web = join(dir, 'web.yml');
  writeFileSync(web, `basic_auth_users:\n  grafana: ${bcrypt.hashSync(PASSWORD, 4)}\n`);
  const { config } = loadConfig({ argv: ['--web.listen-address=127.0.0.1:0', '--source.kind=userspace', `--web.config.file=${web}`, '--models.dir=/nonexistent'], env: {} });
  const h = await start(config, createLogger({ level: 'error', write: () => {} }));
  return { url: h.url, stop: async () => { await h.stop(500); rmSync(dir, { recursive: true, force: true }); } };
}

export const tests = [
  {
    name: 'exporter API explorer (dark and light): /docs needs the web-config credentials; every operation listed; "try it out" GET /api/v1/sites answers on the same origin; axe clean',
    async run({ browser, shot }) {
      const doc = YAML.parse(readFileSync(new URL('docs/openapi.yaml', root), 'utf8'));
      const ops = Object.entries(doc.paths).flatMap(([p, o]) => Object.keys(o).filter((m) => m !== 'parameters').map((m) => `${m.toUpperCase()} ${p}`));
      const exp = await startExporter();
      try {
        for (const theme of ['dark', 'light']) {
          const page = await browser.newPage();
          const errors = [];
          page.on('pageerror', (e) => errors.push(e.message));
          // (fetched, not navigated: Chromium turns a Basic challenge into a navigation error)
          const anon = await page.request.get(`${exp.url}/docs/`);
          assert.equal(anon.status(), 401, 'no credentials, no explorer');
          await page.setExtraHTTPHeaders({ Authorization: `Basic ${Buffer.from(`grafana:${PASSWORD}`).toString('base64')}` });
          await page.emulateMedia({ colorScheme: theme });
          const r = await page.goto(`${exp.url}/docs`, { waitUntil: 'load' });
          assert.equal(r.status(), 200);
          assert.equal(new URL(page.url()).pathname, '/docs/');
          await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
          const shown = await page.locator('.opblock-summary').evaluateAll((els) => els.map((e) => `${e.querySelector('.opblock-summary-method').textContent.trim()} ${e.querySelector('.opblock-summary-path').getAttribute('data-path')}`));
          assert.deepEqual([...shown].sort(), [...ops].sort(), 'every operation of docs/openapi.yaml is listed');
          const op = page.locator('.opblock-get').filter({ has: page.locator('[data-path="/api/v1/sites"]') });
          await op.locator('.opblock-summary-control').click();
          await op.getByRole('button', { name: 'Try it out' }).click();
          await op.getByRole('button', { name: 'Execute' }).click();
          const live = op.locator('.live-responses-table');
          await live.waitFor({ timeout: 10_000 });
          assert.equal((await live.locator('tr.response .response-col_status').first().innerText()).trim(), '200');
          const body = JSON.parse(await live.locator('tr.response .response-col_description pre').first().innerText());
          assert.equal(body.source.simulated, true);
          assert.ok(body.sites.length >= 1, 'sites listed');
          assert.equal(await op.locator('.request-url pre').innerText(), `${exp.url}/api/v1/sites`);
          await page.mouse.move(0, 0);
          await shot(page, `exporter-api-explorer-${theme}`);
          await axeCheck(page, `exporter API explorer, ${theme}`);
          assert.deepEqual(errors, [], `page errors: ${errors.join(' | ')}`);
          await page.close();
        }
      } finally {
        await exp.stop();
      }
    },
  },
];
