// The REAL remediation service (grafana-app-remediation/service/dist/cli.js)
// and the REAL MCP simulator (mcp-simulator/dist/cli.js) as child processes on
// loopback, with a tiny stub exporter (sites + control endpoint) in this
// process, seeded with a realistic history through Alertmanager v4 webhooks:
// succeeded actions, a duplicate delivery, a non-remediable alert, a dry run,
// and three actions waiting for approval.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStubExporter } from '../../grafana-app-remediation/service/test/stub-exporter.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVICE_CLI = join(root, 'grafana-app-remediation/service/dist/cli.js');
export const MCP_CLI = join(root, 'mcp-simulator/dist/cli.js');
export const SITES = ['paris-1', 'lyon-2', 'berlin-3', 'madrid-4', 'oslo-5'];

// Children must not outlive the test process (Ctrl-C, a killed runner).
const live = new Set();
const killAll = () => { for (const c of live) c.kill('SIGKILL'); };
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { killAll(); process.exit(128 + (sig === 'SIGINT' ? 2 : 15)); });

function spawnAndWait(args, re, what, env = {}) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${what} did not start in 20 s: ${out}${err}`)); }, 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = re.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }); }
    });
    child.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited with ${code}: ${err}`)); });
  });
}

function stopChild(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    child.kill('SIGTERM');
  });
}

