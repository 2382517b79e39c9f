// Dashboards as code: the checked-in JSON is what the TypeScript generates,
// every query reads metrics that exist, every datasource/plugin reference
// agrees with provisioning and the plugins' plugin.json, and the alert rules'
// dashboard links resolve.
import { readdirSync } from 'node:fs';
import { renderAll } from '../src/render.js';
import { metricNames } from '../src/promql.js';
import { APP_PLUGIN_ID, DASHBOARD_UIDS, DATASOURCE_PLUGIN_ID, FLEET_METRICS_UID, PANEL_PLUGIN_ID, PROMETHEUS_UID, TELEMETRY_UID } from '../src/ids.js';
import { metricCatalogue } from '../../exporter/src/metrics/catalogue.js';
import { createMetrics } from '../../grafana-app-remediation/service/src/metrics.js';
import { dashboardFiles, type Json, panels, pluginJson, readJson, readText, readYaml, rel } from './helpers.js';

const dashboards: Record<string, Json> = Object.fromEntries(dashboardFiles().map((f) => [f, readJson('provisioning', 'dashboards', f)]));
const byUid = (uid: string): Json => Object.values(dashboards).find((d) => d.uid === uid);

describe('generated JSON', () => {
  test('is up to date with provisioning/src (run `npm run generate -w provisioning`)', () => {
    const fresh = renderAll();
    expect(dashboardFiles()).toEqual([...fresh.keys()].sort());
    for (const [name, text] of fresh) {
      // A readable failure: which file is stale, not a 2,000-line diff.
      const onDisk = readText('provisioning', 'dashboards', name);
      if (onDisk !== text) throw new Error(`provisioning/dashboards/${name} is stale: run npm run generate -w provisioning`);
    }
  });

  test('has exactly the four dashboards with the uids alert links use', () => {
    expect(Object.values(dashboards).map((d) => d.uid).sort()).toEqual(Object.values(DASHBOARD_UIDS).sort());
    for (const [file, d] of Object.entries(dashboards)) expect(file).toBe(`${d.uid}.json`);
  });

  test('panel ids are unique and every panel has a grid position', () => {
    for (const d of Object.values(dashboards)) {
      const ids = panels(d).map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of panels(d)) expect(p.gridPos).toEqual(expect.objectContaining({ w: expect.any(Number), h: expect.any(Number) }));
    }
  });

  test('the fleet dashboard carries the site-health panel with PromQL stats; the site dashboard has $site', () => {
    const fleet = byUid(DASHBOARD_UIDS.fleet);
    const health = panels(fleet).filter((p) => p.type === PANEL_PLUGIN_ID);
    expect(health).toHaveLength(1);
    expect(health[0].options.siteUrl).toContain(`/d/${DASHBOARD_UIDS.site}?var-site=\${site}`);
    expect(panels(fleet).filter((p) => p.type === 'stat').length).toBeGreaterThanOrEqual(6);
    const site = byUid(DASHBOARD_UIDS.site);
    expect(site.templating.list.map((v: Json) => v.name)).toContain('site');
    const exprs = panels(site).flatMap((p) => (p.targets ?? []).map((t: Json) => t.expr ?? ''));
    for (const q of ['10', '90']) expect(exprs.some((e) => e.includes('optifiber_forecast_throughput_bytes_per_second') && e.includes(`percentile="${q}"`))).toBe(true);
    const band = panels(site).find((p) => (p.title as string).startsWith('Throughput vs capacity'));
    expect(JSON.stringify(band.fieldConfig.overrides)).toContain('"custom.fillBelowTo","value":"forecast p10"');
  });
});

/** Every metric name a dashboard may read, with where it comes from. */
async function knownMetrics(): Promise<Map<string, string>> {
  const known = new Map<string, string>();
  const add = (name: string, type: string, source: string) => {
    known.set(name, source);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) known.set(name + s, source);
    if (type === 'summary') for (const s of ['_sum', '_count']) known.set(name + s, source);
  };
  for (const m of metricCatalogue()) add(m.name, m.type, 'exporter catalogue (exporter/src/metrics)');
  for (const m of await createMetrics().registry.getMetricsAsJSON()) add(m.name, String(m.type), 'remediation service (grafana-app-remediation/service/src/metrics.ts)');
  for (const f of readdirSync(rel('prometheus', 'rules')).filter((f) => f.endsWith('.yml'))) {
    for (const g of readYaml('prometheus', 'rules', f).groups ?? []) for (const r of g.rules ?? []) if (r.record) add(r.record, 'gauge', `recording rule (prometheus/rules/${f})`);
  }
  // The edge-AI metrics are documented in docs/ai.md; they join the exporter
  // catalogue when the AI collectors land there.
  for (const m of readText('docs', 'ai.md').matchAll(/`(optifiber_[a-z0-9_]+)[{`]/g)) if (!known.has(m[1]!)) add(m[1]!, m[1]!.endsWith('_seconds') ? 'histogram' : 'gauge', 'docs/ai.md');
  // Series Prometheus itself writes.
  for (const m of ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'ALERTS', 'ALERTS_FOR_STATE']) add(m, 'gauge', 'Prometheus');
  return known;
}

