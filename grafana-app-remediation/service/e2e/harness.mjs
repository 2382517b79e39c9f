// Closed-loop harness: the REAL pieces of the auto-remediation loop on
// loopback, each on a free port, state in a temp directory:
//
//   optifiber-sim (kernel/build, through the exporter's supervisor)
//     -> exporter (exporter/dist/cli.js: models loaded, control API on)
//     -> Debian prometheus (1 s scrape/eval, the repo's rules read live)
//     -> three Debian alertmanager peers clustered over loopback gossip
//        (issue 13; Prometheus sends every alert to each; the repo's routes;
//        remediation receiver URL pointed at the webhook tap below, which
//        tells the peers apart by the payload's externalURL)
//     -> webhook tap (records every Alertmanager delivery, forwards it
//        byte-for-byte to the service; can drop the ack to force a real
//        Alertmanager re-delivery)
//     -> remediation service + MCP simulator (startRemediationStack, same
//        secrets dir as the Prometheus stack so the webhook token matches)
//     -> MCP job -> exporter POST /api/v1/sites/{site}/commands -> cmd_control
//     -> pages (cmdModules, capacity) -> forecast -> alert resolves.
//
// With `tls` (closed-loop.mjs --tls; makeTlsMaterial below) every hop that
// supports it runs HTTPS against a throwaway CA, with a credential per
// identity: the exporter's web config holds a basic-auth user `prometheus`
// [read] (Prometheus' scrape), bearer tokens `remediation` [read] (the
// service's baseline/verification reads, and this harness) and `mcp`
// [control] (the MCP simulator's commands); Prometheus and Alertmanager serve
// https behind a basic-auth user `loop` (Prometheus -> Alertmanager, this
// harness) and talk to each other, the exporter and the tap over https; the tap
// and the service serve https; the MCP simulator serves https too
// (--tls-cert-file/--tls-key-file; here its tls option) and the service
// trusts it through mcp.ca_file. Other clients in this process verify with
// NODE_EXTRA_CA_CERTS, which closed-loop.mjs sets before it starts.
//
// Simulation parameters (why these): time scale 60 (one simulated minute per
// 1 s tick) so the forecast, which needs 1 h of the site's clock in 5-minute
// buckets, starts after ~55 s; seed 1 and a PINNED simulated start
// (--sim-start 1700000000, Tue 2023-11-14 22:13 UTC, through a tiny wrapper
// given to --simulator.binary, because the exporter has no flag for it and the
// default start is the wall clock) so the daily swing is the same at every run
// and load stays flat (+-2 %) over the ~6 simulated hours a run covers;
// fault rate 0 so nothing but the test's own faults happens. With these,
// sites site-00001, site-00009, site-00011 and site-00023 have 2 CMD modules
// at 48-58 % utilization (forecast p50 <= 0.58); a traffic_surge (x1.5-2.2,
// drawn per site from the fault PRNG: deterministic) saturates them (offered
// 0.95-1.10 of capacity, forecast p50 0.98-1.00), and ONE more module (2 -> 3)
// brings them to 0.63-0.73 (forecast p50 <= 0.75): exactly one provisioning
// is the correct behaviour, a second one would be a bug.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { startPrometheusStack, findBinaries, INSTALL_HINT } from '../../../scripts/stack/prometheus.mjs';
import { startNocReceiver } from '../../../alertmanager/noc-receiver.mjs';
import { freePort } from '../../../alertmanager/tests/live.mjs';
import { startRemediationStack } from '../dist/index.js';
import { createLogger } from '@optifiber/exporter/log/logger';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = join(ROOT, 'exporter', 'dist', 'cli.js');
export const SIM = join(ROOT, 'kernel', 'build', 'optifiber-sim');
export const SERVICE_DIST = join(ROOT, 'grafana-app-remediation', 'service', 'dist', 'index.js');
export const SIM_START = 1700000000;
export const SEED = 1;
/** Sites of seed 1 where one module is exactly enough (see the header). */
export const ONE_MODULE_SITES = ['site-00001', 'site-00011', 'site-00009', 'site-00023'];
export const ALERT = 'OptiFiberCapacityForecastHigh';

export const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The PASS/FAIL lines every e2e script prints (scripts/test-all.mjs counts
 * them) and its exit: `finish()` runs the cleanups (last registered first),
 * prints `N passed, N failed` and exits 1 on any failure.
 */
