#!/usr/bin/env node
// Remediation replicas on one PostgreSQL, with crash and outage (issue 13,
// item 3). Real parts: Debian's PostgreSQL (a throwaway cluster,
// scripts/stack/postgres.mjs), Debian's Alertmanager (three peers gossiping over
// loopback, as the closed loop runs them: startAlertmanagerCluster in
// scripts/stack/prometheus.mjs), two service processes (dist/cli.js, --storage.url), the MCP
// simulator and a simulated exporter (test/stub-exporter.mjs: the sites'
// modules, cmd_add applied). This test posts the alerts to every Alertmanager
// peer, as Prometheus does; every peer delivers every notification to BOTH
// replicas (one webhook_config each, through a recording tap), so the
// replicas race for every episode.
//
// One run, two faults:
//   1. kill -9  a burst of episodes; replica A is SIGKILLed in the middle of
//      it (its deliveries in flight, its actions mid-MCP) and restarted 3 s
//      later. Replica B adopts A's actions when their lease (3 s here) runs
//      out.
//   2. PostgreSQL stopped for 30 s in the middle of a second burst: every
//      webhook answers 503 (Alertmanager re-sends), runners retry; then it
//      starts again and everything completes.
// Checks, per episode: exactly one action, succeeded; exactly one MCP job
// (the simulator's job table, by the episode's reference) and one cmd_add
// applied at the exporter; the audit complete (one decision, one row per
// step: submitted, job_succeeded, done); nothing half-applied (no pending
// delivery, no unfinished action, no audit row without its action, no MCP
// job without an action). A table of both phases is printed at the end.
//
//   node grafana-app-remediation/service/e2e/replicas.mjs [--peers N] [--outage-s S] [--keep] [--verbose]
// Prints PASS/FAIL lines and `N passed, N failed`; exit 1 on any failure.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startMcpSimulator } from '@optifiber/mcp-simulator';
import { findBinaries, INSTALL_HINT, startAlertmanagerCluster } from '../../../scripts/stack/prometheus.mjs';
import { freePort } from '../../../alertmanager/tests/live.mjs';
import { ALERT, reporter, ROOT, sleep, until } from './harness.mjs';
import { pgBinDir, startPgCluster } from '../../../scripts/stack/postgres.mjs';
import { startStubExporter } from '../test/stub-exporter.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
};
const PEERS = Number(arg('--peers', '3'));
const OUTAGE_MS = Number(arg('--outage-s', '30')) * 1000;
const KEEP = process.argv.includes('--keep');
const VERBOSE = process.argv.includes('--verbose');
const BURST = 12; // episodes per phase
const LEASE = '3s';
const TOTAL_MS = 4 * 60_000;
const SERVICE_CLI = join(ROOT, 'grafana-app-remediation', 'service', 'dist', 'cli.js');

const { el, say, check, cleanups, finish } = reporter({ verbose: VERBOSE, digits: 1 });

const bins = findBinaries();
if (!bins.alertmanager || !pgBinDir() || !existsSync(SERVICE_CLI)) {
  check('prerequisites', false, [!bins.alertmanager && `alertmanager (${INSTALL_HINT})`, !pgBinDir() && 'PostgreSQL (apt-get install postgresql)', !existsSync(SERVICE_CLI) && `${SERVICE_CLI} (npm run build)`].filter(Boolean).join('; '));
  await finish(1);
}
const watchdog = setTimeout(() => {
  check(`replica run finished within ${TOTAL_MS / 60000} min`, false, `still running after ${el()}`);
  void finish(1);
}, TOTAL_MS);

const work = mkdtempSync(join(tmpdir(), 'optifiber-replicas-'));
cleanups.push(() => !KEEP && rmSync(work, { recursive: true, force: true }));
const secret = (name, value) => {
  const f = join(work, name);
  writeFileSync(f, `${value}\n`, { mode: 0o600 });
  return f;
};
const webhookToken = `replicas-webhook-${Math.random().toString(36).slice(2)}-0123456789`;
const files = { webhook: secret('webhook_token', webhookToken), mcp: secret('mcp_secret', 'replicas-mcp-secret-0123456789') };

/**
 * A recording tap in front of one replica: forwards each delivery and keeps
 * {at, status} (status -1: the replica did not answer, e.g. killed), answering
 * Alertmanager what the replica answered (502 when it did not).
 */