function allExprs(): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  for (const d of Object.values(dashboards)) {
    for (const p of panels(d)) for (const t of p.targets ?? []) if (typeof t.expr === 'string') out.push({ where: `${d.uid} / ${p.title} / ${t.refId}`, expr: t.expr });
    for (const v of d.templating?.list ?? []) {
      const q = typeof v.query === 'string' ? v.query : v.query?.query;
      if (typeof q === 'string') out.push({ where: `${d.uid} / $${v.name}`, expr: q.replace(/^label_values\((.*),\s*\w+\)$/, '$1') });
    }
  }
  return out;
}

describe('queries', () => {
  test('the PromQL lexer finds metric names and ignores the rest', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, operation) (rate(x_bucket{a="b"}[$__rate_interval])))')).toEqual(['x_bucket']);
    expect(metricNames('count(a == 0) or vector(0)')).toEqual(['a']);
    expect(metricNames('time() - b{site=~"$site"} offset 15m')).toEqual(['b']);
    expect(metricNames('site:c:ratio >= bool on(instance) d')).toEqual(['site:c:ratio', 'd']);
  });

  test('read only metrics and recording rules that exist', async () => {
    const known = await knownMetrics();
    const missing: string[] = [];
    const docsOnly = new Set<string>();
    for (const { where, expr } of allExprs()) {
      const names = metricNames(expr);
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) {
        if (!known.has(n)) missing.push(`${where}: ${n}`);
        else if (known.get(n) === 'docs/ai.md') docsOnly.add(n);
      }
    }
    if (docsOnly.size) console.info(`metrics documented in docs/ai.md but not (yet) in the exporter catalogue: ${[...docsOnly].join(', ')}`);
    expect(missing).toEqual([]);
  });

  test('job selectors name scrape jobs of prometheus/prometheus.yml', () => {
    const jobs = new Set(readYaml('prometheus', 'prometheus.yml').scrape_configs.map((s: Json) => s.job_name));
    for (const { expr } of allExprs()) for (const m of expr.matchAll(/job="([^"]+)"/g)) expect(jobs).toContain(m[1]);
  });

  test('variables used in queries are defined on their dashboard', () => {
    for (const d of Object.values(dashboards)) {
      const vars = new Set((d.templating?.list ?? []).map((v: Json) => v.name));
      const text = JSON.stringify(panels(d).map((p) => p.targets ?? [])) + JSON.stringify(d.annotations);
      for (const m of text.matchAll(/\$(?:\{)?([A-Za-z]\w*)/g)) expect({ dashboard: d.uid, variable: m[1], defined: vars.has(m[1]) }).toEqual({ dashboard: d.uid, variable: m[1], defined: true });
    }
  });
});

