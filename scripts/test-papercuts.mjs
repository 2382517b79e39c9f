#!/usr/bin/env node
// What a new user hits first (issue 14, item 6), checked for real:
//   1. `npx optifiber` after `npm ci`: a workspace replica with this repo's
//      cli package.json (the package that owns the `optifiber` bin) is
//      installed by the real npm (offline, no dependencies), and
//      `npx optifiber --help` must run. The same replica with a `dist/main.js`
//      bin is the control: npm links nothing and npx fails, so the check can
//      fail.
//   2. `optifiber top` next to a running `npm start`: scripts/start.mjs is
//      started (it opens the stack's fixed ports: run this in a private
//      network namespace, as npm test's suites are), then `optifiber top`
//      (not a TTY: plain frames) must show that stack's pages, not a private
//      simulator's.
//   3. That stack is started as `npm start -- --ha` (issue 13; the default
//      `npm start` is what the chaos suite runs): three Alertmanager peers
//      must form one cluster, Prometheus must send to all three, and
//      VictoriaMetrics must hold the recording rules' series Prometheus
//      remote_writes.
// Prints PASS/FAIL lines (scripts/test-all.mjs counts them).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let failed = 0;
const line = (ok, name, why = '') => {
  if (!ok) failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${!ok && why ? `: ${why.replace(/\s+/g, ' ').slice(0, 400)}` : ''}`);
};

/** A workspace like this repo's root, holding only the cli package (its name and bin). */
function replica(bin) {
  const dir = mkdtempSync(join(tmpdir(), 'optifiber-npx-'));
  const pkg = JSON.parse(readFileSync(join(root, 'cli/package.json'), 'utf8'));
  mkdirSync(join(dir, 'cli/bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'replica', private: true, workspaces: ['cli'] }));
  writeFileSync(join(dir, 'cli/package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: 'module', bin: bin ?? pkg.bin }));
  // what a fresh clone holds at install time: the committed files, not dist/
  for (const target of Object.values(bin ?? pkg.bin)) {
    if (!target.startsWith('dist/')) copyFileSync(join(root, 'cli', target), join(dir, 'cli', target));
  }
  const npm = (args) => spawnSync('npm', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  const install = npm(['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts']);
  if (install.status !== 0) throw new Error(`npm install failed: ${install.stderr}`);
  // `npm run build` happens after `npm ci`: the build output appears later
  symlinkSync(join(root, 'cli/dist'), join(dir, 'cli/dist'));
  return { dir, npx: (args) => npm(['exec', '--offline', '--', ...args]), done: () => rmSync(dir, { recursive: true, force: true }) };
}

function npxCase() {
  const name = 'npx optifiber --help works in a fresh install (the bin is a committed file)';
  const r = replica();
  try {
    const out = r.npx(['optifiber', '--help']);
    line(out.status === 0 && /^usage: optifiber <command>/m.test(out.stdout), name, `exit ${out.status}: ${out.stderr}`);
  } finally {
    r.done();
  }
  const control = replica({ optifiber: 'dist/main.js' });
  try {
    const out = control.npx(['optifiber', '--help']);
    line(out.status !== 0, 'control: a bin pointing at dist/ (built after install) is not linked, npx fails', `exit ${out.status}`);
  } finally {
    control.done();
  }
}

async function waitFor(fn, ms, what) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function topCase() {
  const name = 'optifiber top next to a running npm start shows that stack\'s pages';
  const stackFile = join(root, 'var/stack.json');
  const start = spawn(process.execPath, [join(root, 'scripts/start.mjs'), '--ha', `--links.grafana-url=${LINKS.grafana}`, `--links.runbook-url=${LINKS.runbook}`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let startOut = '';
  start.stdout.on('data', (c) => { startOut += c; });
  start.stderr.on('data', (c) => { startOut += c; });
  try {
    const stack = await waitFor(async () => existsSync(stackFile) && JSON.parse(readFileSync(stackFile, 'utf8')), 90_000, 'var/stack.json');
    const snap = await (await fetch(`${stack.exporterUrl}/api/v1/snapshot`)).json();
    const top = spawn(process.execPath, [join(root, 'cli/bin/optifiber.mjs'), 'top'], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    top.stdout.on('data', (c) => { out += c; });
    top.stderr.on('data', (c) => { err += c; });
    try {
      await waitFor(async () => /\n\n/.test(out), 15_000, 'a frame from optifiber top');
    } finally {
      top.kill('SIGTERM');
    }
    const header = out.split('\n')[0] ?? '';
    const names = snap.sites.map((s) => s.name);
    const ok = header.startsWith(`optifiber top  ${stack.source.path} `) && stack.source.path === snap.source.path
      && names.every((n) => out.includes(n)) && /showing the pages of the running stack/.test(err);
    line(ok, name, `header ${JSON.stringify(header)}, stack ${JSON.stringify(stack.source)}, exporter source ${snap.source.path}, stderr ${err}`);
    linksCase(startOut);
    await haCase(() => startOut);
  } catch (e) {
    line(false, name, `${e.message}; npm start said: ${startOut.slice(-600)}`);
  } finally {
    start.kill('SIGTERM');
    await new Promise((r) => start.once('close', r));
  }
  line(!existsSync(stackFile), 'npm start removes var/stack.json when it stops');
}

// Bases a deployment would set (trailing slash dropped, as linkBase() does).
const LINKS = { grafana: 'https://grafana.noc.example.net/', runbook: 'https://wiki.example.net/optifiber/runbooks' };

/** `npm start -- --links.*`, already up: the start output and the Alertmanager templates it loads use the bases. @param {string} said */
function linksCase(said) {
  const tmpl = join(root, 'var/alertmanager/templates/links.tmpl');
  const text = existsSync(tmpl) ? readFileSync(tmpl, 'utf8') : '';
  const g = LINKS.grafana.replace(/\/$/, '');
  const ok = text.includes(`{{ define "optifiber.grafana.base" }}${g}{{ end }}`) && text.includes(`{{ define "optifiber.runbook.base" }}${LINKS.runbook}{{ end }}`)
    && said.includes(`alert links          ${g}/d/<uid>, ${LINKS.runbook}/<alert>.md`);
  line(ok, 'npm start -- --links.grafana-url/--links.runbook-url: the Alertmanager templates of the stack and its start output use the given bases', `links.tmpl: ${text.slice(0, 400)}`);
}

/** `npm start -- --links.*` with a base that is not an absolute URL: refused before anything starts. */
function badLinksCase() {
  const r = spawnSync(process.execPath, [join(root, 'scripts/start.mjs'), '--links.grafana-url=grafana.local:3000'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  line(r.status === 2 && /--links\.grafana-url/.test(r.stderr), 'npm start -- --links.grafana-url=<not an absolute URL>: exit 2 with the reason, nothing started', `exit ${r.status}, stderr ${r.stderr.slice(0, 300)}`);
}

/** `npm start -- --ha`, already up: the Alertmanager cluster, the fleet metrics store, the remediation replicas. @param {() => string} said */
async function haCase(said) {
  const get = async (url) => (await fetch(url, { signal: AbortSignal.timeout(3000) })).json();
  try {
    const peers = await waitFor(async () => {
      const st = await Promise.all([9093, 9095, 9097].map((p) => get(`http://127.0.0.1:${p}/api/v2/status`)));
      return st.every((s) => s.cluster.peers.length === 3) ? st : undefined;
    }, 30_000, 'three Alertmanager peers seeing each other');
    const ams = (await get('http://127.0.0.1:9090/api/v1/alertmanagers')).data.activeAlertmanagers.map((a) => a.url).sort();
    line(new Set(peers.map((s) => s.cluster.name)).size === 3 && ams.length === 3 && [9093, 9095, 9097].every((p) => ams.some((u) => u.includes(`:${p}/`))),
      `npm start -- --ha: 3 Alertmanager peers in one cluster (${peers.map((s) => `${s.cluster.peers.length} members`).join(', ')}), Prometheus sends to ${ams.length}`, JSON.stringify({ ams, peers: peers.map((s) => s.cluster) }));
    const vm = await waitFor(async () => {
      const r = (await get('http://127.0.0.1:8428/api/v1/query?query=fleet:optifiber_sites:count')).data.result;
      return r.length ? r : undefined;
    }, 30_000, 'fleet:optifiber_sites:count in VictoriaMetrics');
    line(Number(vm[0].value[1]) > 0 && vm[0].metric.monitor === 'optifiber', `npm start -- --ha: VictoriaMetrics on :8428 holds Prometheus' recorded series (fleet:optifiber_sites:count = ${vm[0].value[1]}, external label monitor=${vm[0].metric.monitor})`, JSON.stringify(vm));
    await replicasCase(said, get);
  } catch (e) {
    line(false, 'npm start -- --ha: Alertmanager cluster and fleet metrics store', e.message);
  }
}

