// Issue 14 item 2: the service's API explorer at /docs (exporter/src/http/docs.ts)
// behind the REST API's authentication (proxy token + role), and "try it out"
// through the same origin and path prefix (Grafana's plugin proxy).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { createLogger } from '@optifiber/exporter/log/logger';
import { loadConfig } from '../src/config.js';
import { OPENAPI_FILE } from '../src/http.js';
import { startRemediationService, type RemediationService } from '../src/service.js';
import { secrets, tmpDir } from './helpers.js';

const dir = tmpDir('rem-docs-');
const s = secrets(dir);
let svc: RemediationService;

beforeAll(async () => {
  const { config } = loadConfig({ env: {}, overrides: {
    web: { listen_address: '127.0.0.1:0' }, webhook: { bearer_token_file: s.webhookTokenFile }, api: { proxy_token_file: s.apiTokenFile },
    storage: { path: join(dir, 'docs.db') }, mcp: { url: 'http://127.0.0.1:9', client_secret_file: s.mcpSecretFile }, exporter: { url: 'http://127.0.0.1:9' },
  } });
  svc = await startRemediationService(config, { logger: createLogger({ level: 'error' }) });
});
afterAll(() => svc?.stop());

const as = (role: string) => ({ Authorization: `Bearer ${s.apiToken}`, 'X-OptiFiber-Role': role, 'X-Grafana-User': 'noc' });
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${svc.url}${path}`, { headers, redirect: 'manual' });

describe('API explorer (/docs)', () => {
  test.each(['/docs', '/docs/', '/docs/openapi.yaml', '/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/assets/init.js'])(
    '%s: 401 without the proxy token, 401 with a wrong one, 403 without a role, served with token and role',
    async (p) => {
      const anon = await get(p);
      expect(anon.status).toBe(401);
      expect(await anon.text()).not.toContain('SwaggerUIBundle');
      expect((await get(p, { Authorization: 'Bearer wrong-token' })).status).toBe(401);
      expect((await get(p, { Authorization: `Bearer ${s.apiToken}` })).status).toBe(403);
      for (const role of ['Viewer', 'Editor', 'Admin']) expect([role, (await get(p, as(role))).status]).toEqual([role, p === '/docs' ? 302 : 200]);
    },
  );

  test('the page references only local assets; the redirect is relative (works under /api/plugin-proxy/<app>/<role>/)', async () => {
    expect((await get('/docs', as('Viewer'))).headers.get('location')).toBe('docs/');
    const html = await (await get('/docs/', as('Viewer'))).text();
    expect(html).toContain('assets/swagger-ui-bundle.js');
    expect(html).not.toMatch(/https?:\/\/|<script>/);
  });

  test('the document is docs/remediation-openapi.yaml; "try it out" resolves under the same proxy prefix and answers with the proxy\'s role', async () => {
    const served = YAML.parse(await (await get('/docs/openapi.yaml', as('Editor'))).text());
    expect(served.paths).toEqual(YAML.parse(readFileSync(OPENAPI_FILE, 'utf8')).paths);
    expect(served.servers).toEqual([expect.objectContaining({ url: '../' })]);
    // As swagger-client does: the server URL resolved against the document's URL, trailing slash dropped.
    const viaProxy = new URL(served.servers[0].url, 'http://grafana.example/api/plugin-proxy/optifiber-remediation-app/editor/docs/openapi.yaml').href.replace(/\/$/, '');
    expect(viaProxy).toBe('http://grafana.example/api/plugin-proxy/optifiber-remediation-app/editor');
    const direct = new URL(served.servers[0].url, `${svc.url}/docs/openapi.yaml`).href.replace(/\/$/, '');
    const r = await get(`${direct.slice(svc.url.length)}/api/v1/whoami`, as('Editor'));
    expect(r.status).toBe(200);
    expect((await r.json()).role).toBe('Editor');
  });

  test('every route of the service is in the document', async () => {
    const doc = YAML.parse(readFileSync(OPENAPI_FILE, 'utf8'));
    // The routes live in src/http/*.ts (one module per group) and thresholds.ts.
    const httpDir = new URL('../src/http/', import.meta.url);
    const files = [...readdirSync(httpDir).map((f) => new URL(f, httpDir)), new URL('../src/thresholds.ts', import.meta.url)];
    const src = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    const routes = [...src.matchAll(/\bapi\.(get|put|post)\(`?'?([^'`,]+)/g)].map((m) => `/api/v1${m[2]!.replace('${verb}', '{verb}').replace(/:(\w+)/g, '{$1}')}`);
    const documented = Object.keys(doc.paths).map((p) => p.replace(/\/(approve|reject)$/, '/{verb}'));
    expect(routes.length).toBeGreaterThan(10); // the pattern still finds the routes where they are
    for (const r of routes) expect([r, documented.includes(r)]).toEqual([r, true]);
  });
});
