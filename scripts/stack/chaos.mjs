#!/usr/bin/env node
// Chaos test of the local stack (issue 12, finding 17): `npm start`'s
// launcher (scripts/start.mjs) with every part, a burst of alert deliveries
// to the remediation service (each episode delivered twice, retried until
// 202 as Alertmanager does), and kill -9 of each process in turn.
// Checks, each a PASS/FAIL line:
//   - after each kill the stack is whole again (every part answers, a new
//     pid) within 30 s;
//   - no action lost: every accepted delivery decided, every episode
//     recorded, every action at a final result (none in flight, none unknown);
//   - none duplicated: at most one MCP job per Idempotency-Key applied across
//     every MCP incarnation, at most one "MCP job created" per action;
//   - kill -9 of the launcher leaves no orphan (every pid gone, every port free);
//   - a port already taken makes the launcher fail with a message naming it.
// Ports are the stack's fixed ones: run it alone or in a private network
// namespace (scripts/test-all.mjs does: unshare -n when root).
//   node scripts/stack/chaos.mjs
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { portFree } from './supervise.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const varDir = mkdtempSync(join(tmpdir(), 'optifiber-chaos-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failed = 0;
const report = (name, ok, why = '') => {
  if (!ok) failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} chaos: ${name}${ok ? '' : `: ${why}`}`);
};
const info = (m) => console.log(`# ${m}`);

const HEALTH = {
  exporter: 'http://127.0.0.1:9886/-/ready',
  remediation: 'http://127.0.0.1:9887/-/ready',
  noc: 'http://127.0.0.1:9888/messages',
  mcp: 'http://127.0.0.1:9889/-/healthy',
  prometheus: 'http://127.0.0.1:9090/-/ready',
  alertmanager: 'http://127.0.0.1:9093/-/ready',
};
const ok = async (url) => {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await r.arrayBuffer();
    return r.ok;
  } catch {
    return false;
  }
};
const pids = () => {
  try {
    return JSON.parse(readFileSync(join(varDir, 'run', 'stack.json'), 'utf8'));
  } catch {
    return {};
  }
};
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function launch(extraEnv = {}) {
  const env = {
    ...process.env,
    OPTIFIBER_VAR_DIR: varDir,
    // Many actions in a short run: no cooldown, no practical rate or module limit.
    OPTIFIBER_REMEDIATION_POLICY_COOLDOWN: '0s',
    OPTIFIBER_REMEDIATION_POLICY_RATE_LIMIT_ACTIONS: '100000',
    OPTIFIBER_REMEDIATION_POLICY_MAX_CMD_MODULES: '64',
    OPTIFIBER_REMEDIATION_EXPORTER_VERIFY_TIMEOUT: '10s',
    ...extraEnv,
  };
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(signal ?? code)));
  return { child, exited, out: () => out };
}

const secret = (n) => readFileSync(join(varDir, 'secrets', n), 'utf8').trim();
const seen = new Set(); // every pid any part ever had
const remember = () => Object.values(pids()).forEach((p) => seen.add(p));