export function reporter({ verbose = false, digits = 0 } = {}) {
  let passed = 0;
  let failed = 0;
  const t0 = Date.now();
  const el = () => `${((Date.now() - t0) / 1000).toFixed(digits)} s`;
  const say = (m) => verbose && console.log(`# [${el()}] ${m}`);
  const check = (name, ok, why = '') => {
    if (ok) { passed++; console.log(`PASS ${name}`); } else { failed++; console.log(`FAIL ${name}: ${why}`); }
    return ok;
  };
  /** @type {(() => unknown)[]} */
  const cleanups = [];
  async function finish(code) {
    for (const c of cleanups.reverse()) {
      try { await c(); } catch (e) { say(`cleanup: ${e.message ?? e}`); }
    }
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(code ?? (failed ? 1 : 0));
  }
  return { el, say, check, cleanups, finish };
}

/** Missing prerequisites as text, or '' when everything is there. */
export function prerequisites() {
  const b = findBinaries();
  const miss = [];
  if (!b.prometheus || !b.alertmanager) miss.push(`prometheus/alertmanager (${INSTALL_HINT})`);
  for (const f of [CLI, SIM, SERVICE_DIST]) if (!existsSync(f)) miss.push(`${f} (run npm run build)`);
  return miss.join('; ');
}

/** Polls fn until it returns a truthy value; throws `what` on timeout. */
export async function until(fn, timeoutMs, what, everyMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? ` (last error: ${last.message ?? last})` : ''}`);
    await sleep(everyMs);
  }
}

async function getJson(url, init = {}) {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 5000) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${r.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

/**
 * The webhook tap between Alertmanager and the service. Each delivery is
 * recorded ({at, body, alerts, serviceStatus, answered}); `dropAck(d)` true
 * means: forward to the service, then answer Alertmanager 503 as if the
 * service's answer was lost, so Alertmanager delivers again.
 */
async function startTap(targetUrl, tls) {
  /** @type {any[]} */
  const deliveries = [];
  const tap = {
    deliveries,
    /** @type {(d: any) => boolean} */
    dropAck: () => false,
    url: '',
    close: async () => {},
  };
  const server = (tls ? (h) => createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, h) : createServer)((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body = null;
      try { body = JSON.parse(raw); } catch { /* forwarded as is */ }
      const d = {
        at: Date.now(),
        raw,
        body,
        authorization: req.headers.authorization ?? '',
        /** The Alertmanager peer that sent it: its --web.external-url, which Alertmanager puts in the payload. */
        peer: typeof body?.externalURL === 'string' ? body.externalURL : '',
        /** Alertmanager reached the tap over TLS (the --tls run checks this on every delivery). */
        tls: !!(/** @type {any} */ (req.socket).encrypted),
        alerts: (body?.alerts ?? []).map((a) => ({ site: a.labels?.site, alertname: a.labels?.alertname, status: a.status, fingerprint: a.fingerprint, startsAt: a.startsAt })),
        serviceStatus: 0,
        answered: 0,
      };
      try {
        const r = await fetch(targetUrl, { method: 'POST', headers: { 'Content-Type': req.headers['content-type'] ?? 'application/json', Authorization: d.authorization }, body: raw, signal: AbortSignal.timeout(10000) });
        d.serviceStatus = r.status;
        const text = await r.text();
        d.answered = tap.dropAck(d) ? 503 : r.status;
        deliveries.push(d); // recorded once the service has answered
        res.writeHead(d.answered, { 'Content-Type': 'application/json' });
        res.end(d.answered === 503 ? '{"status":"error","error":"ack dropped by the test tap"}' : text);
      } catch (e) {
        d.serviceStatus = -1;
        d.answered = 502;
        deliveries.push(d);
        res.writeHead(502).end(String(e));
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  tap.url = `${tls ? 'https' : 'http'}://127.0.0.1:${server.address().port}/api/v1/alertmanager/webhook`;
  tap.close = () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); };
  return tap;
}

/**
 * Throwaway CA and one server certificate (IP 127.0.0.1, DNS localhost) for
 * every HTTPS listener of the loop, made with openssl under dir.
 * @returns {{dir: string, caFile: string, certFile: string, keyFile: string}}
 */
export function makeTlsMaterial(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = (n) => join(dir, n);
  const run = (args) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')}: ${r.stderr || r.error}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=OptiFiber e2e throwaway CA', '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  run(['req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr')]);
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('server.ext'), '-out', f('server.crt')]);
  return { dir, caFile: f('ca.pem'), certFile: f('server.crt'), keyFile: f('server.key') };
}

/** A fresh secret (>= 16 printable characters) in a 0600 file. */
function secretIn(file, prefix) {
  writeFileSync(file, `${prefix}-${Math.random().toString(36).slice(2)}-0123456789\n`, { mode: 0o600 });
  return file;
}