/**
 * --ha: two remediation replicas on one PostgreSQL, every Alertmanager peer delivering to both.
 * (Two replicas both ready is itself the proof they are not on one SQLite file: the second would exit.)
 * @param {() => string} said @param {(url: string) => Promise<any>} get
 */
async function replicasCase(said, get) {
  const name = 'npm start -- --ha: two remediation replicas on PostgreSQL, each Alertmanager peer delivering to both';
  try {
    const ready = await Promise.all([9887, 9890].map(async (p) => (await fetch(`http://127.0.0.1:${p}/-/ready`, { signal: AbortSignal.timeout(3000) })).status));
    const configs = await Promise.all([9093, 9095, 9097].map((p) => get(`http://127.0.0.1:${p}/api/v2/status`)));
    const both = configs.every((c) => [9887, 9890].every((p) => c.config.original.includes(`http://127.0.0.1:${p}/api/v1/alertmanager/webhook`)));
    const onPg = /remediation replicas .* on PostgreSQL postgres:\/\/postgres@127\.0\.0\.1:9891\//.test(said());
    line(ready.every((c) => c === 200) && both && onPg, name, `ready ${ready}, both URLs in every peer's config ${both}, start output names PostgreSQL ${onPg}`);
  } catch (e) {
    line(false, name, e.message);
  }
}

if (!existsSync(join(root, 'cli/dist/main.js'))) {
  line(false, 'papercuts', 'cli/dist/main.js is missing: run npm run build first');
} else {
  npxCase();
  badLinksCase();
  await topCase();
}
process.exit(failed ? 1 : 0);
