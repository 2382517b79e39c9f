// Local-stack launcher for Debian's prometheus and prometheus-alertmanager.
// Plain Node ESM, no dependencies (types in prometheus.d.mts).
//
//   import { startPrometheusStack } from './scripts/stack/prometheus.mjs';
//   const stack = await startPrometheusStack({ exporterUrl: 'http://127.0.0.1:9886' });
//   if (stack) { console.log(stack.urls); ...; await stack.stop(); }
//
// - Everything binds to 127.0.0.1; data, logs, runtime configs and secrets go
//   under <varDir> (default <repo>/var): var/prometheus/{data,prometheus.yml,
//   prometheus.log}, var/alertmanager/{data,alertmanager.yml,alertmanager.log},
//   var/secrets/{remediation_token,noc_slack_webhook_url} (mode 0600).
// - The runtime configs are the checked-in prometheus/prometheus.yml and
//   alertmanager/alertmanager.yml with addresses, rule/template paths and
//   /etc/alertmanager/secrets/ rewritten; nothing else differs.
// - Retention: --storage.tsdb.retention.time=30d (design: 30 days).
// - Resolves once the exporter target reports health "up" in
//   /api/v1/targets (the first scrape comes ~5 s after start, /-/ready is not
//   enough). Returns null (after saying how to install) when the binaries are
//   missing, so `npm start` can run without them.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { assertPortsFree, superviseProcess } from './supervise.mjs';
import { remoteWriteBlock } from './victoria.mjs';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const INSTALL_HINT =
  'sudo apt-get install -y --no-install-recommends prometheus prometheus-alertmanager';