/**
 * Starts everything. Options: nsites (24), alertmanagers (3: a cluster
 * over loopback gossip, Prometheus sending to each; 1: one, no gossip),
 * peerTimeout (Alertmanager --cluster.peer-timeout, '2s'), service (extra service config),
 * mcp (extra MCP simulator options), log(msg), tls (makeTlsMaterial's result:
 * HTTPS and a credential per identity on every hop, see the header).
 */
export async function startLoopStack(o = {}) {
  const log = o.log ?? (() => {});
  const w = prepareWork(o.tls);
  const { work, varDir, id, tls } = w;
  const cleanups = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) {
      try { await c(); } catch (e) { log(`cleanup: ${e.message ?? e}`); }
    }
    if (!o.keep) rmSync(work, { recursive: true, force: true });
  };
  try {
    const [expPort, promPort, svcPort, mcpPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    // Three Alertmanager peers clustered over loopback gossip unless told otherwise (issue 13).
    const nAm = o.alertmanagers ?? 3;
    const amPorts = [];
    for (let i = 0; i < 2 * nAm; i++) amPorts.push(await freePort());
    const startedAt = Date.now();
    const exp = await startExporter(w, expPort, o.nsites ?? 24, cleanups);
    const exporterUrl = exp.url;
    log(`exporter up on ${exporterUrl} (sim ${w.simDir})`);

    const noc = await startNocReceiver({ port: 0 });
    cleanups.push(() => noc.close());
    const serviceWebhook = `${w.scheme}://127.0.0.1:${svcPort}/api/v1/alertmanager/webhook`;
    const tap = await startTap(serviceWebhook, tls);
    cleanups.push(() => tap.close());

    const rem = await startRemediationStack({
      varDir,
      exporterUrl,
      // --tls: the MCP holds the [control]-only `mcp` token, not the all-scopes control token.
      exporterTokenFile: id ? id.mcpTokenFile : w.controlTokenFile,
      servicePort: svcPort,
      mcpPort,
      quiet: true,
      logger: createLogger({ level: o.serviceLogLevel ?? 'warn', base: { service: 'remediation' }, write: (l) => process.stderr.write(l + '\n') }),
      service: {
        exporter: { verify_timeout: '30s', ...(id ? { bearer_token_file: id.readTokenFile } : {}) },
        ...(id ? { web: { config_file: id.serviceWebConfig } } : {}),
        ...(tls ? { mcp: { ca_file: tls.caFile } } : {}),
        ...o.service,
      },
      mcp: { ...(tls ? { tls: { cert: readFileSync(tls.certFile, 'utf8'), key: readFileSync(tls.keyFile, 'utf8') } } : {}), ...o.mcp },
    });
    cleanups.push(() => rem.stop());
    log(`remediation service ${rem.service.url}, MCP simulator ${rem.mcp.url}`);

    const prom = await startPrometheusStack({
      exporterUrl, varDir, prometheusPort: promPort, alertmanagerPorts: amPorts.slice(0, nAm), clusterPorts: amPorts.slice(nAm),
      // 2 s between peers instead of 15 s: a peer whose predecessor failed delivers sooner (the runs stay short).
      peerTimeout: o.peerTimeout ?? '2s',
      nocWebhookUrl: `${noc.url}/slack/noc`, remediationUrl: tap.url, timeoutMs: 60000, quiet: true, logLevel: 'warn', log,
      ...(tls && id ? { tls: {
        ...tls, scrapeUser: 'prometheus', scrapePasswordFile: id.scrapePasswordFile,
        // Prometheus' and Alertmanager's own API (Prometheus -> Alertmanager, this harness).
        apiUser: 'loop', apiPasswordFile: id.promApiPasswordFile, apiPasswordHash: bcrypt.hashSync(readFileSync(id.promApiPasswordFile, 'utf8').trim(), 4),
      } } : {}),
    });
    if (!prom) throw new Error(`prometheus/alertmanager missing: ${INSTALL_HINT}`);
    cleanups.push(() => prom.stop());
    log(`prometheus ${prom.prometheusUrl}, alertmanager ${prom.alertmanagerUrls.join(' ')} (started after ${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
    return loopStackApi({ w, exp, startedAt, noc, tap, rem, prom, serviceWebhook, stop });
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * The run's directory: the simulator pinned to SIM_START, the exporter's
 * control token and, with `tls`, a secret and a web config per identity.
 */
function prepareWork(tls) {
  const work = mkdtempSync(join(tmpdir(), 'optifiber-loop-'));
  const simDir = join(work, 'sim');
  const varDir = join(work, 'var');
  mkdirSync(simDir);
  mkdirSync(join(varDir, 'secrets'), { recursive: true, mode: 0o700 });
  // The exporter's supervisor runs `<binary> run --dir ...`; pin the simulated start.
  const wrapper = join(work, 'optifiber-sim-pinned');
  writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = run ]; then shift; exec '${SIM}' run --sim-start ${SIM_START} "$@"; fi\nexec '${SIM}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  const controlTokenFile = join(varDir, 'secrets', 'exporter_control_token');
  writeFileSync(controlTokenFile, `loop-control-${Math.random().toString(36).slice(2)}-0123456789\n`, { mode: 0o600 });
  // --tls: the exporter's identities (web config) and the service's own https listener.
  const id = tls ? {
    readTokenFile: secretIn(join(varDir, 'secrets', 'exporter_read_token'), 'loop-read'),
    mcpTokenFile: secretIn(join(varDir, 'secrets', 'exporter_mcp_token'), 'loop-mcp'),
    scrapePasswordFile: secretIn(join(varDir, 'secrets', 'exporter_scrape_password'), 'loop-scrape'),
    promApiPasswordFile: secretIn(join(varDir, 'secrets', 'prometheus_api_password'), 'loop-api'),
    exporterWebConfig: join(work, 'exporter-web.yml'),
    serviceWebConfig: join(work, 'service-web.yml'),
  } : undefined;
  if (tls && id) {
    const hash = bcrypt.hashSync(readFileSync(id.scrapePasswordFile, 'utf8').trim(), 4);
    writeFileSync(id.exporterWebConfig, [
      `tls_server_config: {cert_file: '${tls.certFile}', key_file: '${tls.keyFile}'}`,
      `basic_auth_users: {prometheus: '${hash}'}`,
      'bearer_tokens:',
      `  remediation: {token_file: '${id.readTokenFile}', scopes: [read]}`,
      `  mcp: {token_file: '${id.mcpTokenFile}', scopes: [control]}`,
      '',
    ].join('\n'));
    writeFileSync(id.serviceWebConfig, `tls_server_config: {cert_file: '${tls.certFile}', key_file: '${tls.keyFile}'}\n`);
  }
  /** Headers of this harness' own exporter reads (the [read] token under --tls). */
  const expAuth = id ? { Authorization: `Bearer ${readFileSync(id.readTokenFile, 'utf8').trim()}` } : {};
  return { work, simDir, varDir, wrapper, controlTokenFile, tls, id, scheme: tls ? 'https' : 'http', expAuth };
}

/** The real exporter on the simulator (x60); resolves when it serves every site. Its stop (and log file) go to `cleanups`. */
async function startExporter(w, port, nsites, cleanups) {
  const url = `${w.scheme}://127.0.0.1:${port}`;
  const out = [];
  const exporter = spawn(process.execPath, [CLI, 'exporter', `--web.listen-address=127.0.0.1:${port}`, '--source.kind=userspace',
    `--simulator.binary=${w.wrapper}`, `--simulator.nsites=${nsites}`, `--simulator.seed=${SEED}`, '--simulator.time-scale=60', '--simulator.tick-ms=1000',
    '--sampler.interval=1s', '--simulator.fault-rate=0', `--simulator.dir=${w.simDir}`, `--control.token-file=${w.controlTokenFile}`, '--log.level=warn',
    ...(w.id ? [`--web.config.file=${w.id.exporterWebConfig}`] : [])],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  const keepOut = (c) => { out.push(c.toString()); if (out.length > 200) out.shift(); };
  exporter.stdout.on('data', keepOut);
  exporter.stderr.on('data', keepOut);
  const exited = new Promise((r) => exporter.once('exit', (code, sig) => r(sig ?? code)));
  cleanups.push(async () => {
    writeFileSync(join(w.work, 'exporter.log'), out.join(''));
    if (exporter.exitCode === null && exporter.signalCode === null) {
      exporter.kill('SIGTERM');
      const t = setTimeout(() => exporter.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  });
  await until(async () => {
    if (exporter.exitCode !== null) throw new Error(`exporter exited ${exporter.exitCode}: ${out.join('').slice(-800)}`);
    const j = await getJson(`${url}/api/v1/sites`, { timeoutMs: 1000, headers: w.expAuth });
    return j.sites.filter((s) => s.valid).length === nsites;
  }, 30000, 'the exporter to serve every simulated site');
  return { url, log: () => out.join('') };
}

/** What the scenarios use of a running stack: its parts, and reads and writes on each. */
function loopStackApi({ w, exp, startedAt, noc, tap, rem, prom, serviceWebhook, stop }) {
  const { work, simDir, varDir, tls, id, expAuth } = w;
  const exporterUrl = exp.url;
  const apiToken = readFileSync(rem.secrets.apiTokenFile, 'utf8').trim();
  const webhookToken = readFileSync(rem.secrets.webhookTokenFile, 'utf8').trim();
  const amToken = readFileSync(join(prom.secretsDir, 'remediation_token'), 'utf8').trim();
  return {
    work, simDir, exporterUrl, startedAt, tls, id, expAuth,
    /** The exporter's control audit trail (JSON lines, one identity per line). */
    controlAuditFile: join(varDir, 'secrets', 'control-audit.jsonl'), noc, tap, rem, prom, apiToken, webhookToken, amToken, stop,
    exporterLog: exp.log,
    /** optifiber-sim ctl (the cmd_control socket of the simulator). */
    ctl(cmd) {
      const r = spawnSync(SIM, ['ctl', '--dir', simDir, cmd], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`optifiber-sim ctl '${cmd}': ${r.stderr || r.stdout}`);
      return r.stdout;
    },
    /** Exporter snapshot: name -> {cmdModules, capacityBps, utilization, offered, p50, fault, simTimeS}. */
    async sites() {
      const j = await getJson(`${exporterUrl}/api/v1/snapshot`, { timeoutMs: 3000, headers: expAuth });
      const m = new Map();
      for (const s of j.sites) m.set(s.name, {
        cmdModules: s.cmdModules, capacityBps: s.capacityBps, utilization: s.utilization, offered: s.offeredBps / s.capacityBps,
        p50: s.inference?.forecast?.utilization?.p50, fault: s.fault, simTimeS: s.simTimeS, takenAtMs: j.takenAtMs,
      });
      return m;
    },
    async promQuery(expr) {
      const j = await getJson(`${prom.prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, { headers: prom.authHeaders });
      return j.data.result;
    },
    /** Service REST API (as Grafana's plugin proxy would call it). */
    api(path) {
      return getJson(`${rem.service.url}/api/v1${path}`, { headers: { Authorization: `Bearer ${apiToken}`, 'X-OptiFiber-Role': 'Viewer' } });
    },
    /** POSTs a raw webhook body straight to the service (a replayed delivery). */
    async postWebhook(raw) {
      const r = await fetch(serviceWebhook, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${webhookToken}` }, body: raw, signal: AbortSignal.timeout(10000) });
      await r.text();
      return r.status;
    },
    mcpStats: () => getJson(`${rem.mcp.url}/sim/stats`),
    async mcpFaultsNext(next) {
      return getJson(`${rem.mcp.url}/sim/faults/next`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(next) });
    },
    /** MCP jobs created for a site (the simulator's own job table). */
    jobsFor: (site) => [...rem.mcp.jobs.values()].filter((j) => j.site === site),
    /** Deliveries that carry an alert of `site` with `status`. */
    deliveriesFor: (site, status) => tap.deliveries.filter((d) => d.alerts.some((a) => a.site === site && a.alertname === ALERT && a.status === status)),
  };
}

/**
 * Watches one site every 200 ms from the moment it is called and records the
 * times of the loop's milestones (ms epoch): forecast p50 above `threshold`
 * (exporter's own inference), capacity visible in the pages, forecast back
 * under. stop() ends the watch.
 */
export function watchSite(stack, site, baseModules, threshold = 0.9) {
  const t = { crossed: 0, capacityVisible: 0, forecastBelow: 0, utilAfter: 0, p50After: 0, maxP50: 0 };
  let stopped = false;
  (async () => {
    while (!stopped) {
      try {
        const s = (await stack.sites()).get(site);
        const now = Date.now();
        if (s?.p50 !== undefined) t.maxP50 = Math.max(t.maxP50, s.p50);
        if (!t.crossed && s?.p50 > threshold && s.cmdModules === baseModules) t.crossed = now;
        if (!t.capacityVisible && s && s.cmdModules > baseModules) t.capacityVisible = now;
        if (t.capacityVisible && !t.forecastBelow && s?.p50 !== undefined && s.p50 < threshold && s.utilization < threshold) {
          t.forecastBelow = now;
          t.utilAfter = s.utilization;
          t.p50After = s.p50;
        }
      } catch { /* transient */ }
      await sleep(200);
    }
  })();
  return { t, stop: () => { stopped = true; } };
}
