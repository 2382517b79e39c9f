// Live Alertmanager cases with the real prometheus-alertmanager binary and the
// rendered runtime config (no exporter needed): routing to the remediation
// webhook with the bearer token from the secrets file, Slack-format delivery
// to the NOC recorder, the three inhibit rules, and resolution.
// Used by prometheus/test.mjs; returns [{name, ok, why}].
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startNocReceiver } from '../noc-receiver.mjs';
import { renderAlertmanagerConfig, findBinaries, writeAlertmanagerTemplates } from '../../scripts/stack/prometheus.mjs';

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = /** @type {any} */ (s.address()).port; s.close(() => resolve(p)); });
  });
}

/** @param {string} alertname @param {Record<string,string>} labels */
function alert(alertname, labels, endsAt) {
  return {
    labels: { alertname, job: 'optifiber', ...labels },
    annotations: {
      summary: `${alertname} at ${labels.site ?? labels.instance}`,
      description: 'live test',
      runbook_path: `${alertname}.md`,
      dashboard_path: `d/optifiber-site?var-site=${labels.site ?? ''}`,
    },
    startsAt: new Date(Date.now() - 1000).toISOString(),
    ...(endsAt ? { endsAt } : {}),
  };
}

export async function runLiveAlertmanagerCases() {
  /** @type {{name: string, ok: boolean, why?: string}[]} */
  const results = [];
  const bins = findBinaries();
  if (!bins.alertmanager) return [{ name: 'alertmanager live', ok: false, why: 'prometheus-alertmanager not installed' }];
  const dir = mkdtempSync(join(tmpdir(), 'optifiber-am-'));
  const noc = await startNocReceiver({ port: 0 });
  const rem = await startNocReceiver({ port: 0 });
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets);
  writeFileSync(join(secrets, 'remediation_token'), 'test-token-123\n', { mode: 0o600 });
  writeFileSync(join(secrets, 'noc_slack_webhook_url'), `${noc.url}/slack/noc\n`, { mode: 0o600 });
  const cfg = join(dir, 'alertmanager.yml');
  // Bases other than the defaults: the NOC message must carry these, absolute.
  const links = { grafanaUrl: 'https://grafana.noc.example.net/ops', runbookUrl: 'https://wiki.example.net/optifiber/runbooks' };
  const templatesDir = writeAlertmanagerTemplates(join(dir, 'templates'), links);
  writeFileSync(cfg, renderAlertmanagerConfig({ secretsDir: secrets, remediationUrl: `${rem.url}/api/v1/alertmanager/webhook`, templatesDir }));
  const port = await freePort();
  const am = spawn(bins.alertmanager, [`--config.file=${cfg}`, `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  am.stderr.on('data', (d) => { stderr += d; });
  const base = `http://127.0.0.1:${port}`;
  const check = async (/** @type {string} */ name, /** @type {() => Promise<void>} */ fn) => {
    try { await fn(); results.push({ name, ok: true }); } catch (e) { results.push({ name, ok: false, why: String(/** @type {any} */ (e).message ?? e) }); }
  };
  const post = async (/** @type {any[]} */ alerts) => {
    const r = await fetch(`${base}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    if (!r.ok) throw new Error(`POST alerts: ${r.status} ${await r.text()}`);
  };
  const state = async (/** @type {string} */ alertname, /** @type {string} */ key, /** @type {string} */ val) => {
    const all = await (await fetch(`${base}/api/v2/alerts`)).json();
    return all.find((/** @type {any} */ a) => a.labels.alertname === alertname && a.labels[key] === val);
  };
  const is = (/** @type {string} */ a, /** @type {string} */ site, /** @type {string} */ status = 'firing') =>
    (/** @type {any} */ m) => m.summary.alertname === a && m.summary.site === site && m.summary.status === status;
  try {
    for (let i = 0; ; i++) {
      try { if ((await fetch(`${base}/-/ready`)).ok) break; } catch {}
      if (i > 100 || am.exitCode !== null) throw new Error(`alertmanager did not start: ${stderr}`);
      await sleep(100);
    }
    const t0 = Date.now();
    const firing = [
      alert('OptiFiberLinkDown', { severity: 'critical', site: 'Dallas', instance: 'e1' }),
      alert('OptiFiberOsnrLow', { severity: 'warning', site: 'Dallas', instance: 'e1' }),
      alert('OptiFiberAnomalyDetected', { severity: 'warning', site: 'Dallas', instance: 'e1' }),
      alert('OptiFiberOsnrLow', { severity: 'warning', site: 'Austin', instance: 'e1' }),
      alert('OptiFiberExporterDown', { severity: 'critical', instance: 'e2' }),
      alert('OptiFiberSamplesStale', { severity: 'warning', site: 'Boston', instance: 'e2' }),
      alert('OptiFiberModelDown', { severity: 'warning', model: 'forecast', instance: 'e1' }),
      alert('OptiFiberModelStale', { severity: 'warning', model: 'forecast', instance: 'e1' }),
      alert('OptiFiberCapacityForecastHigh', { severity: 'warning', remediation: 'auto', site: 'Denver', instance: 'e1' }),
    ];
    // The inhibiting alerts first, and seen by Alertmanager, then the rest: posted in
    // one batch, a loaded machine can flush an inhibited alert's group before the
    // inhibitor has indexed its source (Alertmanager's own race, not a routing fact).
    const sources = ['OptiFiberLinkDown', 'OptiFiberExporterDown', 'OptiFiberModelDown'];
    await post(firing.filter((a) => sources.includes(a.labels.alertname)));
    for (const by of sources) {
      for (let i = 0; !(await state(by, 'alertname', by)); i++) {
        if (i > 100) throw new Error(`${by} not in Alertmanager after 10 s`);
        await sleep(100);
      }
    }
    await post(firing.filter((a) => !sources.includes(a.labels.alertname)));
    await check('live: LinkDown reaches the NOC receiver in Slack format', async () => {
      const m = /** @type {any} */ (await noc.waitFor(is('OptiFiberLinkDown', 'Dallas'), 10000, t0));
      const att = m.body.attachments?.[0];
      if (!att?.title?.startsWith('[FIRING:1] OptiFiberLinkDown · Dallas')) throw new Error(`title: ${att?.title}`);
      if (!String(att.text).includes('OptiFiberLinkDown at Dallas')) throw new Error(`text: ${att.text}`);
      if (att.color !== 'danger') throw new Error(`color ${att.color}`);
      if (m.path !== '/slack/noc') throw new Error(`path ${m.path}`);
    });
    await check('live: the NOC message links the runbook and dashboard absolutely, from the configured bases', async () => {
      const m = /** @type {any} */ (await noc.waitFor(is('OptiFiberLinkDown', 'Dallas'), 10000, t0));
      const att = m.body.attachments?.[0];
      const dashboard = `${links.grafanaUrl}/d/optifiber-site?var-site=Dallas`;
      if (att.title_link !== dashboard) throw new Error(`title_link: ${att.title_link}`);
      if (!String(att.text).includes(`runbook: ${links.runbookUrl}/OptiFiberLinkDown.md · dashboard: ${dashboard}`)) throw new Error(`text: ${att.text}`);
    });
    await check('live: CapacityForecastHigh reaches remediation with the bearer token from the secrets file', async () => {
      const m = /** @type {any} */ (await rem.waitFor((x) => x.summary.alertname === 'OptiFiberCapacityForecastHigh', 10000, t0));
      if (m.authorization !== 'Bearer test-token-123') throw new Error(`authorization: ${m.authorization}`);
      if (m.path !== '/api/v1/alertmanager/webhook') throw new Error(`path ${m.path}`);
      if (m.body.version !== '4' || m.body.alerts?.[0]?.labels?.site !== 'Denver') throw new Error('payload');
    });
    await check('live: OsnrLow of another site is not inhibited', async () => { await noc.waitFor(is('OptiFiberOsnrLow', 'Austin'), 10000, t0); });
    await sleep(3000); // past group_wait of every group
    for (const [name, a, key, val, by] of [
      ['live: LinkDown inhibits OsnrLow of the same site', 'OptiFiberOsnrLow', 'site', 'Dallas', 'OptiFiberLinkDown'],
      ['live: LinkDown inhibits AnomalyDetected of the same site', 'OptiFiberAnomalyDetected', 'site', 'Dallas', 'OptiFiberLinkDown'],
      ['live: ExporterDown inhibits site alerts of its instance', 'OptiFiberSamplesStale', 'site', 'Boston', 'OptiFiberExporterDown'],
      ['live: ModelDown inhibits ModelStale of the same model', 'OptiFiberModelStale', 'model', 'forecast', 'OptiFiberModelDown'],
    ]) {
      await check(name, async () => {
        const s = await state(a, key, val);
        if (!s) throw new Error(`${a} not in Alertmanager`);
        if (s.status.state !== 'suppressed' || s.status.inhibitedBy.length === 0) throw new Error(`state ${JSON.stringify(s.status)}`);
        const got = [...noc.messages, ...rem.messages].find((m) => m.summary.alertname === a && (m.summary.site === val || key !== 'site'));
        if (got) throw new Error(`delivered although inhibited: ${JSON.stringify(got.summary)}`);
        if (!(await state(by, 'alertname', by))) throw new Error(`source ${by} missing`);
      });
    }
    await check('live: CapacityForecastHigh does not go to the NOC', async () => {
      if (noc.messages.some((m) => m.summary.alertname === 'OptiFiberCapacityForecastHigh')) throw new Error('delivered to noc');
    });
    const t1 = Date.now();
    await post([alert('OptiFiberLinkDown', { severity: 'critical', site: 'Dallas', instance: 'e1' }, new Date().toISOString())]);
    await check('live: resolved LinkDown reaches the NOC receiver', async () => {
      const m = /** @type {any} */ (await noc.waitFor(is('OptiFiberLinkDown', 'Dallas', 'resolved'), 12000, t1));
      if (!m.body.attachments[0].title.startsWith('[RESOLVED] OptiFiberLinkDown · Dallas')) throw new Error(m.body.attachments[0].title);
      if (m.body.attachments[0].color !== 'good') throw new Error('color');
    });
    await check('live: OsnrLow of the site is delivered once LinkDown resolves', async () => {
      await noc.waitFor(is('OptiFiberOsnrLow', 'Dallas'), 12000, t1);
    });
  } catch (e) {
    results.push({ name: 'live: alertmanager run', ok: false, why: String(/** @type {any} */ (e).message ?? e) });
  } finally {
    am.kill('SIGTERM');
    await new Promise((r) => { if (am.exitCode !== null) r(undefined); else am.once('exit', r); });
    await noc.close(); await rem.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
