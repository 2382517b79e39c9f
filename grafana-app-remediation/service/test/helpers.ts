// Test helpers: a stub exporter (GET /api/v1/sites, POST .../commands with a
// bearer token, cmd_add applied after a short delay like a real tick), secret
// files, webhook payloads, a service config.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StubSite { name: string; cmdModules: number; cmdModulesMax: number; moduleCapacityBps: number }
export interface StubExporter { url: string; token: string; sites: Map<string, StubSite>; cmdAdds: { site: string; n: number }[]; stop(): Promise<void> }

export async function startStubExporter(names: string[] = ['paris-1', 'lyon-2'], token = 'exporter-control-token-0123456789'): Promise<StubExporter> {
  const sites = new Map(names.map((n) => [n, { name: n, cmdModules: 4, cmdModulesMax: 16, moduleCapacityBps: 100e9 / 8 }]));
  const cmdAdds: { site: string; n: number }[] = [];
  const server: Server = createServer((req, res) => {
    const send = (s: number, b: unknown) => { res.writeHead(s, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(b)); };
    if (req.method === 'GET' && req.url === '/api/v1/sites') {
      return send(200, { seq: 1, sites: [...sites.values()].map((s) => ({ name: s.name, valid: true, cmdModules: s.cmdModules, cmdModulesMax: s.cmdModulesMax, capacityBps: s.cmdModules * s.moduleCapacityBps, moduleCapacityBps: s.moduleCapacityBps })) });
    }
    const m = /^\/api\/v1\/sites\/([^/]+)\/commands$/.exec(req.url ?? '');
    if (req.method === 'POST' && m) {
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'bad token' });
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const s = sites.get(decodeURIComponent(m[1]!));
        if (!s) return send(404, { error: 'unknown site' });
        const n = (JSON.parse(body) as { cmd_add: number }).cmd_add;
        if (s.cmdModules + n > s.cmdModulesMax) return send(409, { error: 'ERANGE' });
        cmdAdds.push({ site: s.name, n });
        const before = s.cmdModules;
        setTimeout(() => { s.cmdModules += n; send(200, { site: s.name, result: 'applied', before: { cmdModules: before }, after: { cmdModules: s.cmdModules } }); }, 20);
      });
      return;
    }
    send(404, { error: 'no route' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, token, sites, cmdAdds, stop: () => { server.closeAllConnections(); return new Promise<void>((r) => server.close(() => r())); } };
}

export function tmpDir(prefix = 'rem-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function secrets(dir: string) {
  const w = (n: string, v: string) => { const p = join(dir, n); writeFileSync(p, v + '\n', { mode: 0o600 }); return p; };
  return {
    webhookToken: 'webhook-token-0123456789abcdef',
    apiToken: 'api-proxy-token-0123456789abcdef',
    mcpSecret: 'mcp-client-secret-0123456789',
    webhookTokenFile: w('webhook_token', 'webhook-token-0123456789abcdef'),
    apiTokenFile: w('api_token', 'api-proxy-token-0123456789abcdef'),
    mcpSecretFile: w('mcp_secret', 'mcp-client-secret-0123456789'),
  };
}

export function alert(o: { site?: string; status?: 'firing' | 'resolved'; fingerprint?: string; startsAt?: string; remediation?: string | null } = {}) {
  const labels: Record<string, string> = { alertname: 'OptiFiberCapacityForecastHigh', severity: 'warning', instance: '127.0.0.1:9886', job: 'optifiber' };
  if (o.site !== undefined || !('site' in o)) labels.site = o.site ?? 'paris-1';
  if (o.remediation !== null) labels.remediation = o.remediation ?? 'auto';
  return {
    status: o.status ?? 'firing',
    labels,
    annotations: { summary: 'forecast high' },
    startsAt: o.startsAt ?? '2026-11-21T18:00:00.123456789Z',
    endsAt: o.status === 'resolved' ? '2026-11-21T18:10:00Z' : '0001-01-01T00:00:00Z',
    generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=x',
    fingerprint: o.fingerprint ?? 'a1b2c3d4e5f60718',
  };
}

export function payload(alerts: ReturnType<typeof alert>[], status?: 'firing' | 'resolved') {
  return {
    version: '4',
    groupKey: '{}/{remediation="auto"}:{alertname="OptiFiberCapacityForecastHigh", site="paris-1"}',
    truncatedAlerts: 0,
    status: status ?? (alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved'),
    receiver: 'remediation',
    groupLabels: { alertname: 'OptiFiberCapacityForecastHigh' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts,
  };
}

export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 10000, what = 'condition'): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
