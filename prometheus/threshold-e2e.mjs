#!/usr/bin/env node
// Thresholds as data, end to end with the real binaries (issue 14):
// exporter + simulator (sites Dallas and Stone), the remediation service
// (which stores the thresholds and exports optifiber_override_*), Debian's
// Prometheus with the repository's rules and scrape config, and Alertmanager.
//   1. an Editor raises Dallas' OSNR floor above its current OSNR through the
//      service's API (what the Settings page sends, with a reason):
//      OptiFiberOsnrLow fires for Dallas at Alertmanager, not for Stone;
//   2. the floor is put back below the OSNR: the alert resolves.
// Save -> firing and save -> resolved are timed (PUT answered -> alert
// active / gone at Alertmanager's API) and written to
// bench/results/threshold-e2e.json with the scrape and `for:` settings that
// bound them. The service listens on 127.0.0.1:9887, the address the
// checked-in prometheus.yml scrapes: run this in a private network
// namespace (unshare -n), as npm test's suites are. PASS/FAIL lines; exit 1
// on failure. --no-bench (npm test) leaves bench/results/ alone.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../alertmanager/tests/live.mjs';
import { findBinaries, INSTALL_HINT, startPrometheusStack } from '../scripts/stack/prometheus.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERVICE = join(ROOT, 'grafana-app-remediation/service/dist/cli.js');
const SITE = 'Dallas';
const OTHER = 'Stone';
let failed = 0;
const report = (name, ok, why = '') => {
  if (!ok) failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${!ok && why ? `: ${why}` : ''}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn().catch((e) => ({ error: e.message }));
    if (last && !last.error && last.ok !== false) return last;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}; last: ${JSON.stringify(last).slice(0, 300)}`);
    await sleep(100);
  }
}

if (!findBinaries().prometheus || !findBinaries().alertmanager) {
  report('threshold end to end', false, `Prometheus/Alertmanager missing: ${INSTALL_HINT}`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'optifiber-thr-e2e-'));
const children = [];
let stack = null;
try {
  const token = 'threshold-e2e-proxy-token-0123456789';
  writeFileSync(join(work, 'api_token'), `${token}\n`, { mode: 0o600 });
  writeFileSync(join(work, 'webhook_token'), 'threshold-e2e-webhook-token-0123\n', { mode: 0o600 });
  writeFileSync(join(work, 'mcp_secret'), 'threshold-e2e-mcp-secret-0123\n', { mode: 0o600 });
  const expPort = await freePort();
  const expUrl = `http://127.0.0.1:${expPort}`;
  mkdirSync(join(work, 'sim'));
  children.push(spawn(process.execPath, [join(ROOT, 'exporter/dist/cli.js'), 'start', `--web.listen-address=127.0.0.1:${expPort}`,
    `--simulator.sites=${SITE},${OTHER}`, `--simulator.dir=${join(work, 'sim')}`, '--simulator.fault-rate=0', '--log.level=warn'], { stdio: ['ignore', 'ignore', 'inherit'] }));
  children.push(spawn(process.execPath, [SERVICE, '--web.listen-address=127.0.0.1:9887', `--api.proxy-token-file=${join(work, 'api_token')}`,
    `--webhook.bearer-token-file=${join(work, 'webhook_token')}`, `--storage.path=${join(work, 'rem.db')}`, `--mcp.url=http://127.0.0.1:${await freePort()}`,
    `--mcp.client-secret-file=${join(work, 'mcp_secret')}`, `--exporter.url=${expUrl}`, '--log.level=error'], { stdio: ['ignore', 'ignore', 'inherit'] }));
  stack = await startPrometheusStack({ exporterUrl: expUrl, varDir: join(work, 'var'), prometheusPort: await freePort(), alertmanagerPort: await freePort(),
    remediationUrl: `http://127.0.0.1:${await freePort()}/api/v1/alertmanager/webhook`, timeoutMs: 60_000, quiet: true, logLevel: 'warn', log: () => {} });
  const prom = stack.urls.prometheus;
  const am = stack.urls.alertmanager;
  await until(async () => {
    const t = await (await fetch(`${prom}/api/v1/targets?state=active`)).json();
    return { ok: t.data.activeTargets.some((x) => x.labels.job === 'remediation' && x.health === 'up') };
  }, 60_000, 'the remediation target up in Prometheus');
  report('stack up: exporter and remediation service scraped by Prometheus', true);

  const api = (body) => fetch('http://127.0.0.1:9887/api/v1/thresholds', { method: 'PUT', body: JSON.stringify(body),
    headers: { Authorization: `Bearer ${token}`, 'X-OptiFiber-Role': 'Editor', 'X-Grafana-User': 'devops', 'Content-Type': 'application/json' } });
  const osnr = async () => (await (await fetch(`${expUrl}/api/v1/snapshot`)).json()).sites.find((s) => s.name === SITE).osnrDb;
  const amAlerts = async () => (await (await fetch(`${am}/api/v2/alerts?active=true&silenced=false&inhibited=true&filter=${encodeURIComponent('alertname="OptiFiberOsnrLow"')}`)).json());
  const firingFor = async (site) => (await amAlerts()).filter((a) => a.labels.site === site);

  const now = await osnr();
  report(`no OptiFiberOsnrLow before the change (${SITE} OSNR ${now.toFixed(1)} dB)`, (await firingFor(SITE)).length === 0);
  const high = Math.min(60, Math.ceil(now + 5));
  let r = await api({ scope: SITE, threshold: 'osnr_low_db', value: high, reason: 'e2e: long-haul span, tighter floor' });
  const saved = Date.now();
  report(`PUT ${SITE} osnr_low_db = ${high} dB answered 200`, r.status === 200, `${r.status} ${await r.text()}`);
  await until(async () => ({ ok: (await firingFor(SITE)).length > 0 }), 120_000, `OptiFiberOsnrLow for ${SITE} at Alertmanager`);
  const fireS = (Date.now() - saved) / 1000;
  report(`OptiFiberOsnrLow fires for ${SITE} after its floor was raised (${fireS.toFixed(1)} s after the save)`, true);
  report(`not for ${OTHER} (no override there)`, (await firingFor(OTHER)).length === 0);
  const eff = await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(`site:optifiber_osnr_low_threshold_db:effective{site="${SITE}"}`)}`)).json();
  report(`Prometheus' effective threshold for ${SITE} is the override`, Number(eff.data.result[0]?.value[1]) === high, JSON.stringify(eff.data.result));

  const low = Math.max(0, Math.floor((await osnr()) - 8));
  r = await api({ scope: SITE, threshold: 'osnr_low_db', value: low, reason: 'e2e: span repaired' });
  const lowered = Date.now();
  report(`PUT ${SITE} osnr_low_db = ${low} dB answered 200`, r.status === 200);
  await until(async () => ({ ok: (await firingFor(SITE)).length === 0 }), 120_000, `OptiFiberOsnrLow for ${SITE} resolved at Alertmanager`);
  const resolveS = (Date.now() - lowered) / 1000;
  report(`the alert resolves after the floor was put back (${resolveS.toFixed(1)} s after the save)`, true);

  if (!failed && !process.argv.includes('--no-bench')) {
    const out = join(ROOT, 'bench/results/threshold-e2e.json');
    writeFileSync(out, JSON.stringify({
      what: 'save (PUT /api/v1/thresholds answered) -> OptiFiberOsnrLow active at Alertmanager, and -> gone after the floor is put back',
      measuredAt: new Date().toISOString(),
      saveToFiringSeconds: Number(fireS.toFixed(1)),
      saveToResolvedSeconds: Number(resolveS.toFixed(1)),
      bounds: 'remediation scrape_interval 15 s (prometheus.yml) + rule evaluation 1 s + OptiFiberOsnrLow for: 15s + Alertmanager API; resolve: scrape + evaluation',
      runs: 1,
      setup: 'one run; exporter + user-space simulator (Dallas, Stone), remediation service, Debian prometheus 2.42 and alertmanager 0.25 on loopback, in a private network namespace, on a shared 2-core machine',
    }, null, 2) + '\n');
    console.log(`INFO wrote ${out}`);
  }
} catch (e) {
  report('threshold end to end', false, e.message);
} finally {
  await stack?.stop().catch(() => {});
  for (const c of children) c.kill('SIGTERM');
  await sleep(300);
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
