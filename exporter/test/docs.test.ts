// Issue 14 item 2: the API explorer at /docs (http/docs.ts) on the whole
// ExporterServer: page, vendored assets and OpenAPI document served locally,
// behind the web config's authentication, "try it out" on the same origin.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { basic, call, HASH, PASSWORD, startSecure, type SecFixture } from './security-fixture.js';
import { OPENAPI_FILE } from '../src/http/server.js';

/** What swagger-client does with a relative server URL: resolve it against the document's URL, drop the trailing slash. */
const tryItOutUrl = (docUrl: string, server: string, route: string) => new URL(server, docUrl).href.replace(/\/$/, '') + route;

describe('/docs without authentication configured', () => {
  let f: SecFixture;
  beforeAll(async () => {
    f = await startSecure({ controlToken: null });
  });
  afterAll(() => f.close());

  test('/docs redirects (relatively, for proxies) to the page, which loads only local assets and no inline script', async () => {
    const r = await call(`${f.base}/docs`);
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('docs/');
    const p = await call(`${f.base}/docs/`);
    expect(p.status).toBe(200);
    expect(p.headers['content-type']).toMatch(/^text\/html/);
    expect(p.headers['content-security-policy']).toMatch(/script-src 'self'/);
    const srcs = [...p.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(srcs.sort()).toEqual(['assets/favicon-32x32.png', 'assets/init.js', 'assets/swagger-ui-bundle.js', 'assets/swagger-ui.css', 'assets/theme.css']);
    expect(p.text).not.toMatch(/<script>|<style>|https?:\/\//);
    for (const s of srcs) {
      const a = await call(`${f.base}/docs/${s}`);
      expect([s, a.status]).toEqual([s, 200]);
    }
    const bundle = await call(`${f.base}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.headers['content-type']).toMatch(/^text\/javascript/);
    expect(bundle.text).toContain('SwaggerUIBundle');
    expect((await call(`${f.base}/docs/assets/init.js`)).text).toContain("url: 'openapi.yaml'");
  });

  test('only the listed files of swagger-ui-dist are served (no traversal, no package.json)', async () => {
    for (const p of ['/docs/assets/package.json', '/docs/assets/index.html', '/docs/assets/..%2f..%2fpackage.json', '/docs/assets/%2e%2e%2fswagger-ui.css']) {
      const r = await call(`${f.base}${p}`);
      expect([p, r.status]).toEqual([p, 404]);
    }
  });

  test('the served document is docs/openapi.yaml with its server made relative to the page', async () => {
    const r = await call(`${f.base}/docs/openapi.yaml`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/yaml/);
    const served = YAML.parse(r.text);
    const source = YAML.parse(readFileSync(OPENAPI_FILE, 'utf8'));
    expect(served.paths).toEqual(source.paths);
    expect(served.servers).toEqual([expect.objectContaining({ url: '../' })]);
  });

  test('"try it out" for a GET resolves to this origin and the API answers there', async () => {
    const served = YAML.parse((await call(`${f.base}/docs/openapi.yaml`)).text);
    const url = tryItOutUrl(`${f.base}/docs/openapi.yaml`, served.servers[0].url, '/api/v1/sites');
    expect(url).toBe(`${f.base}/api/v1/sites`);
    const r = await call(url);
    expect(r.status).toBe(200);
    expect(r.body.sites.map((s: { name: string }) => s.name).sort()).toEqual(['lyon-2', 'paris-1']);
  });

  test('the index page links to the explorer', async () => {
    expect((await call(`${f.base}/`)).text).toContain('href="/docs/"');
  });
});

describe('/docs with basic auth (web config)', () => {
  let f: SecFixture;
  beforeAll(async () => {
    f = await startSecure({ controlToken: null, webConfig: ['basic_auth_users:', `  prometheus: ${HASH}`].join('\n') });
  });
  afterAll(() => f.close());

  test.each(['/docs', '/docs/', '/docs/openapi.yaml', '/docs/assets/swagger-ui-bundle.js', '/docs/assets/init.js'])('%s: 401 without credentials, 200 or 302 with them', async (p) => {
    const anon = await call(`${f.base}${p}`);
    expect(anon.status).toBe(401);
    expect(anon.text).not.toContain('SwaggerUIBundle');
    const wrong = await call(`${f.base}${p}`, { headers: { Authorization: basic('prometheus', 'nope') } });
    expect(wrong.status).toBe(401);
    const ok = await call(`${f.base}${p}`, { headers: { Authorization: basic('prometheus', PASSWORD) } });
    expect(ok.status).toBe(p === '/docs' ? 302 : 200);
  });

  test('"try it out" on the same origin needs the same credentials the browser already sent for the page', async () => {
    const url = tryItOutUrl(`${f.base}/docs/openapi.yaml`, '../', '/api/v1/snapshot');
    expect((await call(url)).status).toBe(401);
    expect((await call(url, { headers: { Authorization: basic('prometheus', PASSWORD) } })).status).toBe(200);
  });
});