export async function startRemediationStack() {
  const dir = mkdtempSync(join(tmpdir(), 'optifiber-app-e2e-'));
  const secret = (name) => { const v = randomBytes(24).toString('base64url'); const p = join(dir, name); writeFileSync(p, v + '\n', { mode: 0o600 }); return { value: v, file: p }; };
  const apiToken = secret('api_token');
  const webhookToken = secret('webhook_token');
  const mcpSecret = secret('mcp_secret');
  const exporterToken = secret('exporter_token');
  const exporter = await startStubExporter({ names: SITES, token: exporterToken.value });
  const children = [];
  try {
    const mcp = await spawnAndWait([MCP_CLI, '--listen=127.0.0.1:0', `--exporter-url=${exporter.url}`, `--exporter-token-file=${exporterToken.file}`, `--client-secret-file=${mcpSecret.file}`, '--queued-ms=5,15', '--running-ms=10,30'], /listening on (http:\/\/[0-9.:]+)/, 'MCP simulator');
    children.push(mcp.child);
    const svc = await spawnAndWait([SERVICE_CLI, '--web.listen-address=127.0.0.1:0', `--api.proxy-token-file=${apiToken.file}`, `--webhook.bearer-token-file=${webhookToken.file}`,
      `--storage.path=${join(dir, 'remediation.db')}`, `--mcp.url=${mcp.url}`, `--mcp.client-secret-file=${mcpSecret.file}`, '--mcp.poll-interval=20ms', `--exporter.url=${exporter.url}`,
      '--exporter.verify-timeout=5s', '--policy.cooldown=0s', '--policy.rate-limit-actions=100', '--log.level=error'], /listening on (http:\/\/[0-9.:]+)/, 'remediation service');
    children.push(svc.child);
    const stack = {
      dir, exporter, mcpUrl: mcp.url, serviceUrl: svc.url, apiToken: apiToken.value,
      /** An MCP bearer token of the service's OAuth client (to read jobs as the service can). */
      async mcpToken() {
        const r = await fetch(`${mcp.url}/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`optifiber-remediation:${mcpSecret.value}`).toString('base64')}` }, body: 'grant_type=client_credentials&scope=provisioning' });
        if (r.status !== 200) throw new Error(`MCP token: ${r.status} ${await r.text()}`);
        return (await r.json()).access_token;
      },
      /** Direct call to the service as Grafana's proxy would make it (token + role header). */
      async api(method, path, { role = 'Admin', user = 'ops-lead', body } = {}) {
        const r = await fetch(`${svc.url}/api/v1${path}`, { method, headers: { Authorization: `Bearer ${apiToken.value}`, 'X-OptiFiber-Role': role, 'X-Grafana-User': user, ...(body ? { 'Content-Type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
        return { status: r.status, data: await r.json().catch(() => null) };
      },
      async webhook(alerts) {
        const r = await fetch(`${svc.url}/api/v1/alertmanager/webhook`, { method: 'POST', headers: { Authorization: `Bearer ${webhookToken.value}`, 'Content-Type': 'application/json' }, body: JSON.stringify(payload(alerts)) });
        if (r.status !== 202) throw new Error(`webhook: ${r.status} ${await r.text()}`);
      },
      async until(fn, what, ms = 10_000) {
        const end = Date.now() + ms;
        for (;;) {
          const v = await fn();
          if (v) return v;
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 30));
        }
      },
      async stop() {
        await Promise.all(children.map(stopChild));
        await exporter.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    await seed(stack);
    return stack;
  } catch (e) {
    await Promise.all(children.map(stopChild));
    await exporter.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

let fp = 0;
export function alert(site, o = {}) {
  const labels = { alertname: 'OptiFiberCapacityForecastHigh', severity: 'warning', instance: '127.0.0.1:9886', job: 'optifiber', site };
  if (o.remediation !== null) labels.remediation = 'auto';
  return {
    status: o.status ?? 'firing', labels, annotations: { summary: `forecast utilization of ${site} above 90 %` },
    startsAt: o.startsAt ?? new Date(Date.now() - 60_000).toISOString(), endsAt: '0001-01-01T00:00:00Z',
    generatorURL: `http://127.0.0.1:9090/graph?g0.expr=optifiber_forecast_utilization%7Bsite%3D%22${site}%22%7D+%3E+0.9`,
    fingerprint: o.fingerprint ?? (++fp).toString(16).padStart(16, 'a'),
  };
}

function payload(alerts) {
  return { version: '4', groupKey: '{}/{remediation="auto"}:{alertname="OptiFiberCapacityForecastHigh"}', truncatedAlerts: 0, status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'remediation', groupLabels: { alertname: 'OptiFiberCapacityForecastHigh' }, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093', alerts };
}

async function seed(s) {
  const actions = async () => (await s.api('GET', '/actions?limit=1000')).data.actions;
  const settled = (n) => s.until(async () => { const a = await actions(); return a.length >= n && a.every((x) => x.state === 'done' || x.state === 'pending_approval') && a; }, `${n} settled actions`);
  // 1. automatic action on paris-1, delivered twice (Alertmanager at-least-once): one action
  const a1 = alert('paris-1');
  await s.webhook([a1]);
  await s.webhook([a1]);
  // 2. an alert that is not labelled for remediation: audited skip
  await s.webhook([alert('lyon-2', { remediation: null })]);
  // 3. automatic action on lyon-2
  await s.webhook([alert('lyon-2')]);
  await settled(2);
  // 4. a dry run on madrid-4
  // Mode changes are Admin-only (the service's role matrix).
  if ((await s.api('PUT', '/policies', { role: 'Admin', user: 'ops-lead', body: { dry_run: true } })).status !== 200) throw new Error('seed: dry_run');
  await s.webhook([alert('madrid-4')]);
  await settled(3);
  // 5. approval mode: three actions wait for an Admin
  if ((await s.api('PUT', '/policies', { role: 'Admin', user: 'ops-lead', body: { dry_run: false, approval_required: true, sites: { 'berlin-3': { cooldown_seconds: 1800 } } } })).status !== 200) throw new Error('seed: approval');
  await s.webhook([alert('berlin-3'), alert('oslo-5')]);
  await s.webhook([alert('madrid-4')]);
  await s.until(async () => (await s.api('GET', '/approvals')).data.approvals.length === 3, 'three pending approvals');
  const all = await actions();
  const ok = all.filter((a) => a.result === 'succeeded').length;
  if (ok !== 2) throw new Error(`seed: expected 2 succeeded actions, got ${JSON.stringify(all.map((a) => [a.site, a.state, a.result, a.reason]))}`);
}
