// A tiny loopback stand-in for the parts of Grafana's server the app plugin
// uses, in front of the Vite harness:
//   - sign-in: GET /login?user=<login>&next=<path> sets an HttpOnly session
//     cookie; the session (server side) holds the user's org role, so the
//     browser cannot choose its role, as in Grafana;
//   - GET /a/optifiber-remediation-app/... and /plugins/optifiber-remediation-app:
//     the harness page (e2e/harness/app.html) with window.grafanaBootData for
//     the session's user (orgRole, theme), like Grafana's index.html;
//   - GET/POST /api/plugins/optifiber-remediation-app/settings: jsonData and
//     secureJsonData (write-only: GET answers secureJsonFields, never values;
//     POST needs an org Admin);
//   - /api/plugin-proxy/optifiber-remediation-app/<route>/...: the app's
//     plugin.json routes with Grafana's semantics (grafana-app-remediation/dev/plugin-proxy.mjs):
//     reqRole check, route headers (bearer token from secureJsonData and
//     X-OptiFiber-Role) set over anything the browser sent;
//   - everything else is passed to the Vite dev server.
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPluginJson, planProxyRequest } from '../../grafana-app-remediation/dev/plugin-proxy.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PLUGIN_JSON = join(root, 'grafana-app-remediation/src/plugin.json');
export const PLUGIN_ID = loadPluginJson(PLUGIN_JSON).id;
export const USERS = {
  noc: { login: 'noc', name: 'NOC operator', role: 'Viewer' },
  devops: { login: 'devops', name: 'DevOps engineer', role: 'Editor' },
  admin: { login: 'admin', name: 'Platform admin', role: 'Admin' },
};

