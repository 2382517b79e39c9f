// Test helpers: a stub exporter (stub-exporter.mjs, shared with the app's e2e
// stack; here cmd_add is applied after a short delay like a real tick),
// secret files, webhook payloads, a service config.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStubExporter as startStub, type StubExporter } from './stub-exporter.mjs';

export type { StubExporter, StubSite } from './stub-exporter.mjs';

export function startStubExporter(names: string[] = ['paris-1', 'lyon-2'], token = 'exporter-control-token-0123456789'): Promise<StubExporter> {
  return startStub({ names, token, applyDelayMs: 20 });
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
