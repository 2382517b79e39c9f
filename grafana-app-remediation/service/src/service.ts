// Wires config, store, engine, MCP/exporter clients and the HTTP server.
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { loadWebConfig, webConfigMiddleware, type WebConfig } from '@optifiber/exporter/http/web-config';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@optifiber/exporter/log/logger';
import { parseListenAddress } from '@optifiber/exporter/config/schema';
import { ConfigError, readSecretFile, type Config } from './config.js';
import { Engine } from './engine.js';
import { ExporterClient } from './exporter-client.js';
import { buildApp } from './http.js';
import { McpClient } from './mcp-client.js';
import { createMetrics } from './metrics.js';
import type { ActionRow, Store } from './store.js';
import { openStore } from './store-open.js';

export interface RemediationService {
  url: string;
  engine: Engine;
  store: Store;
  stop(): Promise<void>;
}

export async function startRemediationService(config: Config, opts: { logger?: Logger; crashAt?: string; random?: () => number } = {}): Promise<RemediationService> {
  const log = opts.logger ?? createLogger({ level: config.log.level });
  const warnings: string[] = [];
  const secret = (path: string | undefined, what: string, min = 16) => {
    if (!path) return undefined;
    const r = readSecretFile(path, what, min);
    warnings.push(...r.warnings);
    return r.secret;
  };
  const webhookAuth = {
    ...(config.webhook.bearer_token_file ? { bearerToken: secret(config.webhook.bearer_token_file, 'webhook bearer token')! } : {}),
    ...(config.webhook.basic_auth_username ? { basicUser: config.webhook.basic_auth_username, basicPassword: secret(config.webhook.basic_auth_password_file, 'webhook basic-auth password', 8)! } : {}),
  };
  const proxyToken = secret(config.api.proxy_token_file, 'API proxy token');
  const mcpSecret = secret(config.mcp.client_secret_file, 'MCP client secret', 8)!;
  const grafanaToken = secret(config.grafana.token_file, 'Grafana token', 8);
  const exporterToken = secret(config.exporter.bearer_token_file, 'exporter read token');
  const mcpCa = config.mcp.ca_file ? readCaFile(config.mcp.ca_file, 'mcp.ca_file') : undefined;
  for (const w of warnings) log.warn({}, w);

  const metrics = createMetrics();
  const store = await openStore(config.storage, log);
  store.onCommit = (_n, ms) => metrics.commitBatch.observe(ms / 1000);
  const mcp = new McpClient({
    url: config.mcp.url,
    clientId: config.mcp.client_id,
    clientSecret: mcpSecret,
    ...(mcpCa ? { ca: mcpCa } : {}),
    requestTimeoutMs: config.mcp.request_timeout,
    backoffBaseMs: config.mcp.backoff_base,
    backoffMaxMs: config.mcp.backoff_max,
    pollIntervalMs: config.mcp.poll_interval,
    ...(opts.random ? { random: opts.random } : {}),
    observe: (operation, outcome, s) => metrics.mcpLatency.observe({ operation, outcome }, s),
  });
  const exporter = new ExporterClient(config.exporter.url, config.exporter.request_timeout, exporterToken);
  const annotate = config.grafana.url && grafanaToken ? grafanaAnnotator(config.grafana.url, grafanaToken, log) : undefined;
  const engine = new Engine({ config, store, metrics, logger: log, mcp, exporter, ...(opts.crashAt ? { crashAt: opts.crashAt } : {}), ...(annotate ? { onFinished: annotate } : {}) });
  try {
    await engine.init();
  } catch (e) {
    await store.close();
    throw e;
  }
  const web = config.web.config_file ? serviceWebConfig(config.web.config_file) : undefined;
  for (const w of web?.warnings ?? []) log.warn({ file: config.web.config_file }, w);
  const startedAt = Date.now();
  const app = buildApp({ ...(web ? { guard: webConfigMiddleware(web) } : {}), engine, store, metrics, logger: log, webhookAuth, ...(proxyToken ? { proxyToken } : {}), maxRequestBytes: config.web.max_request_bytes, startedAt, urls: { mcp: config.mcp.url, exporter: config.exporter.url } });
  const { host, port } = parseListenAddress(config.web.listen_address)!;
  const limits = { headersTimeout: config.web.header_timeout, requestTimeout: config.web.request_timeout, connectionsCheckingInterval: Math.min(1000, config.web.header_timeout) };
  const server: Server = web?.tls ? createHttpsServer({ ...web.tls, ...limits }, app) : createServer(limits, app);
  hardenServer(server, { keepAliveTimeoutMs: config.web.keep_alive_timeout, maxConnections: config.web.max_connections });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (e: unknown) => {
    await store.close(); // the SQLite lock with it
    throw e;
  });
  const addr = server.address() as AddressInfo;
  const url = `${web?.tls ? 'https' : 'http'}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  await engine.start();
  log.info({ url, storage: store.where, mcp: config.mcp.url, exporter: config.exporter.url, api: proxyToken ? 'enabled' : 'disabled' }, 'remediation service started');
  return {
    url,
    engine,
    store,
    stop: async () => {
      await engine.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      mcp.close();
      exporter.close();
      await store.close();
    },
  };
}

/** PEM CA certificate(s) from a file, or a ConfigError naming the key and what is wrong. */
function readCaFile(file: string, key: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`${key} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) throw new ConfigError([`${key} ${file}: no PEM certificate (-----BEGIN CERTIFICATE-----)`]);
  return text;
}

/**
 * The exporter's web-config loader (exporter-toolkit format), one home for
 * the format: TLS and response headers apply here too. basic_auth_users
 * would guard every route with one more credential, on top of the
 * webhook's and the API's own: refused rather than half-applied.
 */
function serviceWebConfig(file: string): WebConfig {
  const wc = loadWebConfig(file);
  if (wc.basicAuthUsers.size > 0)
    throw new ConfigError([`web config ${file}: basic_auth_users is not supported by the remediation service: the webhook (webhook.*) and the API (api.proxy_token_file) each have their own credential; remove it`]);
  return wc;
}

/**
 * Bounds what one client can hold (slowloris): headers and whole requests
 * time out (set at createServer; checked every connectionsCheckingInterval),
 * idle keep-alive connections close, and beyond maxConnections a new
 * connection is closed at once.
 */
export function hardenServer(server: Server, o: { keepAliveTimeoutMs: number; maxConnections: number }): void {
  server.keepAliveTimeout = o.keepAliveTimeoutMs;
  server.maxConnections = o.maxConnections;
  server.maxHeadersCount = 100;
}

/** Posts one Grafana annotation per finished action (best effort, never blocks the engine). */
function grafanaAnnotator(url: string, token: string, log: Logger): (a: ActionRow) => void {
  return (a) => {
    const body = {
      time: Date.parse(a.created_at),
      timeEnd: Date.parse(a.finished_at ?? a.updated_at),
      tags: ['optifiber', 'remediation', `site:${a.site}`, `result:${a.result ?? 'unknown'}`],
      text: `Remediation ${a.result}: ${a.site} +${a.count} CMD module(s) (action ${a.id}${a.job_id ? `, MCP job ${a.job_id}` : ''}${a.approved_by ? `, approved by ${a.approved_by}` : ''}). ${a.reason ?? ''}`,
    };
    fetch(`${url.replace(/\/$/, '')}/api/annotations`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) })
      .then((r) => {
        if (!r.ok) log.warn({ action: a.id, status: r.status }, 'Grafana annotation refused');
      })
      .catch((e: unknown) => log.warn({ action: a.id, err: e }, 'Grafana annotation failed'));
  };
}
