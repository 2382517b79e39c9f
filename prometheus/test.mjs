#!/usr/bin/env node
// Alerting test entry point (plain Node ESM, no dependencies):
//   node prometheus/test.mjs [--no-live]
// Prints `PASS <case>` / `FAIL <case>: why` per case and `N passed, N failed`;
// exits 1 on any failure. Cases: promtool check config / check rules, every
// promtool test group (one case each), rule conventions (labels, annotations,
// runbooks, coverage by unit tests and route tests), amtool check-config,
// every amtool routes test, amtool renders of every alert's links
// (alertmanager/tests/links.mjs), live Alertmanager cases (real binary, loopback),
// docs/alerts.md staleness.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRules } from '../scripts/lib/rules-yaml.mjs';
import { generateAlertDocs, ALERTS_MD } from '../scripts/gen-alert-docs.mjs';
import { findBinaries, INSTALL_HINT } from '../scripts/stack/prometheus.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PROM = join(ROOT, 'prometheus');
const AM = join(ROOT, 'alertmanager');
const RUNBOOKS = join(ROOT, 'docs', 'runbooks');
let passed = 0, failed = 0;
/** @param {string} name @param {boolean} ok @param {string} [why] */
function report(name, ok, why) {
  if (ok) { passed++; console.log(`PASS ${name}`); } else { failed++; console.log(`FAIL ${name}: ${(why ?? '').trim().split('\n').join('\n    ')}`); }
}
/** @param {string} cmd @param {string[]} args @param {string} [cwd] */
function run(cmd, args, cwd = ROOT) {
  return new Promise((res) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('error', (e) => res({ code: -1, out: String(e) }));
    p.on('close', (code) => res({ code, out }));
  });
}
/** @template T @param {T[]} items @param {number} n @param {(x: T) => Promise<void>} fn */
async function pool(items, n, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (i < items.length) await fn(items[i++]); }));
}

const bins = findBinaries();
const missing = Object.entries(bins).filter(([, v]) => !v).map(([k]) => k);
report('tools: promtool, amtool, prometheus, prometheus-alertmanager installed', missing.length === 0,
  `missing ${missing.join(', ')}; install with: ${INSTALL_HINT}`);

const ruleFiles = readdirSync(join(PROM, 'rules')).filter((f) => f.endsWith('.yml')).sort().map((f) => join(PROM, 'rules', f));
const testFiles = readdirSync(join(PROM, 'tests')).filter((f) => f.endsWith('.test.yml')).sort().map((f) => join(PROM, 'tests', f));

if (bins.promtool) {
  const c = /** @type {any} */ (await run('promtool', ['check', 'config', join(PROM, 'prometheus.yml')]));
  report('promtool check config prometheus/prometheus.yml', c.code === 0, c.out);
  for (const f of ruleFiles) {
    const r = /** @type {any} */ (await run('promtool', ['check', 'rules', f]));
    report(`promtool check rules ${f.slice(ROOT.length + 1)}`, r.code === 0, r.out);
  }
  // One case per test group: split each test file into one file per group
  // (the files keep `tests:` last and items at two-space indent).
  const tmp = mkdtempSync(join(tmpdir(), 'optifiber-promtool-'));
  /** @type {{name: string, file: string}[]} */
  const groups = [];
  for (const f of testFiles) {
    const text = readFileSync(f, 'utf8');
    const idx = text.search(/^tests:\s*$/m);
    if (idx < 0) { report(`promtool test rules ${f}`, false, 'no tests: section'); continue; }
    const header = text.slice(0, idx).replace(/^(\s+- )(\.\.\/.*)$/gm, (_, p, rel) => p + resolve(dirname(f), rel));
    const body = text.slice(idx).split('\n').slice(1);
    /** @type {string[][]} */
    const chunks = [];
    for (const line of body) {
      if (/^  - /.test(line)) chunks.push([line]);
      else if (chunks.length) chunks[chunks.length - 1].push(line);
    }
    chunks.forEach((c, i) => {
      const m = /^  - name:\s*(.+)$/.exec(c[0]);
      const name = `${f.slice(ROOT.length + 1)} :: ${m ? m[1].replace(/^['"]|['"]$/g, '') : `group ${i + 1}`}`;
      const file = join(tmp, `${groups.length}.yml`);
      writeFileSync(file, `${header}tests:\n${c.join('\n')}\n`);
      groups.push({ name, file });
    });
  }
  /** @type {Map<string, any>} */
  const res = new Map();
  await pool(groups, 2, async (g) => { res.set(g.name, await run('promtool', ['test', 'rules', g.file])); });
  for (const g of groups) { const r = res.get(g.name); report(`promtool test: ${g.name}`, r.code === 0, r.out); }
  rmSync(tmp, { recursive: true, force: true });
}