async function startTap(name, target) {
  const seen = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const d = { at: Date.now(), status: 0, sites: [] };
      try { d.sites = JSON.parse(raw.toString()).alerts.map((a) => a.labels.site); } catch { /* forwarded as is */ }
      try {
        const r = await fetch(target, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: req.headers.authorization ?? '' }, body: raw, signal: AbortSignal.timeout(15_000) });
        d.status = r.status;
        const text = await r.text();
        res.writeHead(r.status, { 'Content-Type': 'application/json' }).end(text);
      } catch (e) {
        d.status = -1;
        res.writeHead(502).end(String(e.message ?? e));
      }
      seen.push(d);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => { server.closeAllConnections(); return new Promise((r) => server.close(r)); });
  return { name, seen, url: `http://127.0.0.1:${server.address().port}/api/v1/alertmanager/webhook` };
}

/** One service replica (a real process); restartable on the same port. */
function replica(name, port, o) {
  const logFile = join(work, `${name}.log`);
  const r = { name, port, url: `http://127.0.0.1:${port}`, child: undefined, exited: undefined, log: [] };
  r.start = async () => {
    const child = spawn(process.execPath, [SERVICE_CLI, `--web.listen-address=127.0.0.1:${port}`, `--storage.url=${o.dbUrl}`, `--storage.lease=${LEASE}`,
      `--webhook.bearer-token-file=${files.webhook}`, `--mcp.url=${o.mcpUrl}`, `--mcp.client-secret-file=${files.mcp}`, '--mcp.poll-interval=100ms', '--mcp.backoff-max=1s',
      `--exporter.url=${o.exporterUrl}`, '--exporter.verify-timeout=20s', '--policy.rate-limit-actions=1000', '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (c) => { r.log.push(c.toString()); if (r.log.length > 400) r.log.shift(); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    r.child = child;
    r.exited = new Promise((res) => child.once('exit', (code, sig) => res(sig ?? code)));
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${r.log.join('').slice(-600)}`);
      return (await fetch(`${r.url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok;
    }, 20_000, `${name} ready`, 100);
  };
  r.kill9 = async () => {
    r.child.kill('SIGKILL');
    return r.exited;
  };
  cleanups.push(async () => {
    writeFileSync(logFile, r.log.join(''));
    if (r.child && r.child.exitCode === null && r.child.signalCode === null) {
      r.child.kill('SIGTERM');
      const t = setTimeout(() => r.child.kill('SIGKILL'), 5000);
      await r.exited;
      clearTimeout(t);
    }
  });
  return r;
}

/** The closed-loop harness' Alertmanager peers (clustered over loopback gossip when more than one), stopped at the end. */
async function startAlertmanagers(n, config) {
  const webPorts = [];
  const clusterPorts = [];
  for (let i = 0; i < n; i++) {
    webPorts.push(await freePort());
    clusterPorts.push(await freePort());
  }
  const am = await startAlertmanagerCluster({ webPorts, clusterPorts, dir: join(work, 'alertmanager'), config, logLevel: 'warn', log: say });
  cleanups.push(() => am.stop());
  return am.peers;
}

// Phase 1 may draw up to SPARE more episodes (see there); phase 2 takes the next BURST.
const SPARE = 12;
const sites = Array.from({ length: 2 * BURST + SPARE }, (_, i) => `site-${String(i + 1).padStart(3, '0')}`);
const startsAt = new Date(Date.now() - 60_000).toISOString();
/** Posts the alert of one site to every peer, as Prometheus does. */
async function fire(peers, site) {
  const body = JSON.stringify([{ labels: { alertname: ALERT, site, severity: 'warning', remediation: 'auto' }, annotations: { summary: `${site} forecast high` }, startsAt, endsAt: new Date(Date.now() + 3_600_000).toISOString(), generatorURL: 'http://127.0.0.1:9090/graph' }]);
  await Promise.all(peers.map((p) => fetch(`${p.url}/api/v2/alerts`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body, signal: AbortSignal.timeout(5000) }).then((r) => { if (!r.ok) throw new Error(`alertmanager ${p.url}: ${r.status}`); })));
}

