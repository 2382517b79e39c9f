#!/usr/bin/env node
// Remediation database size under a flood of duplicate deliveries (issue 12,
// finding 14) -> bench/results/remediation-retention.json
//
// The compiled service (dist/cli.js, its own process) with the MCP simulator
// and a stub exporter in this process. One alert episode is delivered once
// (it acts: one MCP job), then re-delivered as Alertmanager does at least
// once: BENCH_RET_TOTAL (default 100,000) duplicate deliveries over
// keep-alive connections, 64 in flight. The database size (main file + WAL)
// is read after 1,000 duplicates (the baseline, same run) and at the end;
// the target is end <= 2 x baseline. Bounded: BENCH_RET_SECONDS (900 s;
// about 200 deliveries/s here, each one fsync'd before its 202).
//
//   node bench/remediation-retention.mjs
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startMcpSimulator } from '@optifiber/mcp-simulator';
import { startStubExporter } from '../grafana-app-remediation/service/test/stub-exporter.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const RESULT = join(here, 'results', 'remediation-retention.json');
const CLI = join(here, '..', 'grafana-app-remediation', 'service', 'dist', 'cli.js');
const TOTAL = Number(process.env.BENCH_RET_TOTAL ?? 100_000);
const BASE_AT = 1000;
const DEADLINE = Date.now() + Number(process.env.BENCH_RET_SECONDS ?? 900) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'bench-ret-'));
const secret = (n, v) => (writeFileSync(join(dir, n), v + '\n', { mode: 0o600 }), join(dir, n));
const token = 'bench-webhook-token-0123456789';
const mcpSecret = 'bench-mcp-secret-0123456789';
const db = join(dir, 'rem.db');
const exp = await startStubExporter({ names: ['paris-1'], token: 'exporter-token-0123456789abc', applyDelayMs: 5 });
const sim = await startMcpSimulator({ port: 0, clientSecret: mcpSecret, exporterUrl: exp.url, exporterToken: exp.token, queuedMs: [5, 10], runningMs: [5, 10] });
const port = 29000 + Math.floor(Math.random() * 1000);
const child = spawn(process.execPath, [CLI, `--web.listen-address=127.0.0.1:${port}`, `--storage.path=${db}`, `--webhook.bearer-token-file=${secret('t', token)}`,
  `--mcp.url=${sim.url}`, `--mcp.client-secret-file=${secret('m', mcpSecret)}`, `--exporter.url=${exp.url}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  child.stdout.on('data', (c) => String(c).includes('listening') && resolve());
  child.on('exit', (c) => reject(new Error(`service exited ${c}`)));
});

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const body = JSON.stringify({
  version: '4', groupKey: '{}/{remediation="auto"}:{alertname="OptiFiberCapacityForecastHigh", site="paris-1"}', truncatedAlerts: 0, status: 'firing', receiver: 'remediation',
  groupLabels: { alertname: 'OptiFiberCapacityForecastHigh' }, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093',
  alerts: [{ status: 'firing', labels: { alertname: 'OptiFiberCapacityForecastHigh', site: 'paris-1', remediation: 'auto', severity: 'warning' }, annotations: { summary: 'forecast high', description: 'x'.repeat(600) },
    startsAt: '2026-11-21T18:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=x', fingerprint: 'a1b2c3d4e5f60718' }],
});
const post = () => new Promise((resolve) => {
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/alertmanager/webhook', agent, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode));
  });
  req.on('error', () => resolve(0));
  req.end(body);
});
const fileSize = (f) => (existsSync(f) ? statSync(f).size : 0);
/**
 * Bytes on disk: as found (main + WAL; the WAL cycles between 0 and about
 * 4 MiB: wal_autocheckpoint, journal_size_limit) and after a TRUNCATE
 * checkpoint from a second connection (what the data itself takes).
 */
function size() {
  const asFound = fileSize(db) + fileSize(db + '-wal');
  const c = new Database(db);
  c.pragma('busy_timeout = 5000');
  c.pragma('wal_checkpoint(TRUNCATE)');
  const rows = c.prepare("SELECT (SELECT count(*) FROM inbox) inbox, (SELECT count(*) FROM audit) audit, (SELECT deliveries FROM episodes LIMIT 1) deliveries").get();
  c.close();
  return { asFound, checkpointed: fileSize(db) + fileSize(db + '-wal'), rows };
}
let sent = 0;
let accepted = 0;
async function sendUntil(n) {
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (sent < n && Date.now() < DEADLINE) {
      sent++;
      if ((await post()) === 202) accepted++;
    }
  }));
  await sleep(1500); // the queue drains and the sweep (every 1000 deliveries) runs
}

const t0 = Date.now();
await sendUntil(1); // the first delivery acts
await sendUntil(1 + BASE_AT);
const baseline = { deliveries: sent, bytes: size() };
await sendUntil(1 + TOTAL);
const end = { deliveries: sent, bytes: size() };
const seconds = (Date.now() - t0) / 1000;
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await sim.stop();
await exp.stop();
agent.destroy();

const ratio = +(end.bytes.checkpointed / baseline.bytes.checkpointed).toFixed(2);
const ratioAsFound = +(end.bytes.asFound / baseline.bytes.asFound).toFixed(2);
const result = {
  benchmark: 'remediation: database size (main + WAL) after 100,000 duplicate webhook deliveries vs after 1,000 (same run)',
  date: new Date().toISOString(),
  deliveriesSent: sent,
  accepted202: accepted,
  mcpJobs: sim.stats().jobsCreated,
  afterBaseline: baseline,
  atEnd: end,
  ratio,
  ratioAsFound,
  target: 'ratio (checkpointed bytes, end / after 1,000) <= 2',
  pass: ratio <= 2 && end.deliveries === 1 + TOTAL && accepted === sent,
  seconds: +seconds.toFixed(1),
  deliveriesPerSecond: Math.round(sent / seconds),
};
writeFileSync(RESULT, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
process.exit(result.pass ? 0 : 1);