// Conventions and coverage.
const rules = ruleFiles.flatMap((f) => readRules(f));
const alerts = rules.filter((r) => r.kind === 'alert');
const testText = testFiles.map((f) => readFileSync(f, 'utf8')).join('\n');
const routesText = readFileSync(join(AM, 'tests', 'routes.txt'), 'utf8');
for (const a of alerts) {
  /** @type {string[]} */
  const why = [];
  if (!['critical', 'warning'].includes(a.labels.severity)) why.push(`severity "${a.labels.severity}"`);
  for (const k of ['summary', 'description', 'runbook_path', 'dashboard_path']) if (!a.annotations[k]) why.push(`no ${k}`);
  if (a.annotations.runbook_path !== `${a.name}.md`) why.push(`runbook_path ${a.annotations.runbook_path}`);
  else if (!existsSync(join(RUNBOOKS, a.annotations.runbook_path))) why.push(`missing docs/runbooks/${a.annotations.runbook_path}`);
  else {
    const rb = readFileSync(join(RUNBOOKS, a.annotations.runbook_path), 'utf8');
    for (const h of ['## What it means', '## What to check', '## What to do', '## How to silence']) if (!rb.includes(h)) why.push(`runbook lacks "${h}"`);
  }
  // Relative to Grafana's root URL; provisioning/test/dashboards.test.ts checks the uid and variables.
  if (!/^d\/optifiber-(fleet|site|remediation|exporter)(\?|$)/.test(a.annotations.dashboard_path ?? '')) why.push('dashboard_path not d/<provisioned Grafana uid>');
  // The bases live in alertmanager/templates/links.tmpl only.
  for (const [k, v] of Object.entries(a.annotations)) if (/:\/\/|127\.0\.0\.1/.test(v)) why.push(`annotation ${k} carries a base URL`);
  if (!new RegExp(`alertname: ${a.name}\\b`).test(testText)) why.push('no promtool alert_rule_test');
  if (!new RegExp(`alertname=${a.name}\\b`).test(routesText)) why.push('no amtool routes case');
  report(`convention: ${a.name} has severity, annotations, runbook, dashboard, unit and route tests`, why.length === 0, why.join('; '));
}
for (const r of rules.filter((x) => x.kind === 'record')) {
  report(`convention: ${r.name} is level:metric:operations and unit-tested`,
    /^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/.test(r.name) && new RegExp(`expr: ${r.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm').test(testText),
    'name or promql_expr_test missing');
}
// Domain thresholds must come from threshold metrics: no float literal compared in site alerts.
for (const a of alerts.filter((x) => x.group === 'optifiber.site.alerts')) {
  const lit = /[<>]=?\s*(bool\s+)?-?\d/.test(a.expr) || /==\s*-?\d*\.\d/.test(a.expr);
  const usesThreshold = /_threshold(_|\b)|== 0/.test(a.expr);
  report(`convention: ${a.name} takes its threshold from a threshold metric`, !lit && usesThreshold, `expr: ${a.expr}`);
}

if (bins.amtool) {
  const cfg = join(AM, 'alertmanager.yml');
  const c = /** @type {any} */ (await run('amtool', ['check-config', cfg]));
  report('amtool check-config alertmanager/alertmanager.yml', c.code === 0 && /SUCCESS/.test(c.out), c.out);
  const lines = routesText.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  await pool(lines, 2, async (l) => {
    const [recv, ...labels] = l.split(/\s+/);
    const r = /** @type {any} */ (await run('amtool', ['config', 'routes', 'test', `--config.file=${cfg}`, `--verify.receivers=${recv}`, ...labels]));
    report(`amtool routes: ${labels.join(' ')} -> ${recv}`, r.code === 0, r.out);
  });
}

if (bins.amtool) {
  const { runLinkTemplateCases } = await import('../alertmanager/tests/links.mjs');
  for (const r of await runLinkTemplateCases(alerts)) report(r.name, r.ok, r.why);
}

if (!process.argv.includes('--no-live') && bins.alertmanager) {
  const { runLiveAlertmanagerCases } = await import('../alertmanager/tests/live.mjs');
  for (const r of await runLiveAlertmanagerCases()) report(r.name, r.ok, r.why);
}

const cur = existsSync(ALERTS_MD) ? readFileSync(ALERTS_MD, 'utf8') : '';
report('docs/alerts.md is up to date with prometheus/rules (node scripts/gen-alert-docs.mjs)', cur === generateAlertDocs(), 'stale: regenerate with node scripts/gen-alert-docs.mjs');

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
