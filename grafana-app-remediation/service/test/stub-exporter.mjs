// A stub of the exporter's API for the remediation service's tests and the
// app's e2e stack (e2e/app/remediation-stack.mjs): GET /api/v1/sites, and
// POST /api/v1/sites/<site>/commands with the control bearer token, applying
// cmd_add (after applyDelayMs, like a real tick, when given).
import { createServer } from 'node:http';

/**
 * @param {{ names: string[], token: string, applyDelayMs?: number }} o
 * @returns {Promise<import('./stub-exporter.d.mts').StubExporter>}
 */
export async function startStubExporter({ names, token, applyDelayMs = 0 }) {
  const sites = new Map(names.map((n) => [n, { name: n, cmdModules: 4, cmdModulesMax: 16, moduleCapacityBps: 100e9 / 8 }]));
  const cmdAdds = [];
  const server = createServer((req, res) => {
    const send = (s, b) => { res.writeHead(s, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(b)); };
    if (req.method === 'GET' && req.url === '/api/v1/sites') {
      return send(200, { seq: 1, sites: [...sites.values()].map((s) => ({ name: s.name, valid: true, cmdModules: s.cmdModules, cmdModulesMax: s.cmdModulesMax, capacityBps: s.cmdModules * s.moduleCapacityBps, moduleCapacityBps: s.moduleCapacityBps })) });
    }
    const m = /^\/api\/v1\/sites\/([^/]+)\/commands$/.exec(req.url ?? '');
    if (req.method === 'POST' && m) {
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'bad token' });
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const s = sites.get(decodeURIComponent(m[1]));
        if (!s) return send(404, { error: 'unknown site' });
        const n = JSON.parse(body).cmd_add;
        if (s.cmdModules + n > s.cmdModulesMax) return send(409, { error: 'ERANGE' });
        cmdAdds.push({ site: s.name, n });
        const before = s.cmdModules;
        const apply = () => { s.cmdModules += n; send(200, { site: s.name, result: 'applied', before: { cmdModules: before }, after: { cmdModules: s.cmdModules } }); };
        if (applyDelayMs > 0) setTimeout(apply, applyDelayMs);
        else apply();
      });
      return;
    }
    send(404, { error: 'no route' });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, token, sites, cmdAdds, stop: () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); } };
}