/** @param {string} name */
function which(name) {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Paths of the four binaries, or null for each missing one. */
export function findBinaries() {
  return {
    prometheus: which('prometheus'),
    alertmanager: which('prometheus-alertmanager') ?? which('alertmanager'),
    promtool: which('promtool'),
    amtool: which('amtool'),
  };
}

/** @param {string} url */
function hostPort(url) {
  const u = new URL(url.includes('://') ? url : `http://${url}`);
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
}

/**
 * Runtime copy of prometheus/prometheus.yml. Several Alertmanagers (a
 * cluster): Prometheus sends every alert to each of them and scrapes each.
 * @param {{exporterUrl: string, prometheusListen: string, alertmanagerListen: string | string[], rulesGlob?: string}} o
 */
export function renderPrometheusConfig(o) {
  const src = readFileSync(join(REPO_ROOT, 'prometheus', 'prometheus.yml'), 'utf8');
  const ams = [o.alertmanagerListen].flat().map((a) => `'${a}'`).join(', ');
  return src
    // The local service is plain http: the compose scrape's https and CA go.
    .replace(/^ {4}scheme: https\n {4}tls_config:\n {6}ca_file: \S+service_tls_ca\n/m, '')
    .replaceAll("'127.0.0.1:9886'", `'${hostPort(o.exporterUrl)}'`)
    .replaceAll("'127.0.0.1:9090'", `'${o.prometheusListen}'`)
    .replaceAll("'127.0.0.1:9093'", ams)
    .replace(/^(\s+- )rules\/\*\.yml$/m, `$1${o.rulesGlob ?? join(REPO_ROOT, 'prometheus', 'rules', '*.yml')}`);
}

const TEMPLATES_DIR = join(REPO_ROOT, 'alertmanager', 'templates');
/** The line of links.tmpl defining one base: head, value, end. @param {'grafana' | 'runbook'} which */
const baseLine = (which) => new RegExp(`^(\\{\\{ define "optifiber\\.${which}\\.base" \\}\\})([^{}\\n]*)(\\{\\{ end \\}\\})$`, 'm');
const linksTemplate = () => readFileSync(join(TEMPLATES_DIR, 'links.tmpl'), 'utf8');

/** The two bases alert links are built from, as links.tmpl is checked in (docker-compose mounts it). */
export function checkedInLinks() {
  const text = linksTemplate();
  const value = (/** @type {'grafana' | 'runbook'} */ which) => {
    const m = baseLine(which).exec(text);
    if (!m) throw new Error(`alertmanager/templates/links.tmpl: no define "optifiber.${which}.base" line`);
    return m[2];
  };
  return { grafanaUrl: value('grafana'), runbookUrl: value('runbook') };
}

/**
 * The bases as the local stack sets them (`npm start -- --links.grafana-url=URL
 * --links.runbook-url=URL`): Grafana as checked in (docker-compose's, or a local
 * grafana-server on its default port), and the runbooks of this checkout.
 */
export function localLinks() {
  return { grafanaUrl: checkedInLinks().grafanaUrl, runbookUrl: pathToFileURL(join(REPO_ROOT, 'docs', 'runbooks')).href };
}

/**
 * An absolute http(s)/file URL without trailing slash (the templates add
 * "/<path>"); throws a message naming the setting otherwise.
 * @param {string} what @param {string} url
 */
export function linkBase(what, url) {
  let u;
  try { u = new URL(url); } catch { throw new Error(`${what}: not an absolute URL: ${JSON.stringify(url)}`); }
  if (!['http:', 'https:', 'file:'].includes(u.protocol)) throw new Error(`${what}: http, https or file URL expected, got ${u.protocol}`);
  if (u.search || u.hash || u.username || u.password) throw new Error(`${what}: a base URL has no query, fragment or credentials: ${JSON.stringify(url)}`);
  // href is percent-encoded, so no "{{" can reach the template.
  return u.href.replace(/\/+$/, '');
}

/**
 * alertmanager/templates/links.tmpl with its two base lines set: the one
 * place a link base lives (the rules carry relative paths).
 * @param {{grafanaUrl?: string, runbookUrl?: string}} [o] default localLinks()
 */
export function renderLinksTemplate(o = {}) {
  const links = effectiveLinks(o);
  const set = (/** @type {string} */ text, /** @type {'grafana' | 'runbook'} */ which) =>
    text.replace(baseLine(which), (_, head, _old, end) => `${head}${links[`${which}Url`]}${end}`);
  return set(set(linksTemplate(), 'grafana'), 'runbook');
}

/** The bases o sets, else localLinks(), checked and without trailing slash. @param {{grafanaUrl?: string, runbookUrl?: string}} o */
export function effectiveLinks(o) {
  const local = localLinks(); // throws when a base line is missing
  return { grafanaUrl: linkBase('grafana link base', o.grafanaUrl ?? local.grafanaUrl), runbookUrl: linkBase('runbook link base', o.runbookUrl ?? local.runbookUrl) };
}

/**
 * Runtime copy of alertmanager/templates/ in dir: every template as checked
 * in, links.tmpl rendered with the given bases. Returns dir.
 * @param {string} dir @param {{grafanaUrl?: string, runbookUrl?: string}} [links]
 */
export function writeAlertmanagerTemplates(dir, links) {
  const linksText = renderLinksTemplate(links);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(TEMPLATES_DIR).filter((x) => x.endsWith('.tmpl'))) {
    writeFileSync(join(dir, f), f === 'links.tmpl' ? linksText : readFileSync(join(TEMPLATES_DIR, f)));
  }
  return dir;
}

/**
 * Runtime copy of alertmanager/alertmanager.yml.
 * remediationUrls: one webhook_config per remediation replica (npm start -- --ha),
 * as production runs replicas behind an Alertmanager cluster.
 * templatesDir: the templates to load (writeAlertmanagerTemplates), default the checked-in ones.
 * @param {{secretsDir: string, remediationUrl?: string, remediationUrls?: string[], templatesDir?: string}} o
 */
export function renderAlertmanagerConfig(o) {
  const src = readFileSync(join(REPO_ROOT, 'alertmanager', 'alertmanager.yml'), 'utf8');
  let out = src
    .replaceAll('/etc/alertmanager/secrets/', `${resolve(o.secretsDir)}/`)
    .replace(/^(\s+- )templates\/\*\.tmpl$/m, `$1${join(o.templatesDir ?? TEMPLATES_DIR, '*.tmpl')}`);
  // The checked-in webhook is compose's https one; the local service is plain http unless a TLS run says otherwise (withTls adds its own CA).
  out = out.replaceAll('https://127.0.0.1:9887/api/v1/alertmanager/webhook', o.remediationUrl ?? 'http://127.0.0.1:9887/api/v1/alertmanager/webhook');
  out = dropLines(out, /^ {10}tls_config:\n {12}ca_file: \S+service_tls_ca\n/m, 'the compose webhook tls_config');
  return o.remediationUrls?.length ? perReplica(out, o.remediationUrls) : out;
}

