#!/usr/bin/env node
// `npm start`: the whole local stack on loopback, one URL list, Ctrl-C stops it.
//
//   exporter               node exporter/dist/cli.js exporter --source.kind=auto (child
//                          process): the kernel module when loaded, else the embedded
//                          user-space simulator, labelled simulated (the exporter's own
//                          default is the kernel module only)
//   Prometheus, Alertmanager  Debian's binaries, when installed (scripts/stack/prometheus.mjs)
//   NOC receiver           alertmanager/noc-receiver.mjs (Slack-compatible recorder)
//   remediation + MCP sim  grafana-app-remediation/service (in this process)
//   report scheduler       exporter/dist/report (in this process), when built
//
// State, logs and secrets live under var/ (gitignored). Secrets are created
// on first start with mode 0600 and reused; none is printed.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const varDir = join(root, 'var');
const secretsDir = join(varDir, 'secrets');
const logDir = join(varDir, 'log');
const EXPORTER_URL = 'http://127.0.0.1:9886';

// `npm start -- FLAGS`: exporter flags, e.g. `--replay FILE --speed 20` to
// play a recording instead of the simulator (kernel/README.md, "Replaying a
// recording"). A replay at speed K also divides every alert `for:` and the
// Alertmanager timers by K (scripts/stack/prometheus.mjs timeScale), and holds
// the first sample 10 s (--replay.delay) so Prometheus sees it from the start.
const exporterArgs = process.argv.slice(2);
const flagValue = (/** @type {string[]} */ names) => {
  for (let i = 0; i < exporterArgs.length; i++) {
    const [f, v] = exporterArgs[i].split(/=(.*)/s);
    if (names.includes(f)) return v ?? exporterArgs[i + 1];
  }
  return undefined;
};
const replayFile = flagValue(['--replay', '--replay.file']);
const replaySpeed = Number(flagValue(['--speed', '--replay.speed']) ?? 1);
if (replayFile !== undefined && flagValue(['--replay.delay']) === undefined) exporterArgs.push('--replay.delay=10s');

mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
mkdirSync(logDir, { recursive: true });

function secret(name) {
  const path = join(secretsDir, name);
  if (!existsSync(path) || readFileSync(path, 'utf8').trim().length < 16) {
    writeFileSync(path, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
  }
  chmodSync(path, 0o600);
  return path;
}

const say = (line) => process.stdout.write(line + '\n');
const stops = []; // run in reverse order on exit

async function waitReady(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs / 1000} s`);
}

async function startExporter() {
  const tokenFile = secret('exporter_control_token');
  const log = createWriteStream(join(logDir, 'exporter.log'), { flags: 'a' });
  const child = spawn(process.execPath, [join(root, 'exporter/dist/cli.js'), 'exporter', '--source.kind=auto', '--control.token-file', tokenFile, ...exporterArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.pipe(log);
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  stops.push(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  await Promise.race([
    waitReady(`${EXPORTER_URL}/-/ready`, 30000),
    exited.then(({ code }) => {
      throw new Error(`exporter exited with code ${code}; see ${join(logDir, 'exporter.log')}`);
    }),
  ]);
  exited.then(({ code, signal }) => {
    if (!shuttingDown) {
      say(`exporter stopped unexpectedly (code ${code}, signal ${signal}); see var/log/exporter.log`);
      void shutdown(1);
    }
  });
  return tokenFile;
}

/** JSON-lines logger into var/log/<name>.log, for the services run in this process. */
async function fileLogger(name) {
  const { createLogger } = await import('@optifiber/exporter/dist/log/logger.js');
  const out = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  return createLogger({ level: 'info', base: { service: name }, write: (line) => out.write(line) });
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
  const exporterTokenFile = await startExporter();

  const { startNocReceiver } = await import('../alertmanager/noc-receiver.mjs');
  const noc = await optional('NOC receiver', () => startNocReceiver({ port: 9888, out: join(varDir, 'noc', 'messages.jsonl') }));
  if (noc) stops.push(() => noc.close());

  const remediation = await optional('remediation', async () => {
    const { startRemediationStack } = await import('@optifiber/remediation-app/service');
    return startRemediationStack({ varDir, exporterUrl: EXPORTER_URL, exporterTokenFile, quiet: true, logger: await fileLogger('remediation') });
  });
  if (remediation) stops.push(() => remediation.stop());

  const reportModule = join(root, 'exporter/dist/report/scheduler.js');
  const reports = existsSync(reportModule)
    ? await optional('report scheduler', async () => {
        const { startReportScheduler } = await import(pathToFileURL(reportModule).href);
        return startReportScheduler({ varDir, prometheusUrl: 'http://127.0.0.1:9090', logger: await fileLogger('reports') });
      })
    : null;
  if (reports) stops.push(() => reports.stop());

  const { startPrometheusStack } = await import('./stack/prometheus.mjs');
  const prom = await optional('Prometheus/Alertmanager', () => startPrometheusStack({ exporterUrl: EXPORTER_URL, varDir, quiet: true, ...(replayFile !== undefined && replaySpeed > 1 ? { timeScale: replaySpeed } : {}) }));
  if (prom) stops.push(() => prom.stop());

  const snapshot = await (await fetch(`${EXPORTER_URL}/api/v1/snapshot`)).json();
  const src = snapshot.source ?? {};
  say('\nOptiFiber local stack (all on 127.0.0.1; logs and state in var/):');
  const what = replayFile !== undefined ? `replay of ${replayFile} at x${replaySpeed} (alert for: divided by ${replaySpeed})` : src.kind === 'kernel' ? 'kernel module' : 'user-space simulator (no kernel module loaded)';
  say(`  source               ${what}: ${src.path}`);
  say(`  exporter             ${EXPORTER_URL}/metrics  ${EXPORTER_URL}/api/v1/snapshot`);
  if (noc) say(`  NOC receiver         ${noc.url}/messages`);
  if (remediation) for (const [k, v] of Object.entries(remediation.urls)) say(`  ${k.padEnd(20)} ${v}`);
  if (reports) for (const [k, v] of Object.entries(reports.urls ?? {})) say(`  ${k.padEnd(20)} ${v}`);
  if (prom) for (const [k, v] of Object.entries(prom.urls)) say(`  ${k.padEnd(20)} ${v}`);
  say(`  control token        ${exporterTokenFile} (POST ${EXPORTER_URL}/api/v1/sites/{site}/commands)`);
  // `optifiber top` reads this to show this stack's pages (exporter/src/top/stack.ts).
  const stackFile = join(varDir, 'stack.json');
  writeFileSync(stackFile, JSON.stringify({ pid: process.pid, exporterUrl: EXPORTER_URL, source: { kind: src.kind, path: src.path } }) + '\n');
  stops.push(() => rmSync(stackFile, { force: true }));
  say(`  terminal view        npx optifiber top (reads the same pages)`);
  say('Ctrl-C to stop.');
} catch (e) {
  say(`npm start failed: ${e instanceof Error ? e.message : String(e)}`);
  await shutdown(1);
}
