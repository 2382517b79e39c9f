#!/usr/bin/env node
// `npm start`: the whole local stack on loopback, one URL list, Ctrl-C stops it.
//
//   exporter               node exporter/dist/cli.js exporter --source.kind=auto: the kernel
//                          module when loaded, else the embedded user-space simulator,
//                          labelled simulated (the exporter's own default is the kernel only)
//   MCP simulator          node mcp-simulator/dist/cli.js
//   remediation service    node grafana-app-remediation/service/dist/cli.js
//   NOC receiver           node alertmanager/noc-receiver.mjs (Slack-compatible recorder)
//   Prometheus, Alertmanager  Debian's binaries, when installed (scripts/stack/prometheus.mjs)
//   report scheduler       reports/dist/scheduler.js (in this process), when built
//
// Every part is its own supervised process (scripts/stack/supervise.mjs):
// restarted with backoff when it dies, logging straight into var/log/<part>.log
// (no pipe through this launcher, so no EPIPE when the launcher is gone), and
// killed by the kernel when this launcher dies, even by SIGKILL: no orphan
// keeps a port. A port already taken is an error, never a "started".
// var/run/stack.json lists the current pid of each part (the chaos test reads it).
//
// State, logs and secrets live under var/ (OPTIFIBER_VAR_DIR overrides;
// gitignored). Secrets are created on first start with mode 0600 and reused;
// none is printed.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { assertPortsFree, httpOk, superviseProcess, waitStarted } from './stack/supervise.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const varDir = resolve(process.env.OPTIFIBER_VAR_DIR ?? join(root, 'var'));
const secretsDir = join(varDir, 'secrets');
const logDir = join(varDir, 'log');
const EXPORTER_URL = 'http://127.0.0.1:9886';
const PORTS = { exporter: 9886, remediation: 9887, noc: 9888, mcp: 9889 };
const HA_PORTS = { 'remediation-b': 9890, postgresql: 9891 };

