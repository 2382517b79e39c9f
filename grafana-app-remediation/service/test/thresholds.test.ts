// Thresholds as data: the service's GET/PUT /api/v1/thresholds (roles, named
// user, reason, validation), its audit entries, the optifiber_fleet_* and
// optifiber_override_* gauges (promtool check metrics), and persistence.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createLogger } from '@optifiber/exporter/log/logger';
import { loadConfig } from '../src/config.js';
import { startRemediationService, type RemediationService } from '../src/service.js';
import { applyChange, parseChange } from '../src/thresholds.js';
import { secrets, tmpDir } from './helpers.js';

const dir = tmpDir('rem-thr-');
const s = secrets(dir);
let svc: RemediationService;

async function boot() {
  await svc?.stop();
  const { config } = loadConfig({ env: {}, overrides: {
    web: { listen_address: '127.0.0.1:0' }, webhook: { bearer_token_file: s.webhookTokenFile }, api: { proxy_token_file: s.apiTokenFile },
    storage: { path: join(dir, 'thr.db') }, mcp: { url: 'http://127.0.0.1:9', client_secret_file: s.mcpSecretFile }, exporter: { url: 'http://127.0.0.1:9' },
  } });
  svc = await startRemediationService(config, { logger: createLogger({ level: 'error' }) });
}
const put = (role: string, body: unknown, user: string | null = `${role.toLowerCase()}-user`) =>
  fetch(`${svc.url}/api/v1/thresholds`, { method: 'PUT', body: JSON.stringify(body), headers: { Authorization: `Bearer ${s.apiToken}`, 'X-OptiFiber-Role': role, 'Content-Type': 'application/json', ...(user ? { 'X-Grafana-User': user } : {}) } });
const get = async (path: string, role = 'Viewer') => (await fetch(`${svc.url}/api/v1${path}`, { headers: { Authorization: `Bearer ${s.apiToken}`, 'X-OptiFiber-Role': role, 'X-Grafana-User': 'noc' } })).json() as Promise<any>;

beforeAll(boot);
afterAll(() => svc?.stop());