describe('datasources and plugins', () => {
  const ds = readYaml('provisioning', 'datasources', 'optifiber.yaml').datasources as Json[];
  const apps = readYaml('provisioning', 'plugins', 'optifiber.yaml').apps as Json[];
  const dsPlugin = pluginJson('grafana-datasource');
  const panelPlugin = pluginJson('grafana-panel-heatmap');
  const appPlugin = pluginJson('grafana-app-remediation');

  test('plugin ids agree with each plugin.json (the app plugin is checked against its documented id until written)', () => {
    expect(dsPlugin?.id ?? DATASOURCE_PLUGIN_ID).toBe(DATASOURCE_PLUGIN_ID);
    expect(panelPlugin?.id ?? PANEL_PLUGIN_ID).toBe(PANEL_PLUGIN_ID);
    expect(appPlugin?.id ?? APP_PLUGIN_ID).toBe(APP_PLUGIN_ID);
    if (!appPlugin) console.info('grafana-app-remediation/src/plugin.json not present yet: app id checked against optifiber-remediation-app');
    expect(dsPlugin?.type ?? 'datasource').toBe('datasource');
    expect(panelPlugin?.type ?? 'panel').toBe('panel');
    expect(appPlugin?.type ?? 'app').toBe('app');
  });

  test('provisioned datasources have the expected uids and types', () => {
    expect(ds.map((d) => [d.uid, d.type])).toEqual([
      [PROMETHEUS_UID, 'prometheus'],
      [TELEMETRY_UID, DATASOURCE_PLUGIN_ID],
      [FLEET_METRICS_UID, 'prometheus'],
    ]);
    // The fleet store listens where scripts/stack/victoria.mjs starts it (npm start -- --ha).
    expect(ds[2].url).toBe('http://127.0.0.1:8428');
    const tel = ds[1];
    expect(tel.jsonData.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(['none', 'bearer', 'basic']).toContain(tel.jsonData.authType);
    expect(Object.keys(tel.secureJsonData).sort()).toEqual(['basicAuthPassword', 'token']);
  });

  test('the datasource plugin.json routes read the provisioned jsonData/secureJsonData keys', () => {
    if (!dsPlugin) return;
    const routes = JSON.stringify((dsPlugin as Json).routes ?? []);
    for (const m of routes.matchAll(/\.JsonData\.(\w+)/g)) expect(Object.keys(ds[1].jsonData)).toContain(m[1]);
    for (const m of routes.matchAll(/\.SecureJsonData\.(\w+)/g)) expect(Object.keys(ds[1].secureJsonData)).toContain(m[1]);
  });

  test('the remediation app is enabled with the jsonData/secureJsonData docs/remediation-api.md asks for', () => {
    expect(apps).toHaveLength(1);
    expect(apps[0]).toEqual(expect.objectContaining({ type: APP_PLUGIN_ID, disabled: false, org_id: 1 }));
    expect(apps[0].jsonData.serviceUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const doc = readText('docs', 'remediation-api.md');
    for (const m of doc.matchAll(/\.JsonData\.(\w+)/g)) expect(Object.keys(apps[0].jsonData)).toContain(m[1]);
    for (const m of doc.matchAll(/\.SecureJsonData\.(\w+)/g)) expect(Object.keys(apps[0].secureJsonData)).toContain(m[1]);
    if (appPlugin) {
      const routes = JSON.stringify((appPlugin as Json).routes ?? []);
      for (const m of routes.matchAll(/\.JsonData\.(\w+)/g)) expect(Object.keys(apps[0].jsonData)).toContain(m[1]);
      for (const m of routes.matchAll(/\.SecureJsonData\.(\w+)/g)) expect(Object.keys(apps[0].secureJsonData)).toContain(m[1]);
    }
  });

  test('no secret is literal: secureJsonData comes from $__file{} or $__env{}', () => {
    for (const v of [...ds.flatMap((d) => Object.values(d.secureJsonData ?? {})), ...apps.flatMap((a) => Object.values(a.secureJsonData ?? {}))]) {
      expect(v).toMatch(/^\$__(file|env)\{[^}]+\}$/);
    }
  });

  test('every datasource reference in the dashboards names a provisioned uid of the right type', () => {
    const types = new Map(ds.map((d) => [d.uid, d.type]));
    const refs: Array<{ where: string; ref: Json }> = [];
    for (const d of Object.values(dashboards)) {
      for (const p of panels(d)) {
        if (p.datasource) refs.push({ where: `${d.uid}/${p.title}`, ref: p.datasource });
        for (const t of p.targets ?? []) refs.push({ where: `${d.uid}/${p.title}/${t.refId}`, ref: t.datasource });
      }
      for (const v of d.templating?.list ?? []) if (v.datasource) refs.push({ where: `${d.uid}/$${v.name}`, ref: v.datasource });
      for (const a of d.annotations?.list ?? []) {
        if (a.builtIn === 1) continue;
        refs.push({ where: `${d.uid}/annotation ${a.name}`, ref: a.datasource });
        if (a.target) refs.push({ where: `${d.uid}/annotation ${a.name} target`, ref: a.target.datasource });
      }
    }
    expect(refs.length).toBeGreaterThan(50);
    for (const { where, ref } of refs) expect({ where, type: ref?.type }).toEqual({ where, type: types.get(ref?.uid) });
  });

  test('panel types are core panels or the site-health plugin', () => {
    const core = new Set(['row', 'stat', 'timeseries', 'table', 'gauge', 'bargauge', 'text', 'barchart', 'state-timeline', 'heatmap']);
    for (const d of Object.values(dashboards)) for (const p of panels(d)) expect(core.has(p.type) || p.type === PANEL_PLUGIN_ID).toBe(true);
  });
});

describe('alert rule links', () => {
  test('every dashboard_path points at a generated dashboard and its variables', () => {
    const links: string[] = [];
    for (const f of readdirSync(rel('prometheus', 'rules')).filter((f) => f.endsWith('.yml'))) {
      for (const g of readYaml('prometheus', 'rules', f).groups ?? []) for (const r of g.rules ?? []) if (r.annotations?.dashboard_path) links.push(r.annotations.dashboard_path);
    }
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      // Relative to Grafana's root URL (alertmanager/templates/links.tmpl adds it).
      const m = /^d\/([\w-]+)(?:\?(.*))?$/.exec(link);
      expect(m).not.toBeNull();
      const d = byUid(m![1]!);
      expect({ link, found: Boolean(d) }).toEqual({ link, found: true });
      const vars = new Set((d.templating?.list ?? []).map((v: Json) => v.name));
      for (const v of (m![2] ?? '').matchAll(/var-(\w+)=/g)) expect({ link, variable: v[1], defined: vars.has(v[1]) }).toEqual({ link, variable: v[1], defined: true });
    }
  });
});