/** The remediation receiver's one webhook_config, repeated for each replica URL. @param {string} text @param {string[]} urls */
function perReplica(text, urls) {
  const head = /^ {2}- name: remediation\n {4}webhook_configs:\n/m.exec(text);
  const at = head ? head.index + head[0].length : -1;
  const item = head ? /^( {6}- url: )\S+(\n(?: {8}.*\n)+)/.exec(text.slice(at)) : null;
  if (!item) throw new Error('renderAlertmanagerConfig: anchor not found (the remediation webhook_config)');
  return text.slice(0, at) + urls.map((u) => `${item[1]}${u}${item[2]}`).join('') + text.slice(at + item[0].length);
}

/** text without the lines re matches; a missing anchor throws, so an edit of the checked-in file cannot pass unnoticed. @param {string} text @param {RegExp} re @param {string} what */
function dropLines(text, re, what) {
  if (!re.test(text)) throw new Error(`renderAlertmanagerConfig: anchor not found (${what})`);
  return text.replace(re, '');
}

/**
 * TLS and credentials on every hop of the loop (issue 12; the closed loop's
 * --tls run): Prometheus scrapes the exporter over https with basic auth and
 * sends alerts to Alertmanager over https with basic auth; Alertmanager posts
 * the remediation webhook over https; both serve their own UI/API over https
 * behind basic auth (--web.config.file, exporter-toolkit format,
 * "experimental" in Alertmanager 0.25 but working).
 * Regex edits of the checked-in files: a missing anchor throws, so a change of
 * those files cannot silently turn TLS off.
 * @param {string} promText @param {string} amText
 * @param {{caFile: string, scrapeUser: string, scrapePasswordFile: string, apiUser: string, apiPasswordFile: string}} t
 */
export function withTls(promText, amText, t) {
  const edit = (/** @type {string} */ text, /** @type {RegExp} */ re, /** @type {string} */ to, /** @type {string} */ what) => {
    if (!re.test(text)) throw new Error(`withTls: anchor not found (${what})`);
    return text.replace(re, to);
  };
  const tls = (/** @type {string} */ pad) => `${pad}scheme: https\n${pad}tls_config:\n${pad}  ca_file: ${t.caFile}\n`;
  let prom = edit(promText, /^(  - job_name: optifiber\n)/m,
    `$1${tls('    ')}    basic_auth:\n      username: ${t.scrapeUser}\n      password_file: ${t.scrapePasswordFile}\n`, 'job optifiber');
  prom = edit(prom, /^(  alertmanagers:\n)    - static_configs:/m,
    `$1    - ${tls('      ').trimStart()}      basic_auth:\n        username: ${t.apiUser}\n        password_file: ${t.apiPasswordFile}\n      static_configs:`, 'alerting.alertmanagers');
  const am = edit(amText, /^(  - name: remediation\n    webhook_configs:\n(?:.*\n)*?        http_config:\n)/m,
    `$1          tls_config:\n            ca_file: ${t.caFile}\n`, 'remediation receiver http_config');
  return { prom, am };
}

/** Prometheus duration ("15s", "1m", "750ms", "1h30m") in ms; NaN if malformed. @param {string} d */
export function durationMs(d) {
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000 };
  let ms = 0;
  const rest = d.replace(/(\d+)(ms|s|m|h)/g, (_, n, u) => { ms += Number(n) * unit[/** @type {'ms'} */ (u)]; return ''; });
  return rest === '' && d !== '' ? ms : NaN;
}

/**
 * Divide every `key: DURATION` of a YAML text by `factor` (rounded to ms,
 * at least `minMs`). A replay at --speed K plays K recorded seconds per wall
 * second: an alert that must hold for 15 s of the recording holds for 15/K s
 * of wall time, so its `for:` is scaled the same way (docs: kernel/README.md).
 * @param {string} text @param {string[]} keys @param {number} factor @param {number} [minMs]
 */