try {
  const pgc = await startPgCluster();
  cleanups.push(() => pgc.destroy());
  const dbUrl = await pgc.freshDatabase('replicas');
  // BIGINT ids as numbers, as the service reads them (store-postgres.ts)
  pg.types.setTypeParser(20, Number);
  const db = new pg.Pool({ connectionString: dbUrl, max: 2 });
  db.on('error', () => {});
  cleanups.push(() => db.end());
  const q = async (sql, params = []) => (await db.query(sql, params)).rows;
  say(`PostgreSQL ${pgc.url}`);

  const exporter = await startStubExporter({ names: sites, token: 'replicas-exporter-control-0123456789', applyDelayMs: 20 });
  cleanups.push(() => exporter.stop());
  // Jobs take 0.3-0.8 s: a kill or an outage always finds some mid-flight.
  const mcp = await startMcpSimulator({ port: 0, clientSecret: 'replicas-mcp-secret-0123456789', exporterUrl: exporter.url, exporterToken: exporter.token, queuedMs: [100, 300], runningMs: [200, 500], responseDelayMs: [0, 5] });
  cleanups.push(() => mcp.stop());

  const [portA, portB] = [await freePort(), await freePort()];
  const o = { dbUrl, mcpUrl: mcp.url, exporterUrl: exporter.url };
  const A = replica('replica-a', portA, o);
  const B = replica('replica-b', portB, o);
  await Promise.all([A.start(), B.start()]);
  const taps = [await startTap('a', `${A.url}/api/v1/alertmanager/webhook`), await startTap('b', `${B.url}/api/v1/alertmanager/webhook`)];
  const hook = (t) => `  - url: ${t.url}\n    send_resolved: false\n    http_config: {authorization: {credentials_file: ${files.webhook}}}`;
  const peers = await startAlertmanagers(PEERS, [
    'route: {receiver: replicas, group_by: [alertname, site], group_wait: 1s, group_interval: 2s, repeat_interval: 1h}',
    'receivers:', '- name: replicas', '  webhook_configs:', ...taps.map(hook), ''].join('\n'));
  check(`stack: PostgreSQL 15, ${PEERS} Alertmanager peer(s), 2 replicas, MCP simulator, exporter (${el()})`, true);

  const phases = [];
  const statsSince = (from, to = Infinity) => {
    const c = { ok: 0, e5xx: 0, refused: 0 };
    for (const t of taps) for (const d of t.seen) if (d.at >= from && d.at < to) d.status === 202 ? c.ok++ : d.status >= 500 ? c.e5xx++ : d.status === -1 ? c.refused++ : 0;
    return c;
  };
  const allDone = (n) => until(async () => (await q("SELECT count(*)::int n FROM actions WHERE state = 'done'"))[0].n >= n, 90_000, `${n} actions finished`, 250);

  // ---- phase 1: kill -9 replica A mid-burst, restart it ---------------------
  const p1 = { name: 'kill -9 replica A mid-burst', sites: [], from: Date.now() };
  const pool = sites.slice(0, BURST + SPARE);
  // Both replicas receive every delivery and race for it: from the middle of the
  // burst on, A is killed at the first moment it runs an action of its own (on a
  // loaded machine B can win several races in a row, so this is not one fixed point).
  const ofA = async () => (await q("SELECT count(*)::int n FROM actions WHERE state != 'done' AND owner LIKE '%:' || $1 || ':%'", [String(A.child.pid)]))[0].n;
  const killA = async () => {
    p1.pidA = A.child.pid;
    p1.killed = Date.now();
    await A.kill9();
    // counted once A is dead: its rows cannot change any more except by adoption
    p1.inflightOnA = await ofA();
    say(`replica A killed with ${p1.inflightOnA} of its actions in flight`);
  };
  // B can win every race of a burst (seen under load): until A owns an action, the
  // burst goes on with spare episodes. One more episode is always fired after the
  // kill, so B is seen answering a delivery of its own while A is down.
  while (p1.killed === undefined || p1.sites.length < BURST - 1) {
    if (p1.sites.length === pool.length - 1) throw new Error(`replica A ran none of ${p1.sites.length} episodes' actions: no adoption to test`);
    const s = pool[p1.sites.length];
    p1.sites.push(s);
    await fire(peers, s);
    if (p1.sites.length > BURST / 2 && p1.killed === undefined && (await until(ofA, 1000, '', 50).catch(() => 0)) > 0) await killA();
    await sleep(150);
  }
  const last = pool[p1.sites.length];
  p1.sites.push(last);
  await fire(peers, last);
  await until(() => taps[1].seen.some((d) => d.at >= p1.killed && d.sites.includes(last)), 30_000, 'replica B answered a delivery while A was down', 50);
  await sleep(Math.max(0, 3000 - (Date.now() - p1.killed)));
  await A.start();
  p1.restarted = Date.now();
  say('replica A restarted');
  await allDone(p1.sites.length);
  p1.to = Date.now();
  phases.push(p1);
  check(`kill -9: replica A killed with ${p1.inflightOnA} action(s) of its own in flight, restarted ${((p1.restarted - p1.killed) / 1000).toFixed(1)} s later; the burst's ${p1.sites.length} actions finished (${el()})`, p1.inflightOnA > 0, 'nothing of A was in flight at the kill: the test did not test adoption');
  const refusedWhileDown = statsSince(p1.killed, p1.restarted);
  const adoptedOfA = await q("SELECT count(DISTINCT action_id)::int n FROM audit WHERE decision = 'adopted' AND (details::json->>'from') LIKE '%:' || $1 || ':%'", [String(p1.pidA)]);
  check(`kill -9: the ${p1.inflightOnA} action(s) replica A had in flight were adopted after its lease ran out (audited: ${adoptedOfA[0].n})`, p1.inflightOnA > 0 && adoptedOfA[0].n === p1.inflightOnA, `${adoptedOfA[0].n} adoption(s) audited`);
  check(`kill -9: deliveries to the dead replica failed (${refusedWhileDown.refused} refused) while the other kept answering 202 (${refusedWhileDown.ok})`, refusedWhileDown.ok > 0, JSON.stringify(refusedWhileDown));

  // ---- phase 2: PostgreSQL stopped for OUTAGE_MS mid-burst ------------------
  const p2 = { name: `PostgreSQL stopped ${OUTAGE_MS / 1000} s mid-burst`, sites: sites.slice(p1.sites.length, p1.sites.length + BURST), from: Date.now() };
  const total = p1.sites.length + BURST;
  for (const [i, s] of p2.sites.entries()) {
    if (i === BURST / 2) {
      pgc.stop('fast');
      p2.stopped = Date.now();
      say('PostgreSQL stopped');
    }
    await fire(peers, s);
    await sleep(150);
  }
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - p2.stopped)));
  const during = statsSince(p2.stopped, Date.now());
  const readyDuring = await Promise.all([A, B].map((r) => fetch(`${r.url}/-/ready`).then((x) => x.status, () => -1)));
  pgc.start();
  p2.started = Date.now();
  const alive = [A, B].map((r) => (r.child.exitCode === null && r.child.signalCode === null ? 'up' : `exited ${r.child.exitCode ?? r.child.signalCode}`));
  check(`outage: both replicas stayed up without their database (${alive.join(', ')})`, alive.every((x) => x === 'up'), [A, B].map((r) => `${r.name}: ${r.log.join('').slice(-1500)}`).join('\n'));
  say('PostgreSQL started');
  check(`outage: while PostgreSQL was down every delivery answered 5xx (${during.e5xx} x 5xx, ${during.ok} x 202) and both replicas reported not ready (${readyDuring.join(', ')})`, during.e5xx > 0 && during.ok === 0 && readyDuring.every((s) => s === 503), JSON.stringify({ during, readyDuring }));
  await allDone(total);
  p2.to = Date.now();
  phases.push(p2);
  const after = statsSince(p2.started, p2.to);
  check(`outage: after PostgreSQL returned, Alertmanager's re-sent deliveries were accepted (${after.ok} x 202) and all ${total} actions finished ${((p2.to - p2.started) / 1000).toFixed(1)} s later`, after.ok > 0, JSON.stringify(after));

  // ---- the invariants, per episode ------------------------------------------
  await sleep(1500); // late duplicate deliveries still in flight land (and must stay skips)
  const actions = await q('SELECT * FROM actions ORDER BY id');
  const audit = await q('SELECT * FROM audit ORDER BY id');
  const jobs = [...mcp.jobs.values()];
  const stats = await (await fetch(`${mcp.url}/sim/stats`)).json();
  const perEpisode = (p) => p.sites.map((site) => {
    const acts = actions.filter((a) => a.site === site);
    const a = acts[0];
    const rows = a ? audit.filter((r) => r.action_id === a.id) : [];
    const count = (f) => rows.filter(f).length;
    return {
      site,
      actions: acts.length,
      succeeded: a?.result === 'succeeded',
      jobs: a ? jobs.filter((j) => j.reference === a.episode_key).length : jobs.filter((j) => j.site === site).length,
      applied: exporter.cmdAdds.filter((c) => c.site === site).length,
      auditOk: !!a && count((r) => r.kind === 'decision' && r.decision === 'act') === 1 && count((r) => r.kind === 'step' && r.status === 'submitted' && r.decision !== 'adopted') === 1 &&
        count((r) => r.kind === 'step' && r.status === 'job_succeeded' && r.decision !== 'adopted') === 1 && count((r) => r.kind === 'step' && r.status === 'done' && r.decision === 'succeeded') === 1,
      adopted: count((r) => r.decision === 'adopted'),
      modules: exporter.sites.get(site).cmdModules,
    };
  });
  const table = [];
  for (const p of phases) {
    const eps = perEpisode(p);
    const c = statsSince(p.from, p.to);
    const row = {
      phase: p.name, episodes: eps.length, deliveries: c.ok + c.e5xx + c.refused, 'answered 202': c.ok, 'answered 5xx': c.e5xx, 'replica down': c.refused,
      actions: eps.reduce((n, e) => n + e.actions, 0), succeeded: eps.filter((e) => e.succeeded).length, 'MCP jobs': eps.reduce((n, e) => n + e.jobs, 0),
      'cmd_add applied': eps.reduce((n, e) => n + e.applied, 0), 'audit complete': eps.filter((e) => e.auditOk).length, 'adopted (audited)': eps.reduce((n, e) => n + e.adopted, 0),
      lost: eps.filter((e) => !e.succeeded).length,
    };
    table.push(row);
    const bad = eps.filter((e) => e.actions !== 1 || !e.succeeded || e.jobs !== 1 || e.applied !== 1 || !e.auditOk || e.modules !== 5);
    check(`${p.name}: each of ${eps.length} episodes has exactly one action (succeeded), one MCP job, one cmd_add applied (4 -> 5 modules) and its complete audit; 0 lost`, bad.length === 0, JSON.stringify(bad));
  }
  const pending = (await q("SELECT count(*)::int n FROM inbox WHERE state = 'pending'"))[0].n;
  const unfinished = actions.filter((a) => a.state !== 'done').length;
  const orphanAudit = audit.filter((r) => r.action_id !== null && !actions.some((a) => a.id === r.action_id)).length;
  const orphanJobs = jobs.filter((j) => !actions.some((a) => a.episode_key === j.reference)).length;
  check(`nothing half-applied: ${pending} pending deliveries, ${unfinished} unfinished actions, ${orphanAudit} audit rows without their action, ${orphanJobs} MCP jobs without an action (MCP applied ${Object.values(stats.applied ?? {}).reduce((a, b) => a + b, 0)} in all)`,
    pending === 0 && unfinished === 0 && orphanAudit === 0 && orphanJobs === 0 && actions.length === total);
  const skips = audit.filter((r) => r.kind === 'decision' && r.decision === 'skip').length;
  console.log(`# ${PEERS} Alertmanager peer(s) x 2 replicas on PostgreSQL; ${taps.reduce((n, t) => n + t.seen.length, 0)} deliveries in all, ${skips} duplicate decisions audited as skips`);
  const cols = Object.keys(table[0]);
  const w = cols.map((c) => Math.max(c.length, ...table.map((r) => String(r[c]).length)));
  console.log(`# | ${cols.map((c, i) => c.padEnd(w[i])).join(' | ')} |`);
  console.log(`# |${w.map((n) => '-'.repeat(n + 2)).join('|')}|`);
  for (const r of table) console.log(`# | ${cols.map((c, i) => String(r[c]).padEnd(w[i])).join(' | ')} |`);
} catch (e) {
  check('replica run', false, e?.stack ?? String(e));
}
clearTimeout(watchdog);
await finish();
