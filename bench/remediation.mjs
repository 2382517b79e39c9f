#!/usr/bin/env node
// Remediation benchmark: webhook-to-MCP-request latency at 100 webhooks/s on
// loopback, bounded (BENCH_REM_SECONDS, default 10 s => 1000 webhooks).
// The remediation service runs as its own process (compiled dist/cli.js);
// the MCP simulator and a stub exporter (GET /api/v1/sites with 2000 sites,
// POST commands) run in this process. Every webhook is a new alert episode
// on its own site (policy: cooldown 0, no rate limit), so each one leads to
// one MCP job request. Latency = webhook POST sent (here) -> MCP job request
// received by the simulator (here): same clock. Writes bench/results/remediation.json.
// The whole closed loop (forecast crossing -> capacity visible in the pages)
// is NOT measured here: see the report in docs/remediation-api.md.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMcpSimulator } from '@optifiber/mcp-simulator';

const here = dirname(fileURLToPath(import.meta.url));
const RATE = Number(process.env.BENCH_REM_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_REM_SECONDS ?? 10);
const TOTAL = RATE * SECONDS;
const dir = mkdtempSync(join(tmpdir(), 'rem-bench-'));
const secret = (n, v) => (writeFileSync(join(dir, n), v + '\n', { mode: 0o600 }), join(dir, n));
const webhookToken = 'bench-webhook-token-0123456789';
const files = { hook: secret('hook', webhookToken), mcp: secret('mcp', 'bench-mcp-secret-0123456789') };

// Stub exporter.
const sites = new Map(Array.from({ length: TOTAL }, (_, i) => [`s${i}`, 4]));
const exporter = createServer((req, res) => {
  if (req.url === '/api/v1/sites') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ sites: [...sites].map(([name, m]) => ({ name, valid: true, cmdModules: m, cmdModulesMax: 64, capacityBps: m * 12.5e9, moduleCapacityBps: 12.5e9 })) }));
    return;
  }
  const m = /^\/api\/v1\/sites\/([^/]+)\/commands$/.exec(req.url ?? '');
  if (m) {
    req.resume();
    req.on('end', () => { sites.set(m[1], (sites.get(m[1]) ?? 4) + 1); res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{"result":"applied"}'); });
    return;
  }
  res.writeHead(404).end();
});
await new Promise((r) => exporter.listen(0, '127.0.0.1', r));
const exporterUrl = `http://127.0.0.1:${exporter.address().port}`;

const sent = new Map(); // site -> send time (ms, performance.now)
const latencies = [];
const sim = await startMcpSimulator({ port: 0, clientSecret: 'bench-mcp-secret-0123456789', exporterUrl, queuedMs: [20, 50], runningMs: [20, 50], responseDelayMs: [0, 0],
  log: (f, msg) => { if (msg === 'job created' && sent.has(f.site)) latencies.push(performance.now() - sent.get(f.site)); } });

const port = 19000 + Math.floor(Math.random() * 900);
const cli = join(here, '..', 'grafana-app-remediation', 'service', 'dist', 'cli.js');
const child = spawn(process.execPath, [cli, `--web.listen-address=127.0.0.1:${port}`, `--storage.path=${join(dir, 'rem.db')}`, `--webhook.bearer-token-file=${files.hook}`,
  `--mcp.url=${sim.url}`, `--mcp.client-secret-file=${files.mcp}`, `--exporter.url=${exporterUrl}`, '--policy.cooldown=0s', '--policy.rate-limit-actions=100000', '--policy.max-cmd-modules=64', '--log.level=error'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((r, j) => { child.stdout.on('data', (c) => c.toString().includes('listening') && r()); child.on('exit', (c) => j(new Error(`service exited ${c}`))); });

const body = (i) => JSON.stringify({ version: '4', groupKey: `g${i}`, truncatedAlerts: 0, status: 'firing', receiver: 'remediation', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093',
  alerts: [{ status: 'firing', labels: { alertname: 'OptiFiberCapacityForecastHigh', site: `s${i}`, remediation: 'auto' }, annotations: {}, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: (0x100000 + i).toString(16) }] });
const ack = [];
const t0 = performance.now();
const inflight = [];
for (let i = 0; i < TOTAL; i++) {
  const due = t0 + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const site = `s${i}`;
  sent.set(site, performance.now());
  const ts = performance.now();
  inflight.push(fetch(`http://127.0.0.1:${port}/api/v1/alertmanager/webhook`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${webhookToken}` }, body: body(i), signal: AbortSignal.timeout(10000) })
    .then((r) => { ack.push(performance.now() - ts); return r.status; }).catch(() => 0));
}
const statuses = await Promise.all(inflight);
const end = Date.now() + 15000;
while (latencies.length < TOTAL && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
child.kill('SIGTERM');
await sim.stop();
exporter.close();

const q = (a, p) => { const s = [...a].sort((x, y) => x - y); return s.length ? +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2) : null; };
const result = {
  benchmark: 'remediation webhook-to-MCP-request latency',
  date: new Date().toISOString(),
  machine: '2 shared cores, loopback; service in its own process, load generator + MCP simulator + stub exporter in the bench process',
  rateWebhooksPerSecond: RATE, durationSeconds: SECONDS, webhooksSent: TOTAL,
  accepted202: statuses.filter((s) => s === 202).length,
  mcpRequestsSeen: latencies.length,
  webhookToMcpMs: { p50: q(latencies, 0.5), p90: q(latencies, 0.9), p99: q(latencies, 0.99), max: q(latencies, 1) },
  webhookAckMs: { p50: q(ack, 0.5), p99: q(ack, 0.99) },
  targetP99Ms: 50,
  meetsTarget: q(latencies, 0.99) !== null && q(latencies, 0.99) <= 50 && latencies.length === TOTAL,
  serviceHistogramLine: metrics.split('\n').filter((l) => l.startsWith('optifiber_remediation_webhook_to_mcp_seconds_count') || l.startsWith('optifiber_remediation_webhook_to_mcp_seconds_sum')),
  wholeLoop: 'not measured: needs the real forecast metric + Prometheus/Alertmanager closed-loop harness (not built yet)',
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'remediation.json'), JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
process.exit(0);