describe('thresholds as data', () => {
  test('every threshold the rules use is defined; nothing set at first', async () => {
    const t = await get('/thresholds');
    expect(t.definitions.map((d: { key: string }) => d.key)).toEqual(['osnr_low_db', 'pre_fec_ber_high_ratio', 'rx_power_low_dbm', 'rx_power_high_dbm', 'utilization_high_ratio', 'anomaly_score']);
    expect([t.fleet, t.sites]).toEqual([{}, {}]);
  });

  test('a Viewer reads but cannot change; a change needs a named user', async () => {
    const r = await put('Viewer', { scope: 'fleet', threshold: 'osnr_low_db', value: 18, reason: 'tighter fleet floor' });
    expect(r.status).toBe(403);
    const anon = await put('Editor', { scope: 'fleet', threshold: 'osnr_low_db', value: 18, reason: 'tighter fleet floor' }, null);
    expect(anon.status).toBe(403);
    expect((await anon.json()).error).toMatch(/needs a named user/);
  });

  test.each([
    [{ scope: 'fleet', threshold: 'osnr_low_db', value: 18 }, /reason: say why/],
    [{ scope: 'fleet', threshold: 'osnr_low_db', value: 18, reason: ' x ' }, /reason: say why/],
    [{ scope: 'fleet', threshold: 'osnr_low_db', value: 99, reason: 'typo' }, /OSNR low must be between 0 and 60 dB/],
    [{ scope: 'fleet', threshold: 'osnr_high', value: 1, reason: 'typo' }, /threshold: one of osnr_low_db/],
    [{ scope: 'bad site!', threshold: 'osnr_low_db', value: 1, reason: 'typo' }, /scope: "fleet" or a site name/],
    [{ scope: 'fleet', threshold: 'osnr_low_db', value: '18', reason: 'typo' }, /value: a number, or null/],
    [{ scope: 'fleet', threshold: 'osnr_low_db', value: 18, reason: 'ok', extra: 1 }, /unknown key extra/],
  ])('invalid change %# is refused with the reason, and nothing is stored', async (body, msg) => {
    const r = await put('Editor', body);
    expect(r.status).toBe(400);
    expect((await r.json()).error).toMatch(msg);
    expect((await get('/thresholds')).fleet).toEqual({});
  });

  test('Editor sets a fleet default and a site override; each lands in the audit with who, before, after, why', async () => {
    let r = await put('Editor', { scope: 'fleet', threshold: 'osnr_low_db', value: 18, reason: 'new amplifiers fleet-wide' }, 'devops');
    expect(r.status).toBe(200);
    r = await put('Admin', { scope: 'Dallas', threshold: 'osnr_low_db', value: 22.5, reason: 'long-haul link, tighter floor' }, 'admin');
    expect(r.status).toBe(200);
    const t = await r.json();
    expect([t.fleet, t.sites, t.updatedBy]).toEqual([{ osnr_low_db: 18 }, { Dallas: { osnr_low_db: 22.5 } }, 'admin']);
    const audit = (await get('/audit?kind=threshold')).audit;
    expect(audit.map((e: any) => [e.site, e.decision, e.actor, e.reason, e.details])).toEqual([
      ['Dallas', 'set', 'admin', 'long-haul link, tighter floor', { threshold: 'osnr_low_db', scope: 'Dallas', before: null, after: 22.5 }],
      [null, 'set', 'devops', 'new amplifiers fleet-wide', { threshold: 'osnr_low_db', scope: 'fleet', before: null, after: 18 }],
    ]);
  });

  test('rx power low must stay below high, at the fleet and at each site (with the fleet values)', async () => {
    expect((await put('Editor', { scope: 'fleet', threshold: 'rx_power_high_dbm', value: -5, reason: 'ceiling' })).status).toBe(200);
    const r = await put('Editor', { scope: 'Stone', threshold: 'rx_power_low_dbm', value: -4, reason: 'floor' });
    expect(r.status).toBe(400);
    expect((await r.json()).error).toMatch(/Stone: rx power low \(-4 dBm\) must stay below rx power high \(-5 dBm\)/);
    expect(applyChange({ fleet: {}, sites: {} }, { scope: 'fleet', threshold: 'rx_power_low_dbm', value: -20, reason: 'x' }).doc).toEqual({ fleet: { rx_power_low_dbm: -20 }, sites: {} });
    expect(parseChange({ scope: 'fleet', threshold: 'anomaly_score', value: null, reason: 'back to exporter' }).change?.value).toBeNull();
  });

  test('exported for Prometheus (promtool check metrics is silent); cleared values disappear; survives a restart', async () => {
    let text = await (await fetch(`${svc.url}/metrics`)).text();
    expect(text).toMatch(/^optifiber_fleet_osnr_low_threshold_db\{scope="fleet"\} 18$/m);
    expect(text).toMatch(/^optifiber_override_osnr_low_threshold_db\{site="Dallas"\} 22\.5$/m);
    expect(text).not.toMatch(/^optifiber_fleet_anomaly_score_threshold[ {]/m);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (lint.error) throw new Error(`promtool is required (apt-get install prometheus): ${lint.error.message}`);
    expect(`${lint.stdout}${lint.stderr}`.trim()).toBe('');
    expect(lint.status).toBe(0);
    expect((await put('Editor', { scope: 'Dallas', threshold: 'osnr_low_db', value: null, reason: 'link repaired' })).status).toBe(200);
    await boot();
    const t = await get('/thresholds');
    expect([t.fleet.osnr_low_db, t.sites]).toEqual([18, {}]);
    text = await (await fetch(`${svc.url}/metrics`)).text();
    expect(text).not.toMatch(/^optifiber_override_osnr_low_threshold_db\{/m);
    expect((await get('/audit?kind=threshold')).audit[0]).toMatchObject({ decision: 'clear', site: 'Dallas', reason: 'link repaired' });
  });
});
