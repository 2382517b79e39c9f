// Grafana's plugin-proxy semantics for app plugin routes, for tests and the
// browser harness (no Grafana server can run here). Mirrors
// pkg/api/pluginproxy/pluginproxy.go (Grafana 11-13), HandleRequest + director:
//   /api/plugin-proxy/<plugin id>/<proxy path>
//   - routes are matched in order as a web tree pattern (not a prefix): "viewer"
//     matches only "viewer"; "viewer/*" matches "viewer/<rest>" and forwards <rest>;
//     no match -> 404 "plugin route match not found";
//   - `reqRole`: signedInUser.GetOrgRole().Includes(reqRole) (Admin > Editor >
//     Viewer; the org role only: a Grafana server admin with a Viewer org role is
//     a Viewer here), else 403 "plugin proxy route access denied";
//   - target = JoinURLFragments(route.url path, <rest>) on the route URL's host
//     (templated from jsonData), the query string kept;
//   - route `headers` are templated ({{ .JsonData.x }}, {{ .SecureJsonData.x }}) and
//     SET on the outgoing request, overwriting whatever the browser sent;
//   - the Cookie header is removed; X-Grafana-User = login with
//     [dataproxy] send_user_header = true.
import { readFileSync } from 'node:fs';

const RANK = { None: -1, Viewer: 0, Editor: 1, Admin: 2 };

export function loadPluginJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Grafana's route templating: {{ .JsonData.key }} and {{ .SecureJsonData.key }}. */
export function interpolate(template, { jsonData = {}, secureJsonData = {} }) {
  return template.replace(/\{\{\s*\.(JsonData|SecureJsonData)\.([A-Za-z0-9_]+)\s*\}\}/g, (_, kind, key) => {
    const v = (kind === 'JsonData' ? jsonData : secureJsonData)[key];
    return v === undefined || v === null ? '' : String(v);
  });
}

export function hasRole(user, reqRole) {
  if (!reqRole) return true;
  return (RANK[user.role] ?? -1) >= RANK[reqRole];
}

/** Grafana's route tree match for the patterns plugin.json routes use: exact, or "<prefix>/*". */
export function matchRoutePath(pattern, proxyPath) {
  if (pattern.endsWith('/*')) {
    const prefix = pattern.slice(0, -1);
    return proxyPath.startsWith(prefix) ? { rest: proxyPath.slice(prefix.length) } : undefined;
  }
  return pattern.replace(/\/+$/, '') === proxyPath.replace(/\/+$/, '') ? { rest: '' } : undefined;
}

/** util.JoinURLFragments */
export function joinURLFragments(a, b) {
  if (!b) return a;
  return `${a.replace(/\/+$/, '')}/${b.replace(/^\/+/, '')}`;
}

/**
 * Decides one proxied request.
 * @param {{ routes: any[], settings: {jsonData: object, secureJsonData: object}, user: {login: string, role: string}, method?: string,
 *           proxyPath: string, search?: string, headers?: Record<string,string>, sendUserHeader?: boolean }} o
 * @returns {{ status: number, body: object } | { url: string, headers: Record<string,string>, route: string }}
 */
export function planProxyRequest(o) {
  let route;
  let m;
  for (const r of o.routes) {
    if (r.method && r.method !== '*' && o.method && r.method !== o.method) continue;
    m = matchRoutePath(r.path, o.proxyPath);
    if (m) { route = r; break; }
  }
  if (!route) return { status: 404, body: { message: 'plugin route match not found' } };
  if (!hasRole(o.user, route.reqRole)) return { status: 403, body: { message: 'plugin proxy route access denied' } };
  const base = interpolate(route.url, o.settings);
  let target;
  try { target = new URL(base); } catch { return { status: 502, body: { message: 'Bad Gateway' } }; } // Grafana: empty host -> the reverse proxy fails
  if (!/^https?:$/.test(target.protocol)) return { status: 502, body: { message: 'Bad Gateway' } };
  const url = `${target.protocol}//${target.host}${joinURLFragments(target.pathname === '/' ? '' : target.pathname, m.rest) || '/'}${o.search ?? ''}`;
  const headers = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    const lk = k.toLowerCase();
    if (lk === 'cookie' || lk === 'host' || lk === 'connection' || lk === 'content-length') continue;
    headers[lk] = v;
  }
  if (o.sendUserHeader !== false) headers['x-grafana-user'] = o.user.login;
  for (const h of route.headers ?? []) headers[h.name.toLowerCase()] = interpolate(h.content, o.settings);
  return { url, headers, route: route.path.replace(/\/\*$/, '') };
}
