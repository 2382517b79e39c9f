// docker-compose.yml: validated by docker-compose itself when installed, and
// cross-checked against everything it names: paths, build contexts,
// Dockerfiles, ports, URLs, secrets, plugin ids, and the checked-in configs
// (prometheus.yml, alertmanager.yml, provisioning/) and services' defaults.
import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { parse } from 'yaml';
import { APP_PLUGIN_ID, DATASOURCE_PLUGIN_ID, PANEL_PLUGIN_ID } from '../src/ids.js';
import { DEFAULT_LISTEN_PORT } from '../../exporter/src/config/schema.js';
import { KEYS as REMEDIATION_KEYS } from '../../grafana-app-remediation/service/src/config.js';
// @ts-expect-error plain ESM script without types
import { SECRETS, TLS_SECRETS, initSecrets } from '../scripts/init-secrets.mjs';
import { findBinaries, renderAlertmanagerConfig, renderPrometheusConfig } from '../../scripts/stack/prometheus.mjs';
import { loadWebConfig } from '../../exporter/src/http/web-config.js';
import { type Json, pluginJson, readJson, readText, readYaml, rel, ROOT } from './helpers.js';

const compose: Json = parse(readText('docker-compose.yml'), { merge: true });
const kernelOverride: Json = parse(readText('docker-compose.kernel.yml'), { merge: true });
const services: Record<string, Json> = compose.services;

const hasDockerCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const env = (s: string): Record<string, string> => services[s]!.environment ?? {};
const cmd = (s: string): string[] => services[s]!.command ?? [];
const flag = (s: string, name: string): string | undefined => {
  const c = cmd(s);
  const eq = c.find((a) => a.startsWith(`${name}=`));
  if (eq) return eq.slice(name.length + 1);
  const i = c.indexOf(name);
  return i >= 0 ? c[i + 1] : undefined;
};
const portOf = (addr: string): number => Number(/:(\d+)\/?$/.exec(addr.replace(/\/.*$/, (m) => (m.startsWith('//') ? m : '')))?.[1] ?? new URL(addr).port);
const urlPort = (u: string): number => Number(new URL(u).port);

/** Where each service listens inside the shared network namespace. */
const listen: Record<string, string> = {
  exporter: env('exporter').OPTIFIBER_WEB_LISTEN_ADDRESS!,
  prometheus: flag('prometheus', '--web.listen-address')!,
  alertmanager: flag('alertmanager', '--web.listen-address')!,
  grafana: `0.0.0.0:${env('grafana').GF_SERVER_HTTP_PORT}`,
  remediation: env('remediation').OPTIFIBER_REMEDIATION_WEB_LISTEN_ADDRESS!,
  'mcp-simulator': flag('mcp-simulator', '--listen')!,
  'noc-receiver': `${flag('noc-receiver', '--host')}:${flag('noc-receiver', '--port')}`,
  reporter: flag('reporter', '--listen')!,
};
const port = (s: string) => Number(listen[s]!.split(':').pop());
/** The service listening on 127.0.0.1:<p> of the namespace, if any. */
const serviceAt = (p: number) => Object.keys(listen).find((s) => port(s) === p);