export function scaleDurations(text, keys, factor, minMs = 0) {
  const re = new RegExp(`^(\\s*(?:${keys.join('|')}):\\s*)(\\d+(?:ms|s|m|h))+\\s*$`, 'gm');
  return text.replace(re, (line, head) => {
    const d = line.slice(head.length).trim();
    const ms = durationMs(d);
    if (!Number.isFinite(ms)) return line;
    return `${head}${Math.max(minMs, Math.round(ms / factor))}ms`;
  });
}

/**
 * Rule files with every `for:` divided by timeScale, written under dir; the glob.
 * @param {string} dir @param {number} timeScale
 */
function scaledRules(dir, timeScale) {
  mkdirSync(dir, { recursive: true });
  const src = join(REPO_ROOT, 'prometheus', 'rules');
  for (const f of readdirSync(src).filter((x) => x.endsWith('.yml'))) {
    const head = `# ${f} with every for: divided by ${timeScale} (replay at --speed ${timeScale}; scripts/stack/prometheus.mjs)\n`;
    writeFileSync(join(dir, f), head + scaleDurations(readFileSync(join(src, f), 'utf8'), ['for'], timeScale));
  }
  return join(dir, '*.yml');
}

/**
 * Write a secret file (0600) unless it exists with the wanted content.
 * @param {string} path @param {string} value
 */
