// Browser specs against the Vite harness (real @grafana/ui theme, real
// DataFrames through applyFieldOverrides). Each test gets { browser, base,
// shot(page, name) } and throws on failure.
import assert from 'node:assert/strict';
import { axeCheck, openView } from '../lib.mjs';
import { dsIds, harnessIds, panelIds, tid } from '../testids.mjs';

async function luminance(page) {
  const bg = await page.getByTestId(harnessIds.frame).evaluate((el) => getComputedStyle(el).backgroundColor);
  const [r, g, b] = bg.match(/\d+/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

async function noErrors(errors) {
  assert.deepEqual(errors, [], `page errors: ${errors.join(' | ')}`);
}

/** The end of most views' tests: a screenshot, axe clean, no page errors. */
async function shotAxeNoErrors({ page, errors, shot }, name, what) {
  await shot(page, name);
  await axeCheck(page, what);
  await noErrors(errors);
}

async function gaugesTest({ browser, base, shot }, theme) {
  const { page, errors } = await openView(browser, base, { view: 'panel', sites: '4', theme });
  const gauges = page.getByTestId(panelIds.gauges.gauge);
  assert.equal(await gauges.count(), 4, 'one gauge per site');
  for (let i = 0; i < 4; i++) {
    const g = gauges.nth(i);
    assert.ok(await g.isVisible());
    assert.match(await g.getByTestId(panelIds.gauges.utilization).innerText(), /^\d+\.\d%$/);
    assert.equal(await g.getByTestId(panelIds.gauges.forecastMarker).count(), 1, 'forecast marker');
    assert.equal(await g.getByTestId(panelIds.gauges.anomalyBadge).count(), 1, 'anomaly badge');
  }
  const state = async (site) => page.locator(`${tid(panelIds.gauges.gauge)}[data-site="${site}"]`).getAttribute('data-severity');
  assert.equal(await state('site-0001'), 'ok');
  assert.equal(await state('site-0002'), 'critical', 'utilization above the 0.9 override threshold');
  assert.equal(await state('site-0003'), 'critical', 'link down');
  assert.equal(await state('site-0004'), 'warning', 'link degraded');
  assert.match(await page.locator(`[data-site="site-0003"] ${tid(panelIds.gauges.linkState)}`).innerText(), /down/);
  assert.match(await page.locator(`[data-site="site-0002"] ${tid(panelIds.gauges.utilization)}`).innerText(), /^93\.0%$/, 'override: 1 decimal, percent');
  assert.equal(await page.getByTestId(panelIds.heatmap.rowLabel).count(), 4, 'a labelled heat-map row per site');
  const lum = await luminance(page);
  if (theme === 'dark') assert.ok(lum < 0.25, `dark background (luminance ${lum.toFixed(2)})`);
  else assert.ok(lum > 0.75, `light background (luminance ${lum.toFixed(2)})`);
  await shot(page, `panel-4-sites-${theme}`);
  // state by icon as well as colour
  for (const [site, sev] of [['site-0001', 'ok'], ['site-0002', 'critical'], ['site-0004', 'warning']]) {
    assert.equal(await page.locator(`${tid(panelIds.gauges.gauge)}[data-site="${site}"] ${tid(panelIds.gauges.stateIcon)}`).getAttribute('data-severity'), sev);
  }
  assert.match(await page.locator(`${tid(panelIds.gauges.gauge)}[data-site="site-0003"]`).textContent(), /site-0003: Critical, link down\./);
  await axeCheck(page, `panel ${theme}`);
  await noErrors(errors);
}

async function tooltipTest({ browser, base, shot }, theme) {
  const { page, errors } = await openView(browser, base, { view: 'panel', sites: '4', theme });
  const canvas = page.getByTestId(panelIds.heatmap.canvas);
  const box = await canvas.boundingBox();
  // site-0002 (row 1) has a burst of anomalies after bucket 420 of 500
  await page.mouse.move(box.x + box.width * 0.95, box.y + 16 * 1 + 8);
  const tip = page.getByTestId(panelIds.tooltip.container);
  await tip.waitFor({ state: 'visible', timeout: 5000 });
  const text = await tip.innerText();
  assert.match(text, /site-0002/);
  assert.match(text, /Anomaly score: \d\.\d\d/);
  assert.match(text, /Utilization now: 93\.0%/);
  assert.match(text, /Top contributing features/);
  assert.match(text, /crc_errors_rate\s+0\.520/);
  assert.equal(await page.getByTestId(panelIds.tooltip.contribution).count(), 3, 'top 3 contributions');
  await shot(page, `panel-tooltip-${theme}`);
  await axeCheck(page, `panel tooltip ${theme}`);
  await page.mouse.move(box.x - 50, box.y - 50);
  await tip.waitFor({ state: 'detached', timeout: 5000 });
  await noErrors(errors);
}

export const tests = [
  { name: 'panel (dark): a gauge per site with utilization, forecast marker, link state, anomaly badge; worst-state colors', run: (c) => gaugesTest(c, 'dark') },
  { name: 'panel (light): same gauges and states in the light theme', run: (c) => gaugesTest(c, 'light') },
  { name: 'panel (dark): heat-map tooltip with values and top contributing features', run: (c) => tooltipTest(c, 'dark') },
  { name: 'panel (light): heat-map tooltip in the light theme', run: (c) => tooltipTest(c, 'light') },
  {
    name: 'panel: 1,000 sites, every heat-map row label reachable by scrolling (virtualized, none dropped)',
    async run({ browser, base, shot }) {
      const { page, errors } = await openView(browser, base, { view: 'panel', sites: '1000' });
      assert.equal(await page.getByTestId(panelIds.gauges.gauge).first().getAttribute('data-site'), 'site-0001');
      const scroll = page.getByTestId(panelIds.heatmap.scroll);
      const seen = new Set();
      const height = await scroll.evaluate((el) => el.scrollHeight);
      const view = await scroll.evaluate((el) => el.clientHeight);
      assert.equal(height, 1000 * 16, 'a 16 px row per site');
      for (let top = 0; top <= height; top += view - 16) {
        await scroll.evaluate((el, t) => { el.scrollTop = t; }, top);
        await page.waitForTimeout(60);
        const labels = await page.getByTestId(panelIds.heatmap.rowLabel).evaluateAll((els) => els.map((e) => e.textContent));
        for (const l of labels) seen.add(l);
      }
      assert.equal(seen.size, 1000, `labels seen while scrolling: ${seen.size}`);
      await scroll.evaluate((el) => { el.scrollTop = el.scrollHeight; });
      const last = page.locator(`${tid(panelIds.heatmap.rowLabel)}[data-site="site-1000"]`);
      await last.waitFor({ state: 'visible', timeout: 5000 });
      const lb = await last.boundingBox();
      const sb = await scroll.boundingBox();
      assert.ok(lb.y >= sb.y - 1 && lb.y + lb.height <= sb.y + sb.height + 1, 'site-1000 label inside the visible area');
      const gauges = page.getByTestId(panelIds.gauges.container);
      await gauges.evaluate((el) => { el.scrollTop = el.scrollHeight; });
      await page.locator(`${tid(panelIds.gauges.gauge)}[data-site="site-1000"]`).waitFor({ state: 'visible', timeout: 5000 });
      await shot(page, 'panel-1000-sites-scrolled');
      await noErrors(errors);
    },
  },
  {
    name: 'panel: clicking a site follows the data link to the site dashboard',
    async run({ browser, base }) {
      const { page, errors } = await openView(browser, base, { view: 'panel', sites: '4' });
      const g = page.locator(`${tid(panelIds.gauges.gauge)}[data-site="site-0003"]`);
      assert.equal(await g.getAttribute('href'), '/d/optifiber-site?var-site=site-0003');
      await g.click();
      const url = (re) => page.waitForFunction((src) => new RegExp(src).test(location.pathname + location.search), re.source, { timeout: 10_000 })
        .catch(async () => { throw new Error(`expected ${re}, the page is at ${await page.evaluate(() => location.pathname + location.search)}`); });
      await url(/^\/d\/optifiber-site\?var-site=site-0003$/);
      const canvas = page.getByTestId(panelIds.heatmap.canvas);
      const box = await canvas.boundingBox();
      // a click with no hover before it (touch, or faster than the hover re-render) still follows the row's link
      await canvas.dispatchEvent('click', { clientX: box.x + 100, clientY: box.y + 16 * 3 + 8 });
      await url(/^\/d\/optifiber-site\?var-site=site-0004$/);
      await page.locator(`${tid(panelIds.heatmap.rowLabel)}[data-site="site-0001"]`).click();
      await url(/^\/d\/optifiber-site\?var-site=site-0001$/);
      await noErrors(errors);
    },
  },
  {
    name: 'panel: no-data state',
    async run({ browser, base, shot }) {
      const { page, errors } = await openView(browser, base, { view: 'panel', scenario: 'nodata' });
      const nd = page.getByTestId(panelIds.panel.noData);
      assert.ok(await nd.isVisible());
      assert.match(await nd.innerText(), /No data[\s\S]*labelled by site/);
      assert.equal(await page.getByTestId(panelIds.gauges.gauge).count(), 0);
      await shotAxeNoErrors({ page, errors, shot }, 'panel-no-data', 'panel no data');
    },
  },
  {
    name: 'panel: NaN and gaps (no current value, empty buckets shown as gaps)',
    async run({ browser, base, shot }) {
      const { page, errors } = await openView(browser, base, { view: 'panel', sites: '4', scenario: 'nan' });
      const g1 = page.locator(`${tid(panelIds.gauges.gauge)}[data-site="site-0001"]`);
      assert.equal(await g1.getByTestId(panelIds.gauges.utilization).innerText(), 'No data');
      const box = await page.getByTestId(panelIds.heatmap.canvas).boundingBox();
      await page.mouse.move(box.x + box.width * (130 / 500), box.y + 8);
      const tip = page.getByTestId(panelIds.tooltip.container);
      await tip.waitFor({ state: 'visible', timeout: 5000 });
      assert.match(await tip.innerText(), /Anomaly score: no data \(gap\)/);
      await shotAxeNoErrors({ page, errors, shot }, 'panel-nan-gaps', 'panel NaN and gaps');
    },
  },
  {
    name: 'panel: plain Prometheus range queries (series labelled by site)',
    async run({ browser, base, shot }) {
      const { page, errors } = await openView(browser, base, { view: 'panel', sites: '4', scenario: 'prom' });
      assert.equal(await page.getByTestId(panelIds.gauges.gauge).count(), 4);
      assert.match(await page.locator(`[data-site="site-0002"] ${tid(panelIds.gauges.utilization)}`).innerText(), /^93(\.0)?%$/, 'throughput / capacity');
      assert.equal(await page.locator(`${tid(panelIds.gauges.gauge)}[data-site="site-0003"]`).getAttribute('data-severity'), 'critical', 'optifiber_link_up = 0');
      assert.equal(await page.getByTestId(panelIds.gauges.forecastMarker).count(), 4, 'forecast quantile series');
      assert.equal(await page.getByTestId(panelIds.heatmap.rowLabel).count(), 4);
      await shotAxeNoErrors({ page, errors, shot }, 'panel-prometheus', 'panel Prometheus frames');
    },
  },
  {
    name: 'query editor: mode switching (history, live, forecast, events)',
    async run({ browser, base, shot }) {
      const { page, errors } = await openView(browser, base, { view: 'query' });
      const json = async () => JSON.parse(await page.getByTestId(harnessIds.queryJson).innerText());
      assert.equal((await json()).mode, 'history');
      assert.ok(await page.getByLabel('Step').isVisible());
      await page.getByRole('radio', { name: 'Live', exact: true }).click(); // the radio input overlays its label, as in Grafana
      assert.equal((await json()).mode, 'live');
      assert.match(await page.getByTestId(dsIds.queryEditor.modeHelp).innerText(), /long-poll/);
      assert.equal(await page.getByLabel('Step').count(), 0, 'no step in live mode');
      await page.getByRole('radio', { name: 'Forecast', exact: true }).click(); // the radio input overlays its label, as in Grafana
      const q = await json();
      assert.equal(q.mode, 'forecast');
      assert.equal(q.metric, 'utilization', 'anomaly score has no forecast: metric switched to utilization');
      assert.match(await page.getByTestId(dsIds.queryEditor.modeHelp).innerText(), /\+15 min/);
      await shot(page, 'query-editor-forecast');
      await axeCheck(page, 'query editor');
      await page.getByRole('radio', { name: 'Events', exact: true }).click(); // the radio input overlays its label, as in Grafana
      assert.equal((await json()).mode, 'events');
      assert.equal(await page.getByText('Metric', { exact: true }).count(), 0, 'no metric for events');
      assert.ok(Number(await page.getByTestId(harnessIds.queryRuns).innerText()) >= 3, 'each valid change runs the query');
      assert.deepEqual((await json()).sites, ['site-0001', '$site']);
      await noErrors(errors);
    },
  },
  {
    name: 'config editor: the secure token shows as configured and is never revealed',
    async run({ browser, base, shot }) {
      const { page, errors } = await openView(browser, base, { view: 'config' });
      const token = page.locator('#optifiber-token');
      assert.equal(await token.inputValue(), 'configured');
      assert.ok(await token.isDisabled(), 'configured secret is read-only');
      assert.equal(await page.locator('#optifiber-url').inputValue(), 'http://127.0.0.1:9886');
      await shot(page, 'config-editor-configured');
      await axeCheck(page, 'config editor');
      assert.match(await page.getByText('Read token', { exact: true }).first().innerText(), /Read token/);
      await page.getByRole('button', { name: 'Reset' }).click();
      assert.ok(await token.isEnabled());
      assert.equal(await token.inputValue(), '');
      await token.fill('s3cret');
      const opts = JSON.parse(await page.getByTestId(harnessIds.optionsJson).innerText());
      assert.equal(opts.secureJsonData.token, 's3cret', 'new secret goes to secureJsonData only');
      assert.equal(opts.secureJsonFields.token, false);
      assert.ok(!JSON.stringify(opts.jsonData).includes('s3cret'), 'never in jsonData');
      await page.getByRole('radio', { name: 'Basic auth', exact: true }).click(); // the radio input overlays its label, as in Grafana
      assert.ok(await page.locator('#optifiber-user').isVisible());
      assert.ok(await page.locator('#optifiber-password').isVisible());
      await axeCheck(page, 'config editor, basic auth');
      // the exporter URL is kept out of the data source's top-level URL (unmatched routes go nowhere)
      assert.equal(JSON.parse(await page.getByTestId(harnessIds.optionsJson).innerText()).jsonData.url, 'http://127.0.0.1:9886');
      await noErrors(errors);
    },
  },
  {
    name: 'panel (dark, light): heat-map by keyboard: Tab focuses it, arrows move between cells, the cell is announced, Enter opens the site',
    async run({ browser, base, shot }) {
      for (const theme of ['dark', 'light']) {
        const { page, errors } = await openView(browser, base, { view: 'panel', sites: '4', theme });
        const canvas = page.getByTestId(panelIds.heatmap.canvas);
        assert.equal(await canvas.getAttribute('tabindex'), '0');
        await canvas.focus();
        const live = page.getByTestId(panelIds.heatmap.announcement);
        assert.equal(await live.getAttribute('aria-live'), 'polite');
        // focus starts on the newest bucket of the first visible site
        await page.waitForFunction((sel) => /^site-0001, /.test(document.querySelector(sel).textContent), tid(panelIds.heatmap.announcement));
        await page.keyboard.press('ArrowDown');
        await page.waitForFunction((sel) => /^site-0002, \d\d:\d\d:\d\d to \d\d:\d\d:\d\d: anomaly score \d\.\d\d; Critical/.test(document.querySelector(sel).textContent), tid(panelIds.heatmap.announcement));
        assert.match(await live.innerText(), /top features crc_errors_rate 0\.520/);
        const before = await live.innerText();
        await page.keyboard.press('ArrowLeft');
        await page.waitForFunction(([sel, b]) => document.querySelector(sel).textContent !== b, [tid(panelIds.heatmap.announcement), before]);
        assert.ok(await page.getByTestId(panelIds.heatmap.cellFocus).isVisible(), 'the focused cell is outlined');
        assert.ok(await page.getByTestId(panelIds.tooltip.container).isVisible(), 'the tooltip follows the keyboard');
        await page.keyboard.press('Home');
        // the outline moves to the first bucket, right of the 120 px row labels
        await page.waitForFunction((sel) => document.querySelector(sel)?.style.left === '119px', tid(panelIds.heatmap.cellFocus));
        assert.match(await live.innerText(), /^site-0002, /);
        await shot(page, `panel-keyboard-${theme}`);
        await axeCheck(page, `heat-map keyboard focus ${theme}`);
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => location.pathname + location.search === '/d/optifiber-site?var-site=site-0002', null, { timeout: 5000 });
        await noErrors(errors);
        await page.close();
      }
    },
  },
  {
    name: 'panel (dark, light): the heat-map\'s table alternative lists every site with its state in text',
    async run({ browser, base, shot }) {
      for (const theme of ['dark', 'light']) {
        const { page, errors } = await openView(browser, base, { view: 'panel', sites: '4', theme });
        const toggle = page.getByTestId(panelIds.heatmap.tableToggle);
        assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
        await toggle.click();
        assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
        const rows = page.getByTestId(panelIds.heatmap.tableRow);
        assert.equal(await rows.count(), 4);
        assert.match(await page.locator(`${tid(panelIds.heatmap.tableRow)}[data-site="site-0003"]`).innerText(), /Critical \(link down\)[\s\S]*down/);
        assert.match(await page.locator(`${tid(panelIds.heatmap.tableRow)}[data-site="site-0002"]`).innerText(), /Peak anomaly|\d\.\d\d at \d\d:\d\d:\d\d/);
        assert.equal(await page.locator(`${tid(panelIds.heatmap.table)} th[scope=col]`).count(), 6);
        await shotAxeNoErrors({ page, errors, shot }, `panel-table-${theme}`, `heat-map table ${theme}`);
        await page.close();
      }
    },
  },
  {
    name: 'panel: a javascript: site link is never rendered (textUtil.sanitizeUrl); Grafana paths carry the sub-path',
    async run({ browser, base }) {
      const evil = await openView(browser, base, { view: 'panel', sites: '2', siteUrl: 'javascript:window.__pwned=1//${site}' });
      for (const a of await evil.page.locator(`${tid(panelIds.gauges.gauge)}, ${tid(panelIds.heatmap.rowLabel)}`).all()) {
        assert.equal(await a.getAttribute('href'), null, 'no href');
      }
      assert.doesNotMatch(await evil.page.content(), /javascript:window/);
      await evil.page.locator(tid(panelIds.gauges.gauge)).first().click();
      const canvas = evil.page.getByTestId(panelIds.heatmap.canvas);
      await canvas.focus();
      await evil.page.keyboard.press('Enter');
      assert.equal(await evil.page.evaluate(() => window.__pwned), undefined, 'the script never ran');
      await noErrors(evil.errors);
      const sub = await openView(browser, base, { view: 'panel', sites: '2', subpath: '/grafana' });
      const g = sub.page.locator(`${tid(panelIds.gauges.gauge)}[data-site="site-0002"]`);
      assert.equal(await g.getAttribute('href'), '/grafana/d/optifiber-site?var-site=site-0002');
      assert.equal(await sub.page.locator(`${tid(panelIds.heatmap.rowLabel)}[data-site="site-0001"]`).getAttribute('href'), '/grafana/d/optifiber-site?var-site=site-0001');
      await noErrors(sub.errors);
    },
  },
  {
    name: 'variable editor: regex kept exactly as typed (\\D stays \\D), invalid regex explained, labelled inputs',
    async run({ browser, base, shot }) {
      const { page, errors } = await openView(browser, base, { view: 'variable', legacy: 'sites(^\\D+$)' });
      const regex = page.getByLabel('Site regex');
      assert.equal(await regex.inputValue(), '^\\D+$', 'legacy string query read without lowercasing');
      await regex.fill('(');
      assert.match(await page.getByText(/Invalid site regex/).innerText(), /Invalid site regex "\("/);
      await regex.fill('^Dal\\D');
      await regex.blur();
      assert.deepEqual(JSON.parse(await page.getByTestId(harnessIds.variableJson).innerText()), { refId: 'OptiFiberVariable', kind: 'sites', regex: '^Dal\\D' });
      await shot(page, 'variable-editor');
      await axeCheck(page, 'variable editor');
      await page.getByRole('radio', { name: 'Metrics', exact: true }).click();
      assert.deepEqual(JSON.parse(await page.getByTestId(harnessIds.variableJson).innerText()), { refId: 'OptiFiberVariable', kind: 'metrics' });
      await noErrors(errors);
    },
  },
];
