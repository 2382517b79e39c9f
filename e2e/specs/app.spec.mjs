// Browser specs of the remediation app plugin (optifiber-remediation-app):
// every page for each role, against the REAL remediation service and MCP
// simulator (e2e/app/remediation-stack.mjs) behind a loopback stand-in for
// Grafana's server (e2e/app/grafana-standin.mjs) that applies the app's
// plugin.json routes (reqRole, bearer token and X-OptiFiber-Role set by the
// route) for the signed-in user's role. Users: noc (Viewer), devops (Editor),
// admin (Admin). The tests run in this order and share one service state.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { axeCheck } from '../lib.mjs';
import { startGrafanaStandin, PLUGIN_ID } from '../app/grafana-standin.mjs';
import { startRemediationStack } from '../app/remediation-stack.mjs';
import { appIds, harnessIds, tid } from '../testids.mjs';

let env;
/** Starts the service stack and the Grafana stand-in once (in front of the Vite harness at `base`). */
async function ensure(base) {
  if (!env) {
    const stack = await startRemediationStack();
    const grafana = await startGrafanaStandin({ viteUrl: base, serviceUrl: stack.serviceUrl, serviceToken: stack.apiToken });
    env = { stack, grafana };
  }
  return env;
}
export async function teardown() {
  if (!env) return;
  const e = env;
  env = undefined;
  await e.grafana.close();
  await e.stack.stop();
}

const APP = `/a/${PLUGIN_ID}`;

async function openApp(browser, base, user, path, { theme = 'dark', width = 1280, height = 900 } = {}) {
  const { stack, grafana } = await ensure(base);
  const page = await browser.newPage({ viewport: { width, height } });
  const errors = [];
  const leaks = [];
  const pending = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource|favicon|fonts?\//i.test(m.text())) errors.push(m.text()); });
  // No response the browser receives may carry the service token.
  page.on('response', (r) => {
    if (!r.url().includes('/api/')) return;
    pending.push(r.text().then((t) => { if (t.includes(stack.apiToken)) leaks.push(r.url()); }, () => {}));
    const h = JSON.stringify(r.headers());
    if (h.includes(stack.apiToken)) leaks.push(`${r.url()} (headers)`);
  });
  const from = grafana.proxied.length;
  await page.goto(grafana.loginUrl(user, path, theme), { waitUntil: 'load' });
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 60_000 });
  const finish = async () => {
    await Promise.all(pending);
    assert.deepEqual(leaks, [], `the service token reached the browser: ${leaks.join(', ')}`);
    assert.ok(!(await page.content()).includes(stack.apiToken), 'the service token is in the page');
    assert.deepEqual(errors, [], `page errors: ${errors.join(' | ')}`);
  };
  return { page, stack, grafana, errors, finish, calls: () => grafana.proxied.slice(from) };
}