function writeSecret(path, value) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, value + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {string} url @param {number} [timeoutMs] @param {Record<string, string>} [headers] */
async function getJson(url, timeoutMs = 2000, headers = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** @param {string} file @param {number} [n] */
function tail(file, n = 15) {
  try { return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n'); } catch { return ''; }
}

/**
 * Alertmanager peers on loopback (issue 13): one peer runs alone, without
 * gossip (`--cluster.listen-address=""`: no listener on 0.0.0.0:9094, no
 * settle delay); two or more gossip over 127.0.0.1, each started with
 * `--cluster.peer` for every other one, so they share silences and the
 * notification log. A clustered notification is sent by the first peer in the
 * cluster's order at once, by the next one `peerTimeout` later only if the
 * notification log has no record of it by then, and so on: a notification can
 * reach a receiver once per peer (at least once, up to N times), which is
 * what a receiver has to survive.
 *
 * Each peer is supervised (restarted with backoff) and announces its own
 * `--web.external-url`, which Alertmanager puts in every webhook payload as
 * `externalURL`: a receiver can tell the peers' deliveries apart.
 * Resolves once every peer answers /api/v2/status and, clustered, sees all N
 * members (not necessarily settled: each peer holds its notifications until
 * its gossip settles, ~10 s after start).
 * @param {import('./prometheus.d.mts').AlertmanagerClusterOptions} o
 * @returns {Promise<import('./prometheus.d.mts').AlertmanagerCluster>}
 */
export async function startAlertmanagerCluster(o) {
  const say = o.log ?? (() => {});
  const bin = o.bin ?? findBinaries().alertmanager;
  if (!bin) throw new Error(`prometheus-alertmanager not installed: ${INSTALL_HINT}`);
  const n = o.webPorts.length;
  const clustered = n > 1;
  const clusterPorts = o.clusterPorts ?? o.webPorts.map((p) => p + 1);
  const host = '127.0.0.1';
  const scheme = o.scheme ?? 'http';
  await assertPortsFree(o.webPorts.map((port, i) => ({ name: `Alertmanager ${i + 1}`, port }))
    .concat(clustered ? clusterPorts.map((port, i) => ({ name: `Alertmanager ${i + 1} gossip`, port })) : []));
  const peers = o.webPorts.map((webPort, i) => {
    const name = clustered ? `alertmanager-${i + 1}` : 'alertmanager';
    const dir = clustered ? join(o.dir, name) : o.dir;
    mkdirSync(join(dir, 'data'), { recursive: true });
    const configFile = typeof o.config === 'function' ? join(dir, 'alertmanager.yml') : join(o.dir, 'alertmanager.yml');
    writeFileSync(configFile, typeof o.config === 'function' ? o.config(i) : o.config);
    const logFile = join(dir, 'alertmanager.log');
    const url = `${scheme}://${host}:${webPort}`;
    const gossip = clustered
      ? [`--cluster.listen-address=${host}:${clusterPorts[i]}`, ...clusterPorts.filter((_, j) => j !== i).map((p) => `--cluster.peer=${host}:${p}`),
        ...(o.peerTimeout ? [`--cluster.peer-timeout=${o.peerTimeout}`] : []), ...(o.clusterTlsConfig ? [`--cluster.tls-config=${o.clusterTlsConfig}`] : [])]
      : ['--cluster.listen-address=']; // no gossip on 0.0.0.0:9094 (it also delays notifications)
    const sup = superviseProcess({ name, bin, logFile, say, ...(o.onStart ? { onStart: (/** @type {number} */ pid) => o.onStart?.(name, pid) } : {}), args: [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=${host}:${webPort}`,
      `--web.external-url=${url}`,
      ...gossip,
      `--log.level=${o.logLevel ?? 'info'}`,
      ...(o.webFlags ?? []),
    ] });
    return { name, url, webPort, clusterAddress: clustered ? `${host}:${clusterPorts[i]}` : '', logFile, sup };
  });
  const stop = () => Promise.all(peers.map((p) => p.sup.stop())).then(() => {});
  const headers = o.authHeaders ?? {};
  /** Every peer up (and, clustered, settled with all N members); else why not. */
  const ready = async () => {
    for (const p of peers) {
      if (p.sup.exitedBeforeReady) throw new Error(`${p.name} exited (${JSON.stringify(p.sup.exitedBeforeReady)}):\n${tail(p.logFile)}`);
      const st = await getJson(`${p.url}/api/v2/status`, 2000, headers).catch((e) => ({ error: e.message }));
      if (st.error) return `${p.name}: ${st.error}`;
      // Settling ("settling" -> "ready") takes ~10 s more; notifications wait for it, none is lost.
      if (clustered && (st.cluster?.peers?.length !== n || !['ready', 'settling'].includes(st.cluster?.status))) return `${p.name}: cluster ${st.cluster?.status}, ${st.cluster?.peers?.length ?? 0}/${n} peers`;
    }
    return '';
  };
  const cluster = {
    peers: peers.map((p) => ({ name: p.name, url: p.url, webPort: p.webPort, clusterAddress: p.clusterAddress, logFile: p.logFile, get pid() { return p.sup.pid; } })),
    urls: peers.map((p) => p.url),
    listen: peers.map((p) => `${host}:${p.webPort}`),
    ready,
    stop,
  };
  if (o.wait === false) return cluster;
  const deadline = Date.now() + (o.timeoutMs ?? 60000);
  for (;;) {
    let why;
    try { why = await ready(); } catch (e) { await stop(); throw e; }
    if (!why) return cluster;
    if (Date.now() > deadline) { await stop(); throw new Error(`Alertmanager not ready after ${(o.timeoutMs ?? 60000) / 1000} s: ${why}`); }
    await sleep(250);
  }
}

/**
 * @param {import('./prometheus.d.mts').PrometheusStackOptions} [opts]
 * @returns {Promise<import('./prometheus.d.mts').PrometheusStack | null>}
 */
export async function startPrometheusStack(opts = {}) {
  const log = opts.log ?? ((/** @type {string} */ m) => console.log(m));
  const bins = findBinaries();
  if (!bins.prometheus || !bins.alertmanager) {
    log(`prometheus/alertmanager not installed: running without them. Install with:\n  ${INSTALL_HINT}`);
    return null;
  }
  const varDir = resolve(opts.varDir ?? join(REPO_ROOT, 'var'));
  const exporterUrl = opts.exporterUrl ?? 'http://127.0.0.1:9886';
  const host = '127.0.0.1';
  const promListen = `${host}:${opts.prometheusPort ?? 9090}`;
  // One Alertmanager, or a cluster (--ha, the closed loop): web ports 9093, 9095, ... gossip on web + 1.
  const amPorts = opts.alertmanagerPorts ?? Array.from({ length: opts.alertmanagers ?? 1 }, (_, i) => (opts.alertmanagerPort ?? 9093) + 2 * i);
  const amListen = amPorts.map((p) => `${host}:${p}`);
  const promDir = join(varDir, 'prometheus');
  const amDir = join(varDir, 'alertmanager');
  const secretsDir = opts.secretsDir ?? join(varDir, 'secrets');
  mkdirSync(join(promDir, 'data'), { recursive: true });
  mkdirSync(join(amDir, 'data'), { recursive: true });

  // Secrets: the remediation service reads the same token file.
  const tokenFile = join(secretsDir, 'remediation_token');
  const token = opts.remediationToken ?? process.env.OPTIFIBER_REMEDIATION_TOKEN
    ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : randomBytes(24).toString('hex'));
  writeSecret(tokenFile, token);
  const nocWebhookUrl = opts.nocWebhookUrl ?? 'http://127.0.0.1:9888/slack/noc';
  writeSecret(join(secretsDir, 'noc_slack_webhook_url'), nocWebhookUrl);

  // A replay at --speed K (timeScale K): alert `for:` and Alertmanager's
  // grouping timers shrink K times, so "15 s of the recording" keeps its
  // meaning; scrape/evaluation every `interval` (default as checked in).
  const timeScale = opts.timeScale ?? 1;
  const rulesGlob = timeScale !== 1 ? scaledRules(join(promDir, 'rules'), timeScale) : undefined;
  let promText = renderPrometheusConfig({ exporterUrl, prometheusListen: promListen, alertmanagerListen: amListen, ...(rulesGlob ? { rulesGlob } : {}) });
  if (opts.interval) {
    promText = promText.replace(/^(\s*evaluation_interval:\s*)1s\s*$/m, `$1${opts.interval}`)
      .replace(/^(\s*scrape_interval:\s*)1s\s*$/m, `$1${opts.interval}`)
      .replace(/^(\s*scrape_timeout:\s*)1s\s*$/m, `$1${opts.interval}`);
  }
  if (opts.remoteWriteUrl) promText += remoteWriteBlock(opts.remoteWriteUrl);
  const promCfg = join(promDir, 'prometheus.yml');
  writeFileSync(promCfg, promText);
  const templatesDir = writeAlertmanagerTemplates(join(amDir, 'templates'), opts.links);
  let amText = renderAlertmanagerConfig({ secretsDir, remediationUrl: opts.remediationUrl, remediationUrls: opts.remediationUrls, templatesDir });
  if (timeScale !== 1) amText = scaleDurations(amText, ['group_wait', 'group_interval', 'repeat_interval'], timeScale, 10);
  /** @type {string[]} */
  const webFlags = [];
  if (opts.tls) {
    ({ prom: promText, am: amText } = withTls(promText, amText, opts.tls));
    writeFileSync(promCfg, promText);
    const webCfg = join(varDir, 'web-tls.yml');
    writeFileSync(webCfg, `tls_server_config:\n  cert_file: ${opts.tls.certFile}\n  key_file: ${opts.tls.keyFile}\nbasic_auth_users:\n  ${opts.tls.apiUser}: '${opts.tls.apiPasswordHash}'\n`, { mode: 0o600 });
    webFlags.push(`--web.config.file=${webCfg}`);
    // Gossip between clustered peers over mutual TLS (Alertmanager 0.25: "experimental"; TCP only then).
    writeFileSync(join(varDir, 'cluster-tls.yml'), [
      `tls_server_config: {cert_file: '${opts.tls.certFile}', key_file: '${opts.tls.keyFile}', client_auth_type: RequireAndVerifyClientCert, client_ca_file: '${opts.tls.caFile}'}`,
      `tls_client_config: {cert_file: '${opts.tls.certFile}', key_file: '${opts.tls.keyFile}', ca_file: '${opts.tls.caFile}'}`, ''].join('\n'), { mode: 0o600 });
  }

  // Someone else's Prometheus on the port would answer the readiness checks
  // below: a taken port is an error, never a start.
  await assertPortsFree([{ name: 'Prometheus', port: opts.prometheusPort ?? 9090 }]);
  const promLog = join(promDir, 'prometheus.log');
  const scheme = opts.tls ? 'https' : 'http';
  /** --tls: the basic-auth user of Prometheus' and Alertmanager's own web config. */
  const authHeaders = opts.tls
    ? { Authorization: `Basic ${Buffer.from(`${opts.tls.apiUser}:${readFileSync(opts.tls.apiPasswordFile, 'utf8').trim()}`).toString('base64')}` }
    : {};
  // Supervised: restarted with backoff after a crash, killed with this process (see supervise.mjs).
  const am = await startAlertmanagerCluster({
    bin: bins.alertmanager, dir: amDir, config: amText, webPorts: amPorts, ...(opts.clusterPorts ? { clusterPorts: opts.clusterPorts } : {}),
    ...(opts.peerTimeout ? { peerTimeout: opts.peerTimeout } : {}), ...(opts.tls ? { clusterTlsConfig: join(varDir, 'cluster-tls.yml') } : {}), scheme, webFlags, authHeaders, logLevel: opts.logLevel ?? 'info', log, wait: false,
    ...(opts.onStart ? { onStart: opts.onStart } : {}),
  });
  const prom = superviseProcess({ name: 'prometheus', bin: bins.prometheus, logFile: promLog, say: log, ...(opts.onStart ? { onStart: (pid) => opts.onStart?.('prometheus', pid) } : {}), args: [
    `--config.file=${promCfg}`,
    `--storage.tsdb.path=${join(promDir, 'data')}`,
    '--storage.tsdb.retention.time=30d',
    `--web.listen-address=${promListen}`,
    `--log.level=${opts.logLevel ?? 'info'}`,
    ...webFlags,
  ] });
  const onExit = () => { for (const pid of [prom.pid, ...am.peers.map((p) => p.pid)]) try { process.kill(pid, 'SIGKILL'); } catch {} };
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    await Promise.all([prom.stop(), am.stop()]);
  };

  const prometheusUrl = `${scheme}://${promListen}`;
  const alertmanagerUrl = am.urls[0];
  const deadline = Date.now() + (opts.timeoutMs ?? 60000);
  /** @type {string} */
  let last = 'not started';
  try {
    for (;;) {
      if (prom.exitedBeforeReady) throw new Error(`prometheus exited (${JSON.stringify(prom.exitedBeforeReady)}):\n${tail(promLog)}`);
      if (Date.now() > deadline) throw new Error(`exporter target not up after ${opts.timeoutMs ?? 60000} ms: ${last}`);
      const amWhy = await am.ready(); // throws when a peer exited
      if (amWhy) { last = amWhy; await sleep(250); continue; }
      try {
        const t = await getJson(`${prometheusUrl}/api/v1/targets?state=active`, 2000, authHeaders);
        const target = t.data.activeTargets.find((/** @type {any} */ x) => x.labels.job === 'optifiber');
        if (target?.health === 'up') break;
        last = target ? `health=${target.health} ${target.lastError ?? ''}` : 'no optifiber target';
      } catch (e) {
        last = String(/** @type {Error} */ (e).message ?? e);
      }
      await sleep(250);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const urls = {
    prometheus: prometheusUrl,
    prometheusTargets: `${prometheusUrl}/targets`,
    prometheusAlerts: `${prometheusUrl}/alerts`,
    alertmanager: alertmanagerUrl,
    alertmanagerApi: `${alertmanagerUrl}/api/v2/alerts`,
    ...Object.fromEntries(am.urls.slice(1).map((u, i) => [`alertmanager${i + 2}`, u])),
  };
  if (!opts.quiet) for (const [k, v] of Object.entries(urls)) log(`${k}: ${v}`);
  return {
    prometheusUrl, alertmanagerUrl, alertmanagerUrls: am.urls, alertmanagers: am.peers, urls, varDir, secretsDir, authHeaders, links: effectiveLinks(opts.links ?? {}),
    logs: { prometheus: promLog, alertmanager: am.peers[0].logFile, alertmanagers: am.peers.map((p) => p.logFile) },
    get pids() { return { prometheus: prom.pid, ...Object.fromEntries(am.peers.map((p) => [p.name, p.pid])) }; },
    stop,
  };
}