// `npm start -- FLAGS`: exporter flags, e.g. `--replay FILE --speed 20` to
// play a recording instead of the simulator (kernel/README.md, "Replaying a
// recording"). A replay at speed K also divides every alert `for:` and the
// Alertmanager timers by K (scripts/stack/prometheus.mjs timeScale), and holds
// the first sample 10 s (--replay.delay) so Prometheus sees it from the start.
//
// `npm start -- --ha`: Alertmanager as a cluster of three peers gossiping over
// loopback (web 9093/9095/9097, gossip 9094/9096/9098), Prometheus sending
// every alert to each, as production runs it (docs/deploy-fleet.md), and
// Debian's victoria-metrics on 127.0.0.1:8428 as the fleet metrics store
// Prometheus remote_writes to, when installed, and the remediation service as
// two replicas (9887 and 9890) on one PostgreSQL (a throwaway cluster on
// 127.0.0.1:9891, state lost at stop), each Alertmanager peer delivering to
// both. The default stays one Alertmanager without gossip, no remote_write,
// and one remediation service on its SQLite file.
const HA = process.argv.includes('--ha');
const exporterArgs = process.argv.slice(2).filter((a) => a !== '--ha');
const flagValue = (/** @type {string[]} */ names) => {
  for (let i = 0; i < exporterArgs.length; i++) {
    const [f, v] = exporterArgs[i].split(/=(.*)/s);
    if (names.includes(f)) return v ?? exporterArgs[i + 1];
  }
  return undefined;
};
/** Value of a launcher flag (`--f=v` or `--f v`), removed from the exporter's flags. @param {string} name */
const takeFlag = (name) => {
  const i = exporterArgs.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const [, v] = exporterArgs[i].split(/=(.*)/s);
  const value = v ?? exporterArgs[i + 1];
  exporterArgs.splice(i, v === undefined ? 2 : 1);
  return value;
};
// `npm start -- --links.grafana-url=URL --links.runbook-url=URL`: the bases
// of every alert's dashboard and runbook link (alertmanager/templates/links.tmpl;
// default localLinks() in scripts/stack/prometheus.mjs: Grafana on :3000 and
// this checkout's docs/runbooks).
const links = { grafanaUrl: takeFlag('--links.grafana-url'), runbookUrl: takeFlag('--links.runbook-url') };
try {
  const { linkBase } = await import('./stack/prometheus.mjs');
  if (links.grafanaUrl !== undefined) linkBase('--links.grafana-url', links.grafanaUrl);
  if (links.runbookUrl !== undefined) linkBase('--links.runbook-url', links.runbookUrl);
} catch (e) {
  console.error(`npm start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
const replayFile = flagValue(['--replay', '--replay.file']);
const replaySpeed = Number(flagValue(['--speed', '--replay.speed']) ?? 1);
if (replayFile !== undefined && flagValue(['--replay.delay']) === undefined) exporterArgs.push('--replay.delay=10s');

mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
mkdirSync(logDir, { recursive: true });
mkdirSync(join(varDir, 'run'), { recursive: true });

// The terminal may go away (ssh dropped, `npm start | head`): output is best effort, never fatal.
for (const s of [process.stdout, process.stderr]) s.on('error', () => {});

function secret(name) {
  const path = join(secretsDir, name);
  if (!existsSync(path) || readFileSync(path, 'utf8').trim().length < 16) {
    writeFileSync(path, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
  }
  chmodSync(path, 0o600);
  return path;
}

const say = (line) => {
  try {
    process.stdout.write(line + '\n');
  } catch {
    // stdout gone
  }
};
const stops = []; // run in reverse order on exit

/** Current pid of each part, for operators and the chaos test. */
const pids = { launcher: process.pid };
const recordPid = (name, pid) => {
  pids[name] = pid;
  writeFileSync(join(varDir, 'run', 'stack.json'), JSON.stringify(pids, null, 2) + '\n');
};

/** Starts one supervised node part and waits until `readyUrl` answers. */
async function startPart(name, script, args, readyUrl) {
  const logFile = join(logDir, `${name}.log`);
  const sup = superviseProcess({ name, bin: process.execPath, args: [join(root, script), ...args], logFile, say, onStart: (pid) => recordPid(name, pid) });
  stops.push(() => sup.stop());
  await waitStarted(sup, () => httpOk(readyUrl), 30_000, name, logFile);
  return sup;
}

/** JSON-lines logger into var/log/<name>.log, for the parts run in this process. */
async function fileLogger(name) {
  const { createWriteStream } = await import('node:fs');
  const { createLogger } = await import('@optifiber/exporter/log/logger');
  const out = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  return createLogger({ level: 'info', base: { service: name }, write: (line) => out.write(line) });
}

/**
 * --ha: a throwaway PostgreSQL cluster on its fixed port, removed at stop. It trusts
 * loopback connections (a local demonstration; docs/deploy-fleet.md says so).
 */
async function startPostgres() {
  const { startPgCluster, pgBinDir } = await import('./stack/postgres.mjs');
  if (!pgBinDir()) throw new Error('PostgreSQL is not installed (apt-get install postgresql); the remediation service runs alone on SQLite');
  const pg = await startPgCluster({ port: HA_PORTS.postgresql });
  stops.push(() => pg.destroy());
  return pg;
}

async function optional(name, start) {
  try {
    return await start();
  } catch (e) {
    say(`${name}: not started: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

let shuttingDown = false;
async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  say('\nstopping...');
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch (e) {
      say(`stop failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

try {
  await assertPortsFree(Object.entries(HA ? { ...PORTS, ...HA_PORTS } : PORTS).map(([name, port]) => ({ name, port })));
  recordPid('launcher', process.pid);
  const exporterTokenFile = secret('exporter_control_token');
  await startPart('exporter', 'exporter/dist/cli.js', ['exporter', '--source.kind=auto', '--control.token-file', exporterTokenFile, ...exporterArgs], `${EXPORTER_URL}/-/ready`);

  const noc = await optional('NOC receiver', () =>
    startPart('noc', 'alertmanager/noc-receiver.mjs', ['--port', String(PORTS.noc), '--out', join(varDir, 'noc', 'messages.jsonl')], `http://127.0.0.1:${PORTS.noc}/messages`),
  );

  // The remediation service and the MCP simulator share these secrets with Alertmanager and Grafana.
  const webhookToken = secret('remediation_token');
  const apiToken = secret('remediation_api_token');
  const mcpSecret = secret('mcp_client_secret');
  const mcpUrl = `http://127.0.0.1:${PORTS.mcp}`;
  const mcp = await optional('MCP simulator', () =>
    startPart('mcp', 'mcp-simulator/dist/cli.js', [`--listen=127.0.0.1:${PORTS.mcp}`, `--exporter-url=${EXPORTER_URL}`, `--exporter-token-file=${exporterTokenFile}`, `--client-secret-file=${mcpSecret}`], `${mcpUrl}/-/healthy`),
  );
  const remUrl = `http://127.0.0.1:${PORTS.remediation}`;
  const remArgs = (port, storage) => [
    `--web.listen-address=127.0.0.1:${port}`, `--webhook.bearer-token-file=${webhookToken}`, `--api.proxy-token-file=${apiToken}`,
    storage, `--mcp.url=${mcpUrl}`, `--mcp.client-secret-file=${mcpSecret}`, `--exporter.url=${EXPORTER_URL}`,
  ];
  // --ha: the replicas share one PostgreSQL (not supervised: a throwaway cluster for this run)
  const pg = HA ? await optional('PostgreSQL', startPostgres) : null;
  const storage = pg ? `--storage.url=${pg.url}` : `--storage.path=${join(varDir, 'remediation', 'remediation.db')}`;
  const remediation = await optional('remediation', () => startPart('remediation', 'grafana-app-remediation/service/dist/cli.js', remArgs(PORTS.remediation, storage), `${remUrl}/-/ready`));
  const remUrlB = `http://127.0.0.1:${HA_PORTS['remediation-b']}`;
  const remediationB = pg
    ? await optional('remediation-b', () => startPart('remediation-b', 'grafana-app-remediation/service/dist/cli.js', remArgs(HA_PORTS['remediation-b'], storage), `${remUrlB}/-/ready`))
    : null;
  const webhook = (base) => `${base}/api/v1/alertmanager/webhook`;
  const remediationUrls = remediationB ? [webhook(remUrl), webhook(remUrlB)] : undefined;

  const reportModule = join(root, 'reports/dist/scheduler.js');
  const reports = existsSync(reportModule)
    ? await optional('report scheduler', async () => {
        const { startReportScheduler } = await import(pathToFileURL(reportModule).href);
        return startReportScheduler({ varDir, prometheusUrl: 'http://127.0.0.1:9090', logger: await fileLogger('reports') });
      })
    : null;
  if (reports) stops.push(() => reports.stop());

  const { startPrometheusStack } = await import('./stack/prometheus.mjs');
  const { startVictoriaMetrics, findVictoriaMetrics, VM_INSTALL_HINT } = await import('./stack/victoria.mjs');
  if (HA && !findVictoriaMetrics()) say(`VictoriaMetrics not installed: no fleet metrics store (${VM_INSTALL_HINT})`);
  const vm = HA && findVictoriaMetrics() ? await optional('VictoriaMetrics', () => startVictoriaMetrics({ port: 8428, dir: join(varDir, 'victoria-metrics'), log: say, onStart: recordPid })) : null;
  if (vm) stops.push(() => vm.stop());
  const prom = await optional('Prometheus/Alertmanager', () => startPrometheusStack({ exporterUrl: EXPORTER_URL, varDir, quiet: true, log: say, onStart: recordPid, links, ...(HA ? { alertmanagers: 3 } : {}), ...(remediationUrls ? { remediationUrls } : {}), ...(vm ? { remoteWriteUrl: vm.writeUrl } : {}), ...(replayFile !== undefined && replaySpeed > 1 ? { timeScale: replaySpeed } : {}) }));
  if (prom) stops.push(() => prom.stop());

  const snapshot = await (await fetch(`${EXPORTER_URL}/api/v1/snapshot`)).json();
  const src = snapshot.source ?? {};
  say('\nOptiFiber local stack (all on 127.0.0.1; logs and state in var/):');
  const what = replayFile !== undefined ? `replay of ${replayFile} at x${replaySpeed} (alert for: divided by ${replaySpeed})` : src.kind === 'kernel' ? 'kernel module' : 'user-space simulator (no kernel module loaded)';
  say(`  source               ${what}: ${src.path}`);
  say(`  exporter             ${EXPORTER_URL}/metrics  ${EXPORTER_URL}/api/v1/snapshot`);
  if (noc) say(`  NOC receiver         http://127.0.0.1:${PORTS.noc}/messages`);
  if (remediationB && pg) say(`  remediation replicas ${remUrl} and ${remUrlB} on PostgreSQL ${pg.url} (a throwaway cluster; every Alertmanager peer delivers to both)`);
  if (remediation) {
    say(`  remediation webhook  ${remUrl}/api/v1/alertmanager/webhook`);
    say(`  remediation API      ${remUrl}/api/v1/overview`);
    say(`  remediation metrics  ${remUrl}/metrics`);
  }
  if (mcp) say(`  MCP simulator        ${mcpUrl}/api/v1/provisioning/jobs`);
  if (reports) for (const [k, v] of Object.entries(reports.urls ?? {})) say(`  ${k.padEnd(20)} ${v}`);
  if (prom) for (const [k, v] of Object.entries(prom.urls)) say(`  ${k.padEnd(20)} ${v}`);
  if (prom) say(`  alert links          ${prom.links.grafanaUrl}/d/<uid>, ${prom.links.runbookUrl}/<alert>.md (--links.grafana-url, --links.runbook-url)`);
  if (vm) say(`  fleet metrics        ${vm.url} (VictoriaMetrics; Prometheus remote_writes every series; PromQL at ${vm.url}/api/v1/query)`);
  if (prom && HA) say(`  alertmanager gossip  ${prom.alertmanagers.map((p) => p.clusterAddress).join(' ')} (a cluster of ${prom.alertmanagers.length}; Prometheus sends to each)`);
  say(`  control token        ${exporterTokenFile} (POST ${EXPORTER_URL}/api/v1/sites/{site}/commands)`);
  // `optifiber top` reads this to show this stack's pages (exporter/src/top/stack.ts).
  const stackFile = join(varDir, 'stack.json');
  writeFileSync(stackFile, JSON.stringify({ pid: process.pid, exporterUrl: EXPORTER_URL, source: { kind: src.kind, path: src.path } }) + '\n');
  stops.push(() => rmSync(stackFile, { force: true }));
  say(`  terminal view        npx optifiber top (reads the same pages)`);
  say('Every part is supervised (restarted with backoff; var/run/stack.json lists the pids). Ctrl-C to stop.');
} catch (e) {
  say(`npm start failed: ${e instanceof Error ? e.message : String(e)}`);
  await shutdown(1);
}