describe('docker-compose config', () => {
  const run = (files: string[]) => spawnSync('docker-compose', [...files.flatMap((f) => ['-f', f]), 'config', '-q'], { cwd: ROOT, encoding: 'utf8' });
  test('docker-compose -f docker-compose.yml config -q', () => {
    if (!hasDockerCompose) {
      console.warn('SKIP: docker-compose is not installed (apt-get install -y docker-compose); compose file not validated by docker-compose');
      return;
    }
    const r = run(['docker-compose.yml']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });
  test('with the kernel-module override', () => {
    if (!hasDockerCompose) {
      console.warn('SKIP: docker-compose is not installed; docker-compose.kernel.yml not validated');
      return;
    }
    const r = run(['docker-compose.yml', 'docker-compose.kernel.yml']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });
});

describe('services and network', () => {
  test('the whole stack is there', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'exporter', 'grafana', 'mcp-simulator', 'net', 'noc-receiver', 'prometheus', 'remediation', 'reporter']);
  });

  test('every service shares the `net` namespace; only `net` publishes, on 127.0.0.1 only', () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === 'net') continue;
      expect({ name, network_mode: s.network_mode, ports: s.ports }).toEqual({ name, network_mode: 'service:net', ports: undefined });
    }
    const published = services.net!.ports as string[];
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) {
      const m = /^127\.0\.0\.1:(\d+):(\d+)$/.exec(p);
      expect({ p, loopback: Boolean(m) }).toEqual({ p, loopback: true });
      // The container side must be a service listening on all interfaces of
      // the namespace (Docker forwards to the namespace's eth0, not its lo).
      const svc = serviceAt(Number(m![2]));
      expect({ p, svc: svc !== undefined, all: svc ? listen[svc]!.startsWith('0.0.0.0:') : false }).toEqual({ p, svc: true, all: true });
    }
    expect(published.map((p) => Number(p.split(':')[2])).sort()).toEqual([3000, 9090, 9093, 9886]);
  });

  test('services not published stay on the namespace loopback', () => {
    for (const s of ['remediation', 'mcp-simulator', 'noc-receiver', 'reporter']) expect(listen[s]).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  test('listen ports are distinct and agree with each service default', () => {
    const ports = Object.keys(listen).map(port);
    expect(new Set(ports).size).toBe(ports.length);
    expect(port('exporter')).toBe(DEFAULT_LISTEN_PORT);
    expect(listen.remediation).toBe(REMEDIATION_KEYS.web.listen_address.default);
    expect(readText('mcp-simulator', 'src', 'cli.ts')).toContain(`'${listen['mcp-simulator']}'`);
    expect(readText('alertmanager', 'noc-receiver.mjs')).toContain(`opts.port ?? ${port('noc-receiver')}`);
    expect(readText('reports', 'src', 'cli.ts')).toContain(`'${listen.reporter}'`);
    expect(port('prometheus')).toBe(9090);
    expect(port('alertmanager')).toBe(9093);
  });

  test('every long-running service has a healthcheck probing its own port', () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === 'net') continue; // the pause container has no shell or client
      expect({ name, healthcheck: Array.isArray(s.healthcheck?.test) }).toEqual({ name, healthcheck: true });
      expect(s.healthcheck.test.join(' ')).toContain(`127.0.0.1:${port(name)}/`);
    }
  });

  test('depends_on names existing services', () => {
    for (const s of Object.values(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(Object.keys(services)).toContain(d);
    }
  });

  test('images are pinned; named volumes are declared', () => {
    for (const [name, s] of Object.entries(services)) {
      expect({ name, image: s.image }).toEqual({ name, image: expect.stringMatching(/^[\w./-]+:(?!latest$)[\w.-]+$/) });
      for (const v of (s.volumes ?? []) as string[]) {
        const src = v.split(':')[0]!;
        if (!src.startsWith('.') && !src.startsWith('/')) expect(Object.keys(compose.volumes)).toContain(src);
      }
    }
  });
});