export async function startGrafanaStandin({ viteUrl, serviceUrl, serviceToken }) {
  const pluginJson = loadPluginJson(PLUGIN_JSON);
  const settings = { enabled: true, pinned: true, jsonData: { serviceUrl }, secureJsonData: { serviceToken } };
  const sessions = new Map();
  /** Every proxied call: { route, method, path, status, role } (role = the header the service got). */
  const proxied = [];
  const settingsPosts = [];

  const json = (res, status, body, headers = {}) => { res.writeHead(status, { 'Content-Type': 'application/json', ...headers }); res.end(JSON.stringify(body)); };
  const readBody = (req) => new Promise((resolve) => { const c = []; req.on('data', (d) => c.push(d)); req.on('end', () => resolve(Buffer.concat(c))); });
  const sessionUser = (req) => {
    const m = /(?:^|;\s*)grafana_session=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '');
    return m ? sessions.get(m[1]) : undefined;
  };
  const publicSettings = () => ({ id: PLUGIN_ID, type: 'app', name: pluginJson.name, enabled: settings.enabled, pinned: settings.pinned, jsonData: settings.jsonData,
    secureJsonFields: Object.fromEntries(Object.entries(settings.secureJsonData).filter(([, v]) => v).map(([k]) => [k, true])), info: pluginJson.info, includes: pluginJson.includes });

  const passToVite = (req, res, path = req.url, transform) => {
    const u = new URL(path, viteUrl);
    const headers = { ...req.headers, host: u.host };
    delete headers['accept-encoding'];
    if (transform) { delete headers['if-none-match']; delete headers['if-modified-since']; }
    const up = httpRequest(u, { method: req.method, headers }, (r) => {
      if (!transform) { res.writeHead(r.statusCode, r.headers); r.pipe(res); return; }
      const chunks = [];
      r.on('data', (d) => chunks.push(d));
      r.on('end', () => {
        const body = transform(Buffer.concat(chunks).toString('utf8'));
        // per-session page (boot data): never cached
        const h = { ...r.headers, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' };
        delete h.etag;
        res.writeHead(r.statusCode, h);
        res.end(body);
      });
    });
    up.on('error', (e) => json(res, 502, { message: `vite: ${e.message}` }));
    req.pipe(up);
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://standin');
    const user = sessionUser(req);
    try {
      if (url.pathname === '/login') {
        const u = USERS[url.searchParams.get('user') ?? ''];
        if (!u) return json(res, 401, { message: 'invalid username' });
        const id = randomBytes(18).toString('base64url');
        sessions.set(id, { ...u, theme: url.searchParams.get('theme') === 'light' ? 'light' : 'dark' });
        const next = url.searchParams.get('next') ?? `/a/${PLUGIN_ID}/overview`;
        res.writeHead(302, { Location: next.startsWith('/') ? next : '/', 'Set-Cookie': `grafana_session=${id}; Path=/; HttpOnly; SameSite=Lax` });
        return res.end();
      }
      const isPage = url.pathname.startsWith(`/a/${PLUGIN_ID}`) || url.pathname === `/plugins/${PLUGIN_ID}`;
      if (isPage) {
        if (!user) { res.writeHead(302, { Location: `/login?next=${encodeURIComponent(req.url)}` }); return res.end(); }
        const boot = {
          settings: { appSubUrl: '', buildInfo: { version: '13.1.1' }, featureToggles: {}, datasources: {}, panels: {}, theme2: undefined },
          user: { login: user.login, name: user.name, orgRole: user.role, isGrafanaAdmin: false, isSignedIn: true, timezone: 'utc', locale: 'en-US', language: 'en-US', lightTheme: user.theme === 'light', theme: user.theme },
          navTree: [],
        };
        const inject = `<script>window.__grafana_public_path__ = '/public/'; window.grafanaBootData = ${JSON.stringify(boot).replace(/</g, '\\u003c')};</script>`;
        return passToVite(req, res, '/app.html', (html) => html.replace('<head>', `<head>${inject}`));
      }
      if (url.pathname === `/api/plugins/${PLUGIN_ID}/settings`) {
        if (!user) return json(res, 401, { message: 'Unauthorized' });
        if (req.method === 'GET') return json(res, 200, publicSettings());
        if (req.method === 'POST') {
          const body = JSON.parse((await readBody(req)).toString('utf8') || '{}');
          settingsPosts.push({ user: user.login, body });
          if (user.role !== 'Admin') return json(res, 403, { message: 'Permission denied' });
          if (body.jsonData) settings.jsonData = body.jsonData;
          for (const [k, v] of Object.entries(body.secureJsonData ?? {})) settings.secureJsonData[k] = v;
          if (typeof body.enabled === 'boolean') settings.enabled = body.enabled;
          return json(res, 200, { message: 'Plugin settings updated' });
        }
        return json(res, 405, { message: 'method not allowed' });
      }
      const pp = new RegExp(`^/api/plugin-proxy/${PLUGIN_ID}/(.*)$`).exec(url.pathname);
      if (pp) {
        if (!user) return json(res, 401, { message: 'Unauthorized' });
        const plan = planProxyRequest({ routes: pluginJson.routes, settings, user, method: req.method, proxyPath: pp[1], search: url.search, headers: req.headers, sendUserHeader: true });
        if ('status' in plan) {
          proxied.push({ route: pp[1].split('/')[0], method: req.method, path: pp[1], status: plan.status, role: null, by: 'grafana' });
          return json(res, plan.status, plan.body);
        }
        const body = await readBody(req);
        const up = httpRequest(plan.url, { method: req.method, headers: { ...plan.headers, ...(body.length ? { 'content-length': body.length } : {}) } }, (r) => {
          proxied.push({ route: plan.route, method: req.method, path: pp[1], status: r.statusCode, role: plan.headers['x-optifiber-role'], by: 'service' });
          const h = { ...r.headers };
          delete h['www-authenticate'];
          res.writeHead(r.statusCode, h);
          r.pipe(res);
        });
        up.on('error', (e) => json(res, 502, { message: `Bad Gateway: ${e.message}` }));
        up.end(body);
        return;
      }
      return passToVite(req, res);
    } catch (e) {
      json(res, 500, { message: String(e?.message ?? e) });
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url, settings, proxied, settingsPosts,
    loginUrl: (user, next = `/a/${PLUGIN_ID}/overview`, theme = 'dark') => `${url}/login?user=${user}&theme=${theme}&next=${encodeURIComponent(next)}`,
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); },
  };
}