/** fetch() from inside the page (same origin, the session cookie): what a user could forge with devtools. */
function forge(page, method, url, headers = {}, body) {
  return page.evaluate(async ({ method, url, headers, body }) => {
    const r = await fetch(url, { method, headers: { 'Content-Type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, { method, url, headers, body });
}

async function pickSelect(page, inputId, text) {
  await page.locator(`#${inputId}`).click();
  await page.locator(`#${inputId}`).fill(text);
  await page.keyboard.press('Enter');
}

const rows = (page) => page.getByTestId(appIds.history.row);
async function waitRows(page, n, what) {
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n, [tid(appIds.history.row), n], { timeout: 10_000 }).catch(() => {});
  assert.equal(await rows(page).count(), n, what);
}

export const tests = [
  {
    name: 'app (Viewer): Overview shows service health, 3 pending approvals and recent actions; Approve/Reject disabled; only the viewer route is used',
    async run({ browser, base, shot }) {
      const { page, finish, calls } = await openApp(browser, base, 'noc', `${APP}/overview`);
      await page.getByTestId(appIds.app.page('overview')).waitFor();
      assert.match(await page.getByTestId(appIds.app.whoami).innerText(), /noc\s*Viewer/);
      assert.match(await page.getByTestId(appIds.overview.healthService).innerText(), /healthy/);
      assert.match(await page.getByTestId(appIds.overview.healthMcp).innerText(), /\bok\b/, 'MCP reached by the succeeded actions');
      assert.match(await page.getByTestId(appIds.overview.healthExporter).innerText(), /\bok\b/);
      assert.match(await page.getByTestId(appIds.overview.health24h).innerText(), /succeeded: 2/);
      assert.equal(await page.getByTestId(appIds.overview.approval).count(), 3);
      for (const b of await page.getByTestId(appIds.overview.approve).all()) assert.ok(await b.isDisabled(), 'Approve disabled for a Viewer');
      for (const b of await page.getByTestId(appIds.overview.reject).all()) assert.ok(await b.isDisabled(), 'Reject disabled for a Viewer');
      assert.match(await page.getByTestId(appIds.overview.approveHint).innerText(), /Only Admins/);
      assert.equal(await page.getByTestId(appIds.overview.recentAction).count(), 6);
      const paris = page.locator(`${tid(appIds.overview.recentAction)}[data-id="1"]`);
      assert.match(await paris.getByTestId(appIds.common.outcome).innerText(), /succeeded/);
      assert.equal(await paris.getByTestId(appIds.common.siteLink).getAttribute('href'), '/d/optifiber-site?var-site=paris-1');
      assert.match(await paris.getByTestId(appIds.common.alertLink).getAttribute('href'), /^http:\/\/127\.0\.0\.1:9090\/graph\?g0\.expr=/);
      assert.equal(await page.getByTestId(appIds.overview.remediationDashboard).getAttribute('href'), '/d/optifiber-remediation');
      await shot(page, 'app-overview-viewer');
      const used = calls();
      assert.ok(used.length >= 2 && used.every((c) => c.route === 'viewer' && c.role === 'Viewer' && c.status === 200), `viewer route only: ${JSON.stringify(used)}`);
      await finish();
    },
  },
  {
    name: 'app (Viewer): History filters (result, site, mode, URL), site-dashboard and generatorURL links, audit trail',
    async run({ browser, base, shot }) {
      const { page, finish } = await openApp(browser, base, 'noc', `${APP}/history`);
      await page.getByTestId(appIds.app.page('history')).waitFor();
      await waitRows(page, 6, 'all six actions');
      await pickSelect(page, 'history-result', 'succeeded');
      await waitRows(page, 2, 'two succeeded actions');
      for (const r of await rows(page).all()) assert.equal(await r.getAttribute('data-result'), 'succeeded');
      assert.match(page.url(), /result=succeeded/, 'the filter is kept in the URL');
      await page.getByTestId(appIds.history.filterSite).fill('paris-1');
      await page.getByTestId(appIds.history.filterSite).press('Enter');
      await waitRows(page, 1, 'paris-1 only');
      const row = rows(page).first();
      assert.equal(await row.getByTestId(appIds.common.siteLink).getAttribute('href'), '/d/optifiber-site?var-site=paris-1');
      const alertLink = row.getByTestId(appIds.common.alertLink);
      assert.match(await alertLink.getAttribute('href'), /^http:\/\/127\.0\.0\.1:9090\/graph\?g0\.expr=optifiber_forecast_utilization/);
      assert.equal(await alertLink.getAttribute('target'), '_blank');
      assert.match(await row.innerText(), /4 → 5 CMD/);
      await row.getByTestId(appIds.history.expand).click();
      await page.getByTestId(appIds.history.auditTrail).waitFor();
      const trail = await page.getByTestId(appIds.history.auditTrail).innerText();
      assert.match(trail, /decision/);
      assert.ok((await page.getByTestId(appIds.history.auditEntry).count()) >= 3, 'decision, steps and outcome audited');
      await shot(page, 'app-history-viewer');
      await page.getByTestId(appIds.history.filterSite).fill('not a site!');
      await page.getByTestId(appIds.history.filterSite).press('Enter');
      await page.getByText('A site name is 1-31 characters').waitFor();
      await page.getByTestId(appIds.history.filterClear).click();
      await waitRows(page, 6, 'cleared');
      await page.goto(`${new URL(page.url()).origin}${APP}/history?mode=dry_run`);
      await page.waitForFunction(() => window.__ready === true);
      await waitRows(page, 1, 'deep link ?mode=dry_run');
      assert.equal(await rows(page).first().getAttribute('data-site'), 'madrid-4');
      await finish();
    },
  },
  {
    name: 'app (Viewer): Policies read only, kill switch disabled; forged calls refused (Grafana reqRole 403 on the admin route, service 403 on the viewer route)',
    async run({ browser, base, shot }) {
      const { page, stack, finish } = await openApp(browser, base, 'noc', `${APP}/policies`);
      await page.getByTestId(appIds.policies.form).waitFor();
      await page.getByTestId(appIds.policies.readonly).waitFor();
      assert.ok(await page.getByTestId(appIds.policies.save).isDisabled());
      assert.ok(await page.locator('#policy-cooldown_seconds').isDisabled());
      assert.ok(await page.getByTestId(appIds.killSwitch.toggle).isDisabled());
      assert.match(await page.getByTestId(appIds.killSwitch.hint).innerText(), /Needs the Admin role \(you are Viewer\)/);
      assert.equal(await page.getByTestId(appIds.policies.addOverride).count(), 0);
      await shot(page, 'app-policies-viewer');
      const P = `/api/plugin-proxy/${PLUGIN_ID}`;
      const forgedHeaders = { 'X-OptiFiber-Role': 'Admin', Authorization: 'Bearer forged-token-000000000000' };
      let r = await forge(page, 'PUT', `${P}/admin/api/v1/kill-switch`, forgedHeaders, { enabled: true });
      assert.equal(r.status, 403, 'Grafana refuses the admin route to a Viewer');
      assert.match(r.body.message, /plugin proxy route access denied/);
      r = await forge(page, 'PUT', `${P}/editor/api/v1/policies`, forgedHeaders, { dry_run: true });
      assert.equal(r.status, 403, 'and the editor route');
      r = await forge(page, 'PUT', `${P}/viewer/api/v1/kill-switch`, forgedHeaders, { enabled: true });
      assert.equal(r.status, 403, 'the route overwrites the forged role header: the service sees Viewer');
      assert.match(r.body.error, /needs the Admin role; you have Viewer/);
      r = await forge(page, 'PUT', `${P}/viewer/api/v1/policies`, forgedHeaders, { dry_run: true });
      assert.equal(r.status, 403);
      assert.match(r.body.error, /needs the Editor role; you have Viewer/);
      r = await forge(page, 'POST', `${P}/viewer/api/v1/actions/4/approve`, forgedHeaders, {});
      assert.equal(r.status, 403);
      assert.match(r.body.error, /needs the Admin role; you have Viewer/);
      const ks = await stack.api('GET', '/kill-switch');
      assert.equal(ks.data.enabled, false, 'nothing changed');
      assert.equal((await stack.api('GET', '/policies')).data.policy.dry_run, false);
      await finish();
    },
  },
  {
    name: 'app (Editor): edits and saves the policy (limits, site override) through the editor route; cannot approve or flip the kill switch (UI and service 403)',
    async run({ browser, base, shot }) {
      const { page, stack, finish, calls } = await openApp(browser, base, 'devops', `${APP}/policies`);
      await page.getByTestId(appIds.policies.form).waitFor();
      assert.equal(await page.getByTestId(appIds.policies.readonly).count(), 0);
      assert.ok(await page.getByTestId(appIds.killSwitch.toggle).isDisabled(), 'kill switch is Admin only');
      assert.ok(await page.getByTestId(appIds.policies.save).isDisabled(), 'nothing to save yet');
      // client-side validation with the service's bounds
      await page.locator('#policy-modules_per_action').fill('99');
      await page.getByText('Must be between 1 and 8').waitFor();
      assert.ok(await page.getByTestId(appIds.policies.save).isDisabled());
      await page.locator('#policy-modules_per_action').fill('1');
      await page.locator('#policy-cooldown_seconds').fill('600');
      await page.locator('#policy-max_cmd_modules').fill('12');
      await page.getByTestId(appIds.policies.addOverride).click();
      await page.getByLabel('override 2 site').fill('oslo-5');
      await page.getByLabel('override 2 max modules').fill('8');
      assert.match(await page.getByTestId(appIds.policies.dirty).innerText(), /cooldown_seconds, max_cmd_modules, sites/);
      await page.getByTestId(appIds.policies.save).click();
      await page.getByTestId(appIds.policies.saved).waitFor();
      const doc = (await stack.api('GET', '/policies')).data;
      assert.equal(doc.policy.cooldown_seconds, 600);
      assert.equal(doc.policy.max_cmd_modules, 12);
      assert.deepEqual(doc.policy.sites, { 'berlin-3': { cooldown_seconds: 1800 }, 'oslo-5': { max_cmd_modules: 8 } });
      assert.equal(doc.updatedBy, 'devops', 'the audit names the Grafana user');
      await page.getByText('Last changed by devops').waitFor();
      const put = calls().find((c) => c.method === 'PUT');
      assert.deepEqual([put.route, put.role, put.status], ['editor', 'Editor', 200]);
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, 'app-policies-editor');
      const P = `/api/plugin-proxy/${PLUGIN_ID}`;
      let r = await forge(page, 'PUT', `${P}/editor/api/v1/kill-switch`, { 'X-OptiFiber-Role': 'Admin' }, { enabled: true });
      assert.equal(r.status, 403);
      assert.match(r.body.error, /needs the Admin role; you have Editor/);
      r = await forge(page, 'POST', `${P}/editor/api/v1/actions/4/approve`, { 'X-OptiFiber-Role': 'Admin' }, {});
      assert.equal(r.status, 403);
      assert.match(r.body.error, /needs the Admin role; you have Editor/);
      r = await forge(page, 'PUT', `${P}/admin/api/v1/kill-switch`, {}, { enabled: true });
      assert.equal(r.status, 403, 'Grafana refuses the admin route to an Editor');
      await page.getByTestId(harnessIds.navItem('overview')).click();
      await page.getByTestId(appIds.app.page('overview')).waitFor();
      assert.match(page.url(), /\/overview$/);
      assert.equal(await page.getByTestId(appIds.overview.approval).count(), 3);
      for (const b of await page.getByTestId(appIds.overview.approve).all()) assert.ok(await b.isDisabled(), 'Approve disabled for an Editor');
      assert.equal((await stack.api('GET', '/approvals')).data.approvals.length, 3, 'nothing approved');
      await finish();
    },
  },
  {
    name: 'app (Admin): approves one action (MCP job, capacity verified 4 -> 5) and rejects another; the audit names the approver',
    async run({ browser, base, shot }) {
      const { page, stack, finish, calls } = await openApp(browser, base, 'admin', `${APP}/overview`);
      await page.getByTestId(appIds.app.page('overview')).waitFor();
      assert.match(await page.getByTestId(appIds.app.whoami).innerText(), /admin\s*Admin/);
      const berlin = page.locator(`${tid(appIds.overview.approval)}[data-site="berlin-3"]`);
      assert.ok(await berlin.getByTestId(appIds.overview.approve).isEnabled());
      await berlin.getByTestId(appIds.overview.approve).click();
      await page.getByTestId(appIds.overview.approvalComment).fill('capacity forecast confirmed by NOC');
      await page.getByRole('button', { name: 'Approve', exact: true }).last().click();
      await page.getByTestId(appIds.overview.approvalResult).waitFor();
      assert.match(await page.getByTestId(appIds.overview.approvalResult).innerText(), /approved/);
      const id = Number(await page.locator(tid(appIds.overview.recentAction)).filter({ hasText: 'berlin-3' }).first().getAttribute('data-id'));
      const done = await stack.until(async () => { const a = (await stack.api('GET', `/actions/${id}`)).data; return a.action.state === 'done' && a; }, 'approved action done');
      assert.equal(done.action.result, 'succeeded', JSON.stringify(done.action));
      assert.equal(done.action.approvedBy, 'admin');
      assert.equal(stack.exporter.sites.get('berlin-3').cmdModules, 5, 'one CMD module added through MCP');
      const oslo = page.locator(`${tid(appIds.overview.approval)}[data-site="oslo-5"]`);
      await oslo.getByTestId(appIds.overview.reject).click();
      await page.getByRole('button', { name: 'Reject', exact: true }).last().click();
      await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 1, tid(appIds.overview.approval), { timeout: 10_000 });
      await page.getByTestId(appIds.overview.refresh).click();
      await page.locator(tid(appIds.overview.recentAction)).filter({ hasText: 'berlin-3' }).filter({ hasText: 'succeeded' }).waitFor({ timeout: 10_000 });
      assert.match(await page.locator(tid(appIds.overview.recentAction)).filter({ hasText: 'oslo-5' }).first().innerText(), /rejected/);
      assert.equal(stack.exporter.sites.get('oslo-5').cmdModules, 4, 'rejected: nothing provisioned');
      const verbs = calls().filter((c) => c.method === 'POST');
      assert.deepEqual(verbs.map((c) => [c.route, c.role, c.status]), [['admin', 'Admin', 200], ['admin', 'Admin', 200]]);
      await shot(page, 'app-overview-admin');
      await page.getByTestId(harnessIds.navItem('history')).click();
      await page.getByTestId(appIds.app.page('history')).waitFor();
      await page.locator(tid(appIds.history.row)).filter({ hasText: 'berlin-3' }).filter({ hasText: 'admin' }).first().waitFor();
      await finish();
    },
  },
  {
    name: 'app (Admin): engages the kill switch (banner, approvals blocked) and releases it; can edit policies',
    async run({ browser, base, shot }) {
      const { page, stack, finish } = await openApp(browser, base, 'admin', `${APP}/policies`);
      await page.getByTestId(appIds.killSwitch.section).waitFor();
      assert.ok(await page.getByTestId(appIds.killSwitch.toggle).isEnabled());
      assert.equal(await page.getByTestId(appIds.policies.readonly).count(), 0);
      await page.getByTestId(appIds.killSwitch.reason).fill('fiber cut drill');
      await page.getByTestId(appIds.killSwitch.toggle).click();
      await page.getByRole('button', { name: 'Engage', exact: true }).click();
      await page.locator(`${tid(appIds.killSwitch.section)}[data-enabled=true]`).waitFor();
      const ks = (await stack.api('GET', '/kill-switch')).data;
      assert.deepEqual([ks.enabled, ks.reason, ks.by], [true, 'fiber cut drill', 'admin']);
      await shot(page, 'app-policies-admin-kill-switch');
      await page.getByTestId(harnessIds.navItem('overview')).click();
      await page.getByTestId(appIds.overview.killSwitchBanner).waitFor();
      assert.match(await page.getByTestId(appIds.overview.killSwitchBanner).innerText(), /fiber cut drill/);
      assert.ok(await page.getByTestId(appIds.overview.approve).first().isDisabled(), 'no approvals while the kill switch is on');
      await page.getByTestId(harnessIds.navItem('policies')).click();
      await page.getByTestId(appIds.killSwitch.toggle).click();
      await page.getByRole('button', { name: 'Release', exact: true }).click();
      await page.locator(`${tid(appIds.killSwitch.section)}[data-enabled=false]`).waitFor();
      assert.equal((await stack.api('GET', '/kill-switch')).data.enabled, false);
      await finish();
    },
  },
  {
    name: 'app config (Admin): service URL in jsonData, token in secureJsonData shown as configured and never echoed; Test connection; wrong token -> 401; Viewer read only',
    async run({ browser, base, shot }) {
      const { page, stack, grafana, finish } = await openApp(browser, base, 'admin', `/plugins/${PLUGIN_ID}`);
      await page.getByTestId(appIds.appConfig.container).waitFor();
      assert.equal(await page.locator('#remediation-url').inputValue(), stack.serviceUrl);
      assert.equal(await page.locator('#remediation-token').inputValue(), 'configured', 'SecretInput shows "configured", not the value');
      assert.ok(await page.locator('#remediation-token').isDisabled(), 'the configured token field is read only');
      await page.getByTestId(appIds.appConfig.test).click();
      await page.getByText('Connected: the service answered').waitFor();
      await page.waitForFunction((sel) => !document.querySelector(sel).disabled, tid(appIds.appConfig.save));
      await shot(page, 'app-config-configured');
      // invalid URL
      await page.locator('#remediation-url').fill('ftp://example');
      await page.getByTestId(appIds.appConfig.save).click();
      await page.getByText('Enter an http(s) URL').waitFor();
      await page.locator('#remediation-url').fill(stack.serviceUrl);
      // a wrong token: saved, then the service refuses it
      await page.getByRole('button', { name: 'Reset' }).click();
      await page.locator('#remediation-token').fill('wrong-token-0123456789');
      await page.getByTestId(appIds.appConfig.save).click();
      await page.getByText('Settings saved').waitFor();
      assert.equal(grafana.settings.secureJsonData.serviceToken, 'wrong-token-0123456789');
      assert.equal(await page.locator('#remediation-token').inputValue(), 'configured');
      await page.getByTestId(appIds.appConfig.test).click();
      await page.getByText('invalid bearer token').waitFor();
      // the right token again
      await page.getByRole('button', { name: 'Reset' }).click();
      await page.locator('#remediation-token').fill(stack.apiToken);
      await page.getByTestId(appIds.appConfig.save).click();
      await page.getByText('Settings saved').waitFor();
      const post = grafana.settingsPosts.at(-1).body;
      assert.deepEqual(post.jsonData, { serviceUrl: stack.serviceUrl });
      assert.equal(post.secureJsonData.serviceToken, stack.apiToken, 'the token goes to Grafana once, in secureJsonData');
      await page.getByTestId(appIds.appConfig.test).click();
      await page.getByText('Connected: the service answered').waitFor();
      // a Viewer sees the page read only
      await page.goto(grafana.loginUrl('noc', `/plugins/${PLUGIN_ID}`));
      await page.waitForFunction(() => window.__ready === true);
      await page.getByTestId(appIds.appConfig.container).waitFor();
      assert.ok(await page.getByTestId(appIds.appConfig.save).isDisabled(), `Save disabled for a Viewer: ${await page.getByTestId(harnessIds.pageTitle).innerText()} ${page.url()}`);
      assert.ok(await page.locator('#remediation-url').isDisabled(), 'URL read only for a Viewer');
      const r = await forge(page, 'POST', `/api/plugins/${PLUGIN_ID}/settings`, {}, { jsonData: { serviceUrl: 'http://evil' } });
      assert.equal(r.status, 403);
      assert.equal(grafana.settings.jsonData.serviceUrl, stack.serviceUrl);
      await finish();
    },
  },
  {
    name: 'app (Viewer, light theme): Overview and History render in the light theme',
    async run({ browser, base, shot }) {
      const { page, finish } = await openApp(browser, base, 'noc', `${APP}/overview`, { theme: 'light' });
      await page.getByTestId(appIds.app.page('overview')).waitFor();
      const bg = await page.getByTestId(harnessIds.frame).evaluate((el) => getComputedStyle(el).backgroundColor);
      const [r, g, b] = bg.match(/\d+/g).map(Number);
      assert.ok((0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 > 0.75, `light background ${bg}`);
      await shot(page, 'app-overview-light');
      await page.getByTestId(harnessIds.navItem('history')).click();
      await page.getByTestId(appIds.history.table).waitFor();
      await shot(page, 'app-history-light');
      await finish();
    },
  },
  {
    name: 'app (Admin): each action links to its MCP job; History exports the rows shown as CSV',
    async run({ browser, base }) {
      const { page, stack, finish } = await openApp(browser, base, 'admin', `${APP}/history`);
      await page.getByTestId(appIds.history.table).waitFor();
      const row = page.locator(`${tid(appIds.history.row)}[data-site="berlin-3"][data-result=succeeded]`).first();
      const job = row.getByTestId(appIds.common.jobLink);
      await job.waitFor();
      const href = await job.getAttribute('href');
      const jobId = await job.innerText();
      assert.equal(href, `${stack.mcpUrl}/api/v1/provisioning/jobs/${encodeURIComponent(jobId)}`);
      // the MCP knows that job (the link is not a guess)
      const mcp = await fetch(href, { headers: { Authorization: `Bearer ${await stack.mcpToken()}` } });
      assert.equal(mcp.status, 200, `GET ${href}`);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(appIds.history.csv).click()]);
      const csv = readFileSync(await download.path(), 'utf8');
      assert.equal(download.suggestedFilename(), 'optifiber-remediation-actions.csv');
      const lines = csv.trim().split('\r\n');
      assert.equal(lines[0], 'id,created_at,site,alertname,mode,state,result,cmd_before,cmd_after,job_id,approved_by,reason,finished_at');
      assert.equal(lines.length - 1, await page.getByTestId(appIds.history.row).count(), 'one CSV line per row shown');
      assert.ok(lines.some((l) => l.includes(jobId) && l.includes('berlin-3') && l.includes('admin')), 'the approved action with its job');
      await finish();
    },
  },
  {
    name: 'app Settings (Viewer, dark and light): thresholds read only, Save disabled, forged change refused; axe clean',
    async run({ browser, base, shot }) {
      for (const theme of ['dark', 'light']) {
        const { page, finish } = await openApp(browser, base, 'noc', `${APP}/settings`, { theme });
        await page.getByTestId(appIds.settings.table).waitFor();
        assert.equal(await page.getByTestId(appIds.settings.row).count(), 6, 'every threshold the rules use');
        await page.getByTestId(appIds.settings.readonly).waitFor();
        assert.ok(await page.getByTestId(appIds.settings.save).isDisabled());
        const r = await forge(page, 'PUT', `/api/plugin-proxy/${PLUGIN_ID}/viewer/api/v1/thresholds`, {}, { scope: 'fleet', threshold: 'osnr_low_db', value: 30, reason: 'sneaky' });
        assert.equal(r.status, 403);
        await shot(page, `app-settings-viewer-${theme}`);
        await axeCheck(page, `settings, Viewer, ${theme}`);
        await finish();
        await page.close();
      }
    },
  },
  {
    name: 'app Settings (Editor, dark and light): sets a site override with a reason; invalid values refused with the reason; audited; axe clean',
    async run({ browser, base, shot }) {
      for (const [theme, value] of [['dark', '22.5'], ['light', '23']]) {
        const { page, stack, finish } = await openApp(browser, base, 'devops', `${APP}/settings`, { theme });
        await page.getByTestId(appIds.settings.table).waitFor();
        await page.locator('#threshold-scope').fill('berlin-3');
        await page.locator('#threshold-value').fill('99');
        await page.locator('#threshold-reason').fill('long-haul span');
        await page.getByText('OSNR low must be between 0 and 60 dB').waitFor();
        assert.ok(await page.getByTestId(appIds.settings.save).isDisabled(), `out of range: not sent (${await page.getByTestId(appIds.settings.save).evaluate((b) => b.outerHTML)})`);
        await page.locator('#threshold-value').fill(value);
        await page.getByTestId(appIds.settings.save).click();
        await page.getByTestId(appIds.settings.saved).waitFor();
        assert.match(await page.locator(`${tid(appIds.settings.row)}[data-key=osnr_low_db] ${tid(appIds.settings.siteValues)}`).innerText(), new RegExp(`berlin-3 ${value}`));
        const t = (await stack.api('GET', '/thresholds')).data;
        assert.equal(t.sites['berlin-3'].osnr_low_db, Number(value));
        const audit = (await stack.api('GET', '/audit?kind=threshold')).data.audit[0];
        assert.deepEqual([audit.actor, audit.reason, audit.site, audit.details.after], ['devops', 'long-haul span', 'berlin-3', Number(value)]);
        // the service checks too: a change the form would not send is refused with its reason
        const r = await forge(page, 'PUT', `/api/plugin-proxy/${PLUGIN_ID}/editor/api/v1/thresholds`, {}, { scope: 'fleet', threshold: 'osnr_low_db', value: 18 });
        assert.equal(r.status, 400);
        assert.match(r.body.error, /reason: say why/);
        await page.mouse.move(0, 0);
        await shot(page, `app-settings-editor-${theme}`);
        await axeCheck(page, `settings, Editor, ${theme}`);
        await finish();
        await page.close();
      }
    },
  },
  {
    name: 'app Settings (Admin, dark and light): sets the fleet default and removes the site override; axe clean',
    async run({ browser, base, shot }) {
      for (const theme of ['dark', 'light']) {
        const { page, stack, finish } = await openApp(browser, base, 'admin', `${APP}/settings`, { theme });
        await page.getByTestId(appIds.settings.table).waitFor();
        await page.locator('#threshold-scope').fill(theme === 'dark' ? 'fleet' : 'berlin-3');
        await page.locator('#threshold-value').fill(theme === 'dark' ? '19' : '');
        await page.locator('#threshold-reason').fill(theme === 'dark' ? 'new amplifiers fleet-wide' : 'span repaired');
        await page.getByTestId(appIds.settings.save).click();
        await page.getByTestId(appIds.settings.saved).waitFor();
        const t = (await stack.api('GET', '/thresholds')).data;
        if (theme === 'dark') assert.equal(t.fleet.osnr_low_db, 19);
        else assert.equal(t.sites['berlin-3'], undefined, 'override removed');
        assert.match(await page.locator(`${tid(appIds.settings.row)}[data-key=osnr_low_db] ${tid(appIds.settings.fleetValue)}`).innerText(), /^19$/);
        await page.mouse.move(0, 0); // axe judges the resting button, not Grafana's hover shade
        await shot(page, `app-settings-admin-${theme}`);
        await axeCheck(page, `settings, Admin, ${theme}`);
        await finish();
        await page.close();
      }
    },
  },
  ...[['noc', 'Viewer'], ['devops', 'Editor'], ['admin', 'Admin']].map(([user, role]) => ({
    name: `app (${role}, dark and light): Audit page lists policy, threshold, approval and kill-switch changes with who; filter by kind; CSV; axe clean`,
    async run({ browser, base, shot }) {
      for (const theme of ['dark', 'light']) {
        const { page, finish } = await openApp(browser, base, user, `${APP}/audit`, { theme });
        await page.getByTestId(appIds.audit.table).waitFor();
        const kinds = await page.getByTestId(appIds.audit.row).evaluateAll((rs) => rs.map((r) => r.getAttribute('data-kind')));
        for (const k of ['decision', 'approval', 'policy', 'kill_switch', 'threshold']) assert.ok(kinds.includes(k), `audit has ${k} entries: ${[...new Set(kinds)]}`);
        await pickSelect(page, 'audit-kind', 'policy');
        await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].every((r) => r.getAttribute('data-kind') === 'policy'), tid(appIds.audit.row));
        assert.match(page.url(), /kind=policy/);
        assert.match(await page.getByTestId(appIds.audit.row).first().innerText(), /devops/, 'who changed the policy');
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(appIds.audit.csv).click()]);
        const csv = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
        assert.equal(csv[0], 'id,ts,kind,action_id,site,decision,reason,actor,details');
        assert.ok(csv.slice(1).every((l) => l.split(',')[2] === 'policy'), 'the CSV holds the filtered rows');
        await shot(page, `app-audit-${role.toLowerCase()}-${theme}`);
        await axeCheck(page, `audit page, ${role}, ${theme}`);
        await finish();
        await page.close();
      }
    },
  })),
  ...[['noc', 'Viewer'], ['devops', 'Editor'], ['admin', 'Admin']].flatMap(([user, role]) => ['dark', 'light'].map((theme) => ({
    name: `app (${role}, ${theme}): navigation comes from plugin.json includes (pages and the remediation dashboard); axe clean on every page`,
    async run({ browser, base }) {
      const pluginJson = JSON.parse(readFileSync(new URL('../../grafana-app-remediation/src/plugin.json', import.meta.url), 'utf8'));
      const { page, finish } = await openApp(browser, base, user, `${APP}/overview`, { theme });
      await page.getByTestId(appIds.app.page('overview')).waitFor();
      const nav = await page.getByTestId(harnessIds.nav).locator('a').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
      assert.deepEqual(nav, pluginJson.includes.filter((i) => i.addToNav).map((i) => [i.name, i.type === 'dashboard' ? `/d/${i.uid}` : i.path]));
      assert.ok(nav.some(([, h]) => h === '/d/optifiber-remediation'), 'the remediation dashboard is in the app nav');
      for (const p of ['overview', 'history', 'policies', 'settings', 'audit']) {
        await page.getByTestId(harnessIds.navItem(p)).click();
        await page.getByTestId(appIds.app.page(p)).waitFor();
        await page.locator(`${tid(harnessIds.frame)} table, ${tid(appIds.policies.form)}, ${tid(appIds.policies.readonly)}`).first().waitFor({ timeout: 10_000 }).catch(() => {});
        await axeCheck(page, `${p}, ${role}, ${theme}`);
      }
      await finish();
    },
  }))),
  ...[['noc', 'Viewer'], ['devops', 'Editor'], ['admin', 'Admin']].map(([user, role]) => ({
    name: `app API explorer (${role}, dark and light): Overview links to the service's /docs through the ${role.toLowerCase()} route; operations listed; "try it out" GET whoami answers as ${role} even when another role is asked; axe clean`,
    async run({ browser, base, shot }) {
      const doc = (await import('yaml')).parse(readFileSync(new URL('../../docs/remediation-openapi.yaml', import.meta.url), 'utf8'));
      const ops = Object.entries(doc.paths).flatMap(([p, o]) => Object.keys(o).map((m) => `${m.toUpperCase()} ${p}`));
      const route = role.toLowerCase();
      for (const theme of ['dark', 'light']) {
        const { page, finish, calls } = await openApp(browser, base, user, `${APP}/overview`, { theme });
        const link = page.getByTestId(appIds.overview.apiExplorer);
        const href = await link.getAttribute('href');
        assert.equal(href, `/api/plugin-proxy/${PLUGIN_ID}/${route}/docs/`);
        await page.emulateMedia({ colorScheme: theme });
        await page.goto(new URL(href, page.url()).href, { waitUntil: 'load' });
        await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
        const shown = await page.locator('.opblock-summary').evaluateAll((els) => els.map((e) => `${e.querySelector('.opblock-summary-method').textContent.trim()} ${e.querySelector('.opblock-summary-path').getAttribute('data-path')}`));
        assert.deepEqual([...shown].sort(), [...ops].sort(), 'every operation of docs/remediation-openapi.yaml is listed');
        // Ask for another role: Grafana's route sets X-OptiFiber-Role over what the browser sends.
        const asked = role === 'Admin' ? 'Viewer' : 'Admin';
        const op = page.locator('.opblock-get').filter({ has: page.locator('[data-path="/api/v1/whoami"]') });
        await op.locator('.opblock-summary-control').click();
        await op.getByRole('button', { name: 'Try it out' }).click();
        await op.locator('tr[data-param-name="X-OptiFiber-Role"] select').selectOption(asked);
        await op.getByRole('button', { name: 'Execute' }).click();
        const live = op.locator('.live-responses-table');
        await live.waitFor({ timeout: 10_000 });
        assert.equal((await live.locator('tr.response .response-col_status').first().innerText()).trim(), '200');
        const body = JSON.parse(await live.locator('tr.response .response-col_description pre').first().innerText());
        assert.equal(body.role, role, `the service saw ${role} (asked for ${asked})`);
        assert.match(await op.locator('.request-url pre').innerText(), new RegExp(`/api/plugin-proxy/${PLUGIN_ID}/${route}/api/v1/whoami$`));
        const used = calls();
        assert.ok(used.some((c) => c.path === `${route}/api/v1/whoami` && c.role === role && c.status === 200), `try it out went through the ${route} route: ${JSON.stringify(used.slice(-3))}`);
        await page.mouse.move(0, 0);
        await shot(page, `app-api-explorer-${route}-${theme}`);
        await axeCheck(page, `API explorer, ${role}, ${theme}`);
        await finish();
        await page.close();
      }
    },
  })),
];