describe('paths', () => {
  const binds = Object.entries(services).flatMap(([name, s]) =>
    ((s.volumes ?? []) as string[]).filter((v) => v.startsWith('./')).map((v) => ({ name, src: v.split(':')[0]!, dst: v.split(':')[1]! })),
  );
  const pluginMounts = binds.filter((b) => b.dst.startsWith(`${env('grafana').GF_PATHS_PLUGINS}/`));

  test('every bind-mounted path exists (plugin dist/ folders: their workspace)', () => {
    expect(binds.length).toBeGreaterThan(8);
    for (const b of binds) {
      if (pluginMounts.includes(b)) continue;
      expect({ src: b.src, exists: existsSync(rel(b.src)) }).toEqual({ src: b.src, exists: true });
    }
  });

  test('build contexts and Dockerfiles exist', () => {
    const built = Object.entries(services).filter(([, s]) => s.build);
    expect(built.map(([n]) => n).sort()).toEqual(['exporter', 'mcp-simulator', 'remediation', 'reporter']);
    for (const [, s] of built) {
      expect(existsSync(rel(s.build.context))).toBe(true);
      expect(existsSync(rel(s.build.context, s.build.dockerfile))).toBe(true);
    }
  });

  test('the three plugins are mounted from their dist/ folders and allowed unsigned', () => {
    const ids = [DATASOURCE_PLUGIN_ID, PANEL_PLUGIN_ID, APP_PLUGIN_ID];
    expect(env('grafana').GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS!.split(',').sort()).toEqual([...ids].sort());
    const expected: Record<string, string> = { 'grafana-datasource': DATASOURCE_PLUGIN_ID, 'grafana-panel-heatmap': PANEL_PLUGIN_ID, 'grafana-app-remediation': APP_PLUGIN_ID };
    expect(pluginMounts.map((b) => b.src).sort()).toEqual(Object.keys(expected).map((w) => `./${w}/dist`).sort());
    const missing: string[] = [];
    for (const b of pluginMounts) {
      const ws = b.src.slice(2, -'/dist'.length);
      const id = expected[ws]!;
      expect(b.dst).toBe(`${env('grafana').GF_PATHS_PLUGINS}/${id}`);
      expect(pluginJson(ws)?.id ?? id).toBe(id);
      const built = rel(ws, 'dist', 'plugin.json');
      if (existsSync(built)) expect(JSON.parse(readFileSync(built, 'utf8')).id).toBe(id);
      else missing.push(`${ws}/dist (build the plugin before docker compose up)`);
      // The workspace builds to dist/ (webpack output path).
      const wp = join(ROOT, ws, 'webpack.config.mjs');
      if (existsSync(wp)) {
        let text = readFileSync(wp, 'utf8');
        if (/grafana-common\/webpack\.plugin\.mjs/.test(text)) text += readText('grafana-common', 'webpack.plugin.mjs');
        expect(text).toMatch(/path: join\(dir, 'dist'\)|['"/]dist['"]/);
      }
    }
    if (missing.length) console.info(`plugin dist folders not built yet: ${missing.join(', ')}`);
  });

  test('the Grafana image satisfies every plugin grafanaDependency and the @grafana SDK the plugins build with', () => {
    const version = /^grafana\/grafana:(\d+)\.(\d+)\.(\d+)$/.exec(services.grafana!.image)!;
    expect(version).not.toBeNull();
    const v = version.slice(1, 4).map(Number);
    const cmp = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
    for (const ws of ['grafana-datasource', 'grafana-panel-heatmap', 'grafana-app-remediation']) {
      const dep = pluginJson(ws)?.dependencies?.grafanaDependency;
      if (!dep) continue;
      const m = /^>=\s*(\d+)\.(\d+)\.(\d+)/.exec(dep);
      expect({ ws, dep, ok: Boolean(m) && cmp(v, m!.slice(1, 4).map(Number)) >= 0 }).toEqual({ ws, dep, ok: true });
    }
    const sdk = readJson('node_modules', '@grafana', 'data', 'package.json').version.split('.').map(Number);
    expect(cmp(v, [sdk[0], sdk[1], 0])).toBeGreaterThanOrEqual(0);
  });
});

describe('configs agree with the compose file', () => {
  const prom = readYaml('prometheus', 'prometheus.yml');
  const am = readYaml('alertmanager', 'alertmanager.yml');
  const mount = (s: string, dst: string) => ((services[s]!.volumes ?? []) as string[]).map((v) => v.split(':')).find((v) => v[1] === dst)?.[0];

  test('Prometheus gets prometheus.yml and the rules beside it', () => {
    expect(mount('prometheus', flag('prometheus', '--config.file')!)).toBe('./prometheus/prometheus.yml');
    for (const glob of prom.rule_files as string[]) {
      expect(glob).toBe('rules/*.yml');
      expect(mount('prometheus', '/etc/prometheus/rules')).toBe('./prometheus/rules');
    }
  });

  test('every Prometheus scrape and Alertmanager target is a service of the stack', () => {
    const targets = [
      ...prom.scrape_configs.flatMap((s: Json) => s.static_configs.flatMap((c: Json) => c.targets)),
      ...prom.alerting.alertmanagers.flatMap((a: Json) => a.static_configs.flatMap((c: Json) => c.targets)),
    ] as string[];
    for (const t of targets) {
      expect(t).toMatch(/^127\.0\.0\.1:\d+$/);
      expect({ t, svc: serviceAt(Number(t.split(':')[1])) !== undefined }).toEqual({ t, svc: true });
    }
    const byJob = Object.fromEntries(prom.scrape_configs.map((s: Json) => [s.job_name, s.static_configs[0].targets[0]]));
    expect(byJob.optifiber).toBe(`127.0.0.1:${port('exporter')}`);
    expect(byJob.prometheus).toBe(`127.0.0.1:${port('prometheus')}`);
    expect(byJob.alertmanager).toBe(`127.0.0.1:${port('alertmanager')}`);
    expect(byJob.remediation).toBe(`127.0.0.1:${port('remediation')}`);
    expect(byJob.optifiber_reporter).toBe(`127.0.0.1:${port('reporter')}`);
  });

  test('Alertmanager gets its config, templates and secrets where alertmanager.yml expects them', () => {
    expect(mount('alertmanager', flag('alertmanager', '--config.file')!)).toBe('./alertmanager/alertmanager.yml');
    expect(am.templates).toEqual(['templates/*.tmpl']);
    expect(mount('alertmanager', '/etc/alertmanager/templates')).toBe('./alertmanager/templates');
    const files = JSON.stringify(am).match(/\/etc\/alertmanager\/secrets\/\w+/g) ?? [];
    expect(files.length).toBeGreaterThan(0);
    const targets = (services.alertmanager!.secrets as Json[]).map((s) => (typeof s === 'string' ? `/run/secrets/${s}` : s.target));
    for (const f of files) expect(targets).toContain(f);
  });

  test('Alertmanager webhook and Slack URLs reach the remediation service and the NOC receiver', () => {
    const hooks = am.receivers.flatMap((r: Json) => (r.webhook_configs ?? []).map((w: Json) => w.url)) as string[];
    expect(hooks.length).toBeGreaterThan(0);
    for (const u of hooks) {
      expect(new URL(u).hostname).toBe('127.0.0.1');
      expect(serviceAt(urlPort(u))).toBe('remediation');
    }
    const noc = (SECRETS as Record<string, [string, () => string]>).noc_slack_webhook_url![1]();
    expect(serviceAt(urlPort(noc))).toBe('noc-receiver');
    expect(new URL(noc).hostname).toBe('127.0.0.1');
  });

  test('provisioned datasource and app URLs reach Prometheus, the exporter and the remediation service', () => {
    const ds = readYaml('provisioning', 'datasources', 'optifiber.yaml').datasources as Json[];
    expect(serviceAt(urlPort(ds.find((d) => d.type === 'prometheus').url))).toBe('prometheus');
    expect(serviceAt(urlPort(ds.find((d) => d.type === DATASOURCE_PLUGIN_ID).jsonData.url))).toBe('exporter');
    const app = readYaml('provisioning', 'plugins', 'optifiber.yaml').apps[0];
    expect(serviceAt(urlPort(app.jsonData.serviceUrl))).toBe('remediation');
  });

  test('service-to-service URLs agree', () => {
    expect(serviceAt(urlPort(env('remediation').OPTIFIBER_REMEDIATION_MCP_URL!))).toBe('mcp-simulator');
    expect(serviceAt(urlPort(env('remediation').OPTIFIBER_REMEDIATION_EXPORTER_URL!))).toBe('exporter');
    expect(serviceAt(urlPort(flag('mcp-simulator', '--exporter-url')!))).toBe('exporter');
    expect(env('remediation').OPTIFIBER_REMEDIATION_MCP_CLIENT_ID).toBe(flag('mcp-simulator', '--client-id'));
    expect(urlPort(env('grafana').GF_SERVER_ROOT_URL!)).toBe(port('grafana'));
  });

  test('alert dashboard links use the published Grafana address', () => {
    // The one Grafana base of every alert link, as checked in (compose mounts the templates).
    const base = /\{\{ define "optifiber\.grafana\.base" \}\}([^{]*)\{\{ end \}\}/.exec(readText('alertmanager', 'templates', 'links.tmpl'))?.[1];
    expect(base).toBe(`http://127.0.0.1:${port('grafana')}`);
    expect(`${base}/`).toBe(env('grafana').GF_SERVER_ROOT_URL);
    expect(mount('alertmanager', '/etc/alertmanager/templates')).toBe('./alertmanager/templates');
    expect(services.net!.ports).toContain(`127.0.0.1:${port('grafana')}:${port('grafana')}`);
  });

  test('the mounted provisioning dashboards folder is the provider path', () => {
    const provider = readYaml('provisioning', 'dashboards', 'optifiber.yaml').providers[0];
    expect(mount('grafana', provider.options.path)).toBe('./provisioning/dashboards');
    expect(mount('grafana', '/etc/grafana/provisioning/datasources')).toBe('./provisioning/datasources');
    expect(mount('grafana', '/etc/grafana/provisioning/plugins')).toBe('./provisioning/plugins');
    expect(env('grafana').GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${provider.options.path}/optifiber-fleet.json`);
  });
});

describe('secrets', () => {
  const declared = compose.secrets as Record<string, { file: string }>;
  test('are files under ./secrets/ that init-secrets.mjs creates, never inline', () => {
    expect(Object.keys(declared).sort()).toEqual([...Object.keys(SECRETS), ...Object.keys(TLS_SECRETS)].sort());
    for (const [name, s] of Object.entries(declared)) expect(s).toEqual({ file: `./secrets/${name}` });
    expect(readText('docker-compose.yml')).not.toMatch(/(PASSWORD|TOKEN|SECRET)\w*:\s*(?!\/run\/secrets\/)\S/);
  });

  test('services reference declared secrets; $__file{} in provisioning are secrets of the Grafana service', () => {
    for (const s of Object.values(services)) for (const x of (s.secrets ?? []) as Json[]) expect(Object.keys(declared)).toContain(typeof x === 'string' ? x : x.source);
    const grafana = (services.grafana!.secrets as Json[]).map((x) => (typeof x === 'string' ? `/run/secrets/${x}` : x.target));
    const prov = readText('provisioning', 'datasources', 'optifiber.yaml') + readText('provisioning', 'plugins', 'optifiber.yaml');
    const files = [...prov.matchAll(/\$__file\{([^}]+)\}/g)].map((m) => m[1]);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(grafana).toContain(f);
    for (const [svc, vars] of Object.entries(services).map(([n, s]) => [n, Object.entries(s.environment ?? {})] as const)) {
      const mine = ((services[svc]!.secrets ?? []) as Json[]).map((x) => (typeof x === 'string' ? `/run/secrets/${x}` : x.target));
      for (const [k, v] of vars) if (String(v).startsWith('/run/secrets/')) expect({ svc, k, mounted: mine.includes(v) }).toEqual({ svc, k, mounted: true });
    }
    for (const [svc, s] of Object.entries(services)) {
      const mine = ((s.secrets ?? []) as Json[]).map((x) => (typeof x === 'string' ? `/run/secrets/${x}` : x.target));
      for (const a of (s.command ?? []) as string[]) for (const m of a.matchAll(/\/run\/secrets\/\w+/g)) expect({ svc, f: m[0], mounted: mine.includes(m[0]) }).toEqual({ svc, f: m[0], mounted: true });
    }
  });
});

describe('finding 16: the remediation service speaks TLS in the stack', () => {
  const am = readYaml('alertmanager', 'alertmanager.yml');
  const prom = readYaml('prometheus', 'prometheus.yml');
  /** secret name -> where service s sees it. */
  const mounts = (s: string): Record<string, string> =>
    Object.fromEntries(((services[s]!.secrets ?? []) as Json[]).map((x) => (typeof x === 'string' ? [x, `/run/secrets/${x}`] : [x.source, x.target ?? `/run/secrets/${x.source}`])));
  const dir = mkdtempSync(join(tmpdir(), 'optifiber-compose-tls-'));
  const secretsDir = join(dir, 'secrets');
  let written: string[] = [];
  beforeAll(() => {
    written = initSecrets({ dir: secretsDir });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A file as the container sees it, on this host: the init-secrets output behind the mount. */
  const hostPath = (s: string, inContainer: string) => {
    const name = Object.entries(mounts(s)).find(([, t]) => t === inContainer)?.[0];
    expect({ s, inContainer, mounted: name !== undefined }).toEqual({ s, inContainer, mounted: true });
    return join(secretsDir, name!);
  };

  test('init-secrets makes the CA, the certificate and key, and the web config; openssl verifies the chain for 127.0.0.1', () => {
    expect(written).toEqual(expect.arrayContaining(Object.keys(TLS_SECRETS)));
    const f = (n: string) => join(secretsDir, n);
    const v = spawnSync('openssl', ['verify', '-CAfile', f('service_tls_ca'), '-purpose', 'sslserver', f('service_tls_cert')], { encoding: 'utf8' });
    expect({ status: v.status, out: v.stdout.trim() }).toEqual({ status: 0, out: `${f('service_tls_cert')}: OK` });
    const cert = new X509Certificate(readFileSync(f('service_tls_cert')));
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(f('service_tls_key'))))).toBe(true);
    // The CA's key is not kept: nothing under secrets/ but certificates can sign.
    expect(readdirSync(secretsDir).filter((n) => /PRIVATE KEY/.test(readFileSync(f(n), 'utf8')))).toEqual(['service_tls_key']);
    // Kept on a re-run (no silent rotation); --force makes a new set.
    expect(initSecrets({ dir: secretsDir })).toEqual([]);
  });

  test('the service serves https with them (its web config, through the loader the service uses)', () => {
    const env = services.remediation!.environment;
    const wcPath = hostPath('remediation', env.OPTIFIBER_REMEDIATION_WEB_CONFIG_FILE);
    const text = readFileSync(wcPath, 'utf8');
    // Its files, as the container sees them, rewritten to this host's copies.
    const local = text.replace(/\/run\/secrets\/(\w+)/g, (m) => hostPath('remediation', m));
    writeFileSync(join(dir, 'web.yml'), local);
    expect(loadWebConfig(join(dir, 'web.yml')).tls).toBeDefined();
    expect(services.remediation!.healthcheck.test.join(' ')).toContain('https://127.0.0.1:9887/-/ready');
    expect(hostPath('remediation', env.NODE_EXTRA_CA_CERTS)).toBe(join(secretsDir, 'service_tls_ca'));
  });

  test('Prometheus scrapes it over https against the CA', () => {
    const job = prom.scrape_configs.find((s: Json) => s.job_name === 'remediation');
    expect(job.scheme).toBe('https');
    expect(hostPath('prometheus', job.tls_config.ca_file)).toBe(join(secretsDir, 'service_tls_ca'));
  });

  test("the local stack's runtime copies keep its plain-http service: http webhook and scrape, no tls_config", () => {
    const localAm = parse(renderAlertmanagerConfig({ secretsDir: secretsDir }));
    const hook = localAm.receivers.find((r: Json) => r.name === 'remediation').webhook_configs[0];
    expect([hook.url, hook.http_config.tls_config]).toEqual([`http://${listen.remediation}/api/v1/alertmanager/webhook`, undefined]);
    const localProm = parse(renderPrometheusConfig({ exporterUrl: 'http://127.0.0.1:9886', prometheusListen: '127.0.0.1:9090', alertmanagerListen: '127.0.0.1:9093' }));
    const job = localProm.scrape_configs.find((j: Json) => j.job_name === 'remediation');
    expect([job.scheme, job.tls_config]).toEqual([undefined, undefined]);
    // Everything else of the job is kept.
    expect(job.static_configs).toEqual(prom.scrape_configs.find((j: Json) => j.job_name === 'remediation').static_configs);
  });

  test("Grafana's plugin proxy reaches https://127.0.0.1:9887 and trusts the CA (SSL_CERT_DIR keeps the system roots)", () => {
    const app = readYaml('provisioning', 'plugins', 'optifiber.yaml').apps[0];
    expect(app.jsonData.serviceUrl).toBe(`https://${listen.remediation}`);
    const dirs = (env('grafana').SSL_CERT_DIR ?? '').split(':');
    expect(dirs[0]).toBe('/etc/ssl/certs');
    const caTarget = mounts('grafana').service_tls_ca!;
    expect(dirs).toContain(dirname(caTarget));
    // Go reads every file of those directories: the CA's has nothing else in it.
    expect(Object.values(mounts('grafana')).filter((t) => dirname(t) === dirname(caTarget))).toEqual([caTarget]);
  });

  test('Alertmanager (real binary, the compose view of alertmanager.yml) posts the webhook over TLS, verified against the CA', async () => {
    const bins = findBinaries();
    if (!bins.alertmanager || !bins.amtool) {
      console.warn('SKIP: prometheus-alertmanager/amtool not installed; the compose webhook TLS is not exercised');
      return;
    }
    const hook = am.receivers.find((r: Json) => r.name === 'remediation').webhook_configs[0];
    expect(hook.url).toBe(`https://${listen.remediation}/api/v1/alertmanager/webhook`);
    expect(hostPath('alertmanager', hook.http_config.tls_config.ca_file)).toBe(join(secretsDir, 'service_tls_ca'));
    // The service's side: its certificate and key, recording what arrives.
    const got: { tls: boolean; auth: string | undefined; alerts: number }[] = [];
    const server = createHttpsServer({ cert: readFileSync(join(secretsDir, 'service_tls_cert')), key: readFileSync(join(secretsDir, 'service_tls_key')) }, (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        got.push({ tls: (req.socket as TLSSocket).encrypted === true, auth: req.headers.authorization, alerts: (JSON.parse(body).alerts ?? []).length });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    // alertmanager.yml as the container sees it: secrets under their mount targets, the service on this test's port.
    const cfg = readText('alertmanager', 'alertmanager.yml')
      .replace(/\/etc\/alertmanager\/secrets\/\w+/g, (m) => hostPath('alertmanager', m))
      .replace(/^(\s+- )templates\/\*\.tmpl$/m, `$1${rel('alertmanager', 'templates', '*.tmpl')}`)
      .replace(`https://${listen.remediation}/`, `https://127.0.0.1:${port}/`);
    writeFileSync(join(dir, 'alertmanager.yml'), cfg);
    const check = spawnSync(bins.amtool, ['check-config', join(dir, 'alertmanager.yml')], { encoding: 'utf8' });
    expect({ status: check.status, out: check.stdout }).toEqual({ status: 0, out: expect.stringContaining('SUCCESS') });
    const amPort = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const proc = spawn(bins.alertmanager, [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn'], { stdio: 'ignore' });
    try {
      const base = `http://127.0.0.1:${amPort}`;
      const until = async (what: string, fn: () => Promise<boolean>) => {
        for (let i = 0; i < 300; i++) {
          if (await fn().catch(() => false)) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`timed out: ${what}`);
      };
      await until('alertmanager ready', async () => (await fetch(`${base}/-/ready`)).ok);
      const alert = { labels: { alertname: 'OptiFiberCapacityForecastHigh', remediation: 'auto', site: 'Dallas', severity: 'warning' }, startsAt: new Date().toISOString() };
      expect((await fetch(`${base}/api/v2/alerts`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([alert]) })).status).toBe(200);
      await until('webhook delivered', async () => got.length > 0);
      const token = readFileSync(hostPath('alertmanager', '/etc/alertmanager/secrets/remediation_token'), 'utf8').trim();
      expect(got[0]).toEqual({ tls: true, auth: `Bearer ${token}`, alerts: 1 });
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      server.close();
    }
  }, 60_000);
});

describe('Dockerfiles', () => {
  const built = Object.entries(services).filter(([, s]) => s.build);
  const workspaces = readJson('package.json').workspaces as string[];
  const ignore = readText('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  test.each(built.map(([n, s]) => [n, s.build.dockerfile as string, s.build.target as string | undefined]))('%s: multi-stage, slim non-root final stage with npm ci --omit=dev', (_name, file, target) => {
    const text = readText(file);
    const stages = text.split(/^FROM /m).slice(1);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    // The stage the service runs (its target, else the last), followed
    // through `FROM <earlier stage>` back to its base image.
    const named = new Map(stages.map((st) => [/^\S+\s+AS\s+(\S+)/i.exec(st)?.[1], st] as const));
    const chain: string[] = [target ? named.get(target)! : stages[stages.length - 1]!];
    expect(chain[0]).toBeDefined();
    for (let base = chain[0]!.split(/\s/)[0]!; named.has(base); base = chain[chain.length - 1]!.split(/\s/)[0]!) chain.push(named.get(base)!);
    const final = chain.slice().reverse().join('\n');
    expect(final).toMatch(/^node:20-bookworm-slim\b/);
    expect(final).toMatch(/npm ci --omit=dev/);
    const user = [...final.matchAll(/^USER\s+(\S+)/gm)].pop()?.[1];
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    // The npm lock needs every workspace's package.json, in each stage that runs npm ci.
    // They are listed once, in a `manifests` stage, which each such stage copies in first.
    const manifests = named.get('manifests');
    expect(manifests).toBeDefined();
    for (const w of workspaces) expect(manifests).toContain(`COPY ${w}/package.json /${w}/`);
    for (const stage of stages.filter((s) => /npm ci/.test(s))) expect(stage.indexOf('COPY --from=manifests / ./')).toBeGreaterThan(-1);
    for (const stage of stages.filter((s) => /npm ci/.test(s))) expect(stage.indexOf('COPY --from=manifests / ./')).toBeLessThan(stage.indexOf('npm ci'));
    // Every COPY source (from the context) exists and is not .dockerignore'd.
    for (const m of text.matchAll(/^COPY (?!--from)(.+)$/gm)) {
      const parts = m[1]!.trim().split(/\s+/);
      for (const src of parts.slice(0, -1)) {
        expect({ src, exists: existsSync(rel(src)) }).toEqual({ src, exists: true });
        const top = src.replace(/\/$/, '');
        expect({ src, ignored: ignore.includes(top) || ignore.includes(top.split('/')[0]!) }).toEqual({ src, ignored: false });
      }
    }
    expect(text).toMatch(/^ENTRYPOINT \[/m);
  });

  test('.dockerignore keeps node_modules, dist, secrets and the local state out of the context', () => {
    for (const p of ['**/node_modules', '**/dist', 'secrets', 'var', '.git']) expect(ignore).toContain(p);
  });

  test('the exporter image carries the simulator but not the kernel module', () => {
    const text = readText('exporter', 'Dockerfile');
    expect(text).toMatch(/make -s -C kernel sim/);
    expect(text).not.toMatch(/make[^\n]*module/);
    expect(text).toMatch(/kernel\/build\/optifiber-sim/);
  });

  test('the kernel override reads the host module through /proc/optifiber', () => {
    const e = kernelOverride.services.exporter;
    expect(e.environment.OPTIFIBER_SOURCE_KIND).toBe('kernel');
    expect(e.volumes.some((v: string) => v.startsWith('/proc/optifiber:'))).toBe(true);
    expect(e.environment.OPTIFIBER_SOURCE_KERNEL_PATH.startsWith(e.volumes[0].split(':')[1])).toBe(true);
  });
});

describe('CI', () => {
  test('the GitHub Actions workflow runs .ci/run', () => {
    const wf = readYaml('.github', 'workflows', 'ci.yml');
    const steps = Object.values(wf.jobs as Record<string, Json>).flatMap((j) => j.steps as Json[]);
    expect(steps.some((s) => /(^|\s)(bash )?\.ci\/run\b/.test(s.run ?? ''))).toBe(true);
    expect(existsSync(rel('.ci', 'run'))).toBe(true);
    expect(JSON.stringify(wf.jobs)).toMatch(/ubuntu|debian/);
  });
});