// ---- the burst: new episodes on the four sites, each delivered twice ----
const SITES = ['MicrosoftDC', 'Dallas', 'Dobbins', 'Stone'];
const delivered = new Set();
let bursting = true;
let sent = 0;
async function deliver(fp, site) {
  const body = JSON.stringify({
    version: '4', groupKey: `{}/{remediation="auto"}:{site="${site}"}`, truncatedAlerts: 0, status: 'firing', receiver: 'remediation', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093',
    alerts: [{ status: 'firing', labels: { alertname: 'OptiFiberCapacityForecastHigh', site, remediation: 'auto', severity: 'warning' }, annotations: {}, startsAt: new Date(Date.now() - 60_000).toISOString().replace(/\d\d\.\d+Z$/, '00Z'), endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: fp }],
  });
  for (const end = Date.now() + 60_000; Date.now() < end; ) {
    try {
      const r = await fetch('http://127.0.0.1:9887/api/v1/alertmanager/webhook', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${secret('remediation_token')}` }, body, signal: AbortSignal.timeout(3000) });
      await r.arrayBuffer();
      if (r.status === 202) return true;
    } catch {
      // down: retry, as Alertmanager does
    }
    await sleep(500);
  }
  return false;
}
async function burst() {
  const inflight = [];
  for (let i = 0; bursting; i++) {
    const fp = `c4a05${String(i).padStart(6, '0')}`;
    const site = SITES[i % SITES.length];
    sent++;
    inflight.push((async () => {
      const a = await deliver(fp, site);
      const b = await deliver(fp, site); // the at-least-once re-send
      if (a && b) delivered.add(fp);
    })());
    await sleep(250);
  }
  await Promise.all(inflight);
}

try {
  // ---- a taken port is an error ----
  const blocker = createServer();
  await new Promise((r) => blocker.listen(9886, '127.0.0.1', r));
  const refused = launch();
  const code = await Promise.race([refused.exited, sleep(30_000).then(() => 'timeout')]);
  blocker.close();
  report('a taken port (9886) makes npm start fail, naming it', code === 1 && /already in use: exporter port 9886/.test(refused.out()), `exit ${code}; output: ${refused.out().slice(-400)}`);
  if (code === 'timeout') refused.child.kill('SIGKILL');

  // ---- the stack ----
  const l = launch();
  const t0 = Date.now();
  while (!/Ctrl-C to stop/.test(l.out()) && Date.now() - t0 < 90_000) {
    if (l.child.exitCode !== null) break;
    await sleep(200);
  }
  const up = /Ctrl-C to stop/.test(l.out()) && (await Promise.all(Object.values(HEALTH).map(ok))).every(Boolean);
  report('npm start brings every part up', up, l.out().slice(-1500));
  if (!up) throw new Error('stack did not start');
  info(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s; pids ${JSON.stringify(pids())}`);
  remember();

  const b = burst();
  await sleep(3000);
  for (const name of ['exporter', 'mcp', 'remediation', 'noc', 'alertmanager', 'prometheus']) {
    const before = pids()[name];
    process.kill(before, 'SIGKILL');
    const k0 = Date.now();
    let whole = false;
    while (Date.now() - k0 < 30_000) {
      const now = pids()[name];
      if (now && now !== before && alive(now) && (await Promise.all(Object.values(HEALTH).map(ok))).every(Boolean)) {
        whole = true;
        break;
      }
      await sleep(250);
    }
    remember();
    report(`kill -9 ${name}: the stack is whole again within 30 s`, whole, `pid ${before} -> ${pids()[name]}; after ${((Date.now() - k0) / 1000).toFixed(1)} s`);
    info(`${name} back after ${((Date.now() - k0) / 1000).toFixed(1)} s (pid ${before} -> ${pids()[name]})`);
    await sleep(2000);
  }
  bursting = false;
  await b;
  report('every delivery of the burst was accepted (202) in the end', delivered.size === sent, `${delivered.size} of ${sent}`);

  // ---- nothing lost, nothing duplicated ----
  const db = new Database(join(varDir, 'remediation', 'remediation.db'), { readonly: true });
  const q = (sql, ...a) => db.prepare(sql).all(...a);
  let settled = false;
  for (const end = Date.now() + 90_000; Date.now() < end && !settled; await sleep(500)) {
    settled = q("SELECT count(*) n FROM inbox WHERE state = 'pending'")[0].n === 0 && q("SELECT count(*) n FROM actions WHERE state != 'done' AND state != 'pending_approval'")[0].n === 0;
  }
  const eps = new Set(q('SELECT fingerprint FROM episodes').map((r) => r.fingerprint));
  const missing = [...delivered].filter((f) => !eps.has(f));
  report('no delivery lost: every accepted episode decided', settled && missing.length === 0, `settled ${settled}; missing ${missing.slice(0, 5)}`);
  const open = q("SELECT id, state FROM actions WHERE state != 'done'");
  const results = q('SELECT result, count(*) n FROM actions GROUP BY result');
  info(`actions by result: ${JSON.stringify(results)}; episodes ${eps.size}; deliveries sent ${sent}`);
  report('every action reached a final result (none in flight, none unknown)', open.length === 0, JSON.stringify(open));
  const twice = q("SELECT action_id, count(*) n FROM audit WHERE reason = 'MCP job created' GROUP BY action_id HAVING n > 1");
  report('at most one "MCP job created" per action', twice.length === 0, JSON.stringify(twice));
  db.close();
  // The MCP log across its incarnations: jobs by key, and which succeeded (applied).
  const keyOf = new Map();
  const succeededByKey = new Map();
  for (const line of readFileSync(join(varDir, 'log', 'mcp.log'), 'utf8').split('\n')) {
    let j;
    try {
      j = JSON.parse(line);
    } catch {
      continue;
    }
    if (j.msg === 'job created') keyOf.set(j.job, j.key);
    if (j.msg === 'job state' && j.state === 'succeeded') succeededByKey.set(keyOf.get(j.job), (succeededByKey.get(keyOf.get(j.job)) ?? 0) + 1);
  }
  const dup = [...succeededByKey].filter(([, n]) => n > 1);
  report('no action duplicated: at most one applied MCP job per Idempotency-Key', dup.length === 0 && succeededByKey.size > 0, `${JSON.stringify(dup)} (${succeededByKey.size} keys applied)`);

  // ---- no orphan after kill -9 of the launcher ----
  remember();
  process.kill(l.child.pid, 'SIGKILL');
  await l.exited;
  let orphans = [];
  let taken = [];
  for (const end = Date.now() + 10_000; Date.now() < end; await sleep(250)) {
    orphans = [...seen].filter(alive);
    taken = [];
    for (const u of Object.values(HEALTH)) if (!(await portFree(Number(new URL(u).port)))) taken.push(new URL(u).port);
    if (orphans.length === 0 && taken.length === 0) break;
  }
  report('kill -9 of the launcher leaves no orphan and no port taken', orphans.length === 0 && taken.length === 0, `alive ${orphans}; ports ${taken}`);
  for (const p of orphans) process.kill(p, 'SIGKILL');
} catch (e) {
  report('chaos run', false, e instanceof Error ? e.message : String(e));
} finally {
  for (const p of seen) if (alive(p)) process.kill(p, 'SIGKILL');
  if (existsSync(varDir) && !process.env.CHAOS_KEEP) rmSync(varDir, { recursive: true, force: true });
}
console.log(failed ? `${failed} failed` : 'all passed');
process.exit(failed ? 1 : 0);
