// The HTTP server: /metrics, /-/healthy, /-/ready, the API and control
// routers, request limits, authentication from the web config, JSON errors
// without stack traces, graceful close. Its parts live beside it:
// build-info.ts, negotiate.ts and metrics-route.ts (/metrics),
// render-cache.ts (rendered bodies and their buffers), models.ts (the AI
// stage) and start.ts (startExporter: source + sampler + server).
import { existsSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { apiNotFound, apiRouter, type ApiRouter } from '../api/router.js';
import { jsonErrorHandler, rateLimitedLog, sendError } from '../api/errors.js';
import { CONTROL_BODY_LIMIT, controlRouter } from '../control/router.js';
import type { ControlAudit } from '../control/audit.js';
import type { ControlChannel } from '../control/channel.js';
import { authenticatorFor, createWebServer, grantsControl, webConfigMiddleware, WebConfigWatcher, type WebConfig } from './web-config.js';
import type { Authenticator, BearerCredential } from './credentials.js';
import { docsRouter } from './docs.js';
import { parseListenAddress, type Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { standardRegistry, type StandardRegistry } from '../metrics/catalogue.js';
import { enabledCollectors } from '../metrics/collector-table.js';
import type { BuildInfo } from '../metrics/registry.js';
import type { Sampler } from '../sampler/sampler.js';
import { buildInfo } from './build-info.js';
import { metricsRoute } from './metrics-route.js';
import { RenderCache } from './render-cache.js';

/** The API's OpenAPI document: docs/openapi.yaml of the repository (src/http and dist/http are both three levels below it). */
export const OPENAPI_FILE = fileURLToPath(new URL('../../../docs/openapi.yaml', import.meta.url));

const INDEX_PATHS = ['/metrics', '/api/v1/sites', '/api/v1/snapshot', '/api/v1/stream', '/docs/', '/-/healthy', '/-/ready'];
const INDEX_HTML =
  '<html><head><title>OptiFiber exporter</title></head><body><h1>OptiFiber exporter</h1><ul>' +
  INDEX_PATHS.map((p) => `<li><a href="${p}">${p}</a></li>`).join('') +
  '</ul></body></html>\n';

export interface ServerOptions {
  config: Config;
  sampler: Sampler;
  log: Logger;
  metrics?: StandardRegistry;
  build?: BuildInfo;
  control?: { channel?: ControlChannel; token?: string; audit?: ControlAudit; rateLimit?: { burst: number; perSecond: number } };
  webConfig?: WebConfig;
  /** The file webConfig came from: watched and re-read on change (certificate rotation). */
  webConfigFile?: string;
  /** Slowloris bounds; defaults 10 s for the headers, 60 s for a whole request. */
  timeouts?: { headersMs?: number; requestMs?: number };
}

/** The control route: it authenticates for the control scope itself. */
const CONTROL_ROUTE = /^\/api\/v1\/sites\/[^/]+\/commands\/?$/;

export class ExporterServer {
  readonly app: express.Express;
  readonly server: http.Server;
  readonly metrics: StandardRegistry;
  private readonly api: ApiRouter;
  private readonly renders: RenderCache;
  private closing: Promise<void> | undefined;
  /** Open connections -> requests in flight on each. */
  private readonly sockets = new Map<net.Socket, number>();
  /** Re-reads the web config on change (undefined without --web.config.file). */
  readonly webConfigWatcher: WebConfigWatcher | undefined;
  private readonly fixedAuth: Authenticator | undefined;

  constructor(private readonly opts: ServerOptions) {
    const { config, sampler, log } = opts;
    this.metrics = opts.metrics ?? standardRegistry(log, enabledCollectors(config.collector));
    const build = opts.build ?? buildInfo();
    this.renders = new RenderCache(
      this.metrics.registry,
      () => ({ tick: sampler.latest(), thresholds: config.thresholds, stats: sampler.stats, build }),
      () => this.closing !== undefined,
    );
    sampler.onTickDuration((s) => this.metrics.exporter.tickDuration.observe(s));
    sampler.onTick((t) => this.renders.prerender(t.seq));
    this.app = express();
    this.app.disable('x-powered-by');
    this.app.set('etag', false);
    this.app.set('env', 'production');
    this.useRequestGuards();
    const auth = this.createAuth();
    this.webConfigWatcher = auth.watcher;
    this.fixedAuth = auth.fixed;
    const currentAuth = () => this.webConfigWatcher?.authenticator ?? this.fixedAuth!;
    if (opts.webConfig) {
      const w = this.webConfigWatcher;
      this.app.use(webConfigMiddleware(opts.webConfig, { authenticator: currentAuth, skip: (req) => CONTROL_ROUTE.test(req.path), ...(w ? { liveConfig: () => w.config } : {}) }));
    }
    this.api = apiRouter({ sampler, logger: log });
    this.useRoutes(currentAuth);
    this.server = (opts.webConfig ? createWebServer(opts.webConfig, this.app) : http.createServer({ connectionsCheckingInterval: 1000 }, this.app)) as http.Server;
    this.webConfigWatcher?.attach(this.server);
    this.limitServer();
    this.trackConnections();
  }

  /** Malformed paths and oversized bodies are refused before any route runs. */
  private useRequestGuards(): void {
    const { config, log } = this.opts;
    const maxBody = config.web.max_request_bytes;
    // A path that is not valid percent-encoding (%FF%FE, a lone %) is the client's error: 400, one log line per 10 s at most.
    const malformed = rateLimitedLog(log, 10_000);
    this.app.use((req, res, next) => {
      try {
        decodeURIComponent(req.path);
      } catch {
        malformed({ remote: req.socket.remoteAddress, method: req.method }, 'malformed request path (invalid percent-encoding) answered 400');
        sendError(res, 400, 'request path is not valid percent-encoding');
        return;
      }
      next();
    });
    this.app.use((req, res, next) => {
      const len = Number(req.headers['content-length'] ?? 0);
      if (len > maxBody) {
        sendError(res, 413, `request body larger than ${maxBody} bytes (web.max_request_bytes)`);
        return;
      }
      next();
    });
  }

  /**
   * Identities: the web config's (basic_auth_users, bearer_tokens) plus the
   * --control.token-file token; with a web config file, a watcher that
   * re-reads it on change, else one fixed authenticator.
   */
  private createAuth(): { watcher?: WebConfigWatcher; fixed?: Authenticator } {
    const { opts } = this;
    const extra: BearerCredential[] = opts.control?.token ? [{ name: 'control-token', token: opts.control.token, scopes: ['read', 'control'] }] : [];
    const failures = this.metrics.exporter.authFailures;
    const buildAuth = (wc: WebConfig | undefined) => authenticatorFor(wc, extra, (reason) => failures.set(reason, (failures.get(reason) ?? 0) + 1));
    if (!opts.webConfig || opts.webConfigFile === undefined) return { fixed: buildAuth(opts.webConfig) };
    const watcher = this.watchWebConfig(opts.webConfig, opts.webConfigFile, buildAuth);
    this.metrics.exporter.webConfigReload = () => watcher.lastReloadSuccessful;
    return { watcher };
  }

  private watchWebConfig(webConfig: WebConfig, file: string, buildAuth: (wc: WebConfig | undefined) => Authenticator): WebConfigWatcher {
    const { log } = this.opts;
    // Control commands are audited to disk only when the trail was opened at start (startExporter).
    const persistent = this.opts.control?.audit?.file !== undefined;
    return new WebConfigWatcher(
      file,
      webConfig,
      buildAuth,
      (wc, err) => {
        if (err) log.error({ file, err }, 'web config changed but the new version is invalid; keeping the last good one');
        else {
          for (const w of wc.warnings) log.warn({ file }, w);
          log.info({ file }, 'web config reloaded');
        }
      },
      (next) => (!persistent && grantsControl(next) ? 'granting the control scope needs a restart (the control audit trail is opened at start)' : undefined),
    );
  }

  private useRoutes(currentAuth: () => Authenticator): void {
    const { app, opts } = this;
    const { sampler, log } = opts;
    app.get('/metrics', metricsRoute({ cache: this.renders, latest: () => sampler.latest(), scrapeDuration: this.metrics.exporter.scrapeDuration, log }));
    app.get('/-/healthy', (_req, res) => {
      res.type('text/plain').send('OK\n');
    });
    app.get('/-/ready', (_req, res) => {
      if (sampler.latest()) res.type('text/plain').send('OK\n');
      else res.status(503).type('text/plain').send('not ready: no tick published yet\n');
    });
    app.get('/', (_req, res) => {
      res.type('text/html').send(INDEX_HTML);
    });
    // The explorer sits behind the web config's authentication like every other path.
    if (existsSync(OPENAPI_FILE)) app.use(docsRouter({ specFile: OPENAPI_FILE }));
    else log.warn({ file: OPENAPI_FILE }, 'no OpenAPI document next to this install; /docs is not served');
    app.use(this.api);
    const ctl: Parameters<typeof controlRouter>[0] = { sampler, logger: log, bodyLimit: Math.min(opts.config.web.max_request_bytes, CONTROL_BODY_LIMIT), authenticator: currentAuth };
    if (opts.control?.channel) ctl.channel = opts.control.channel;
    if (opts.control?.audit) ctl.audit = opts.control.audit;
    if (opts.control?.rateLimit) ctl.rateLimit = opts.control.rateLimit;
    app.use(controlRouter(ctl));
    app.use(apiNotFound());
    app.use((_req, res) => {
      res.status(404).type('text/plain').send('not found\n');
    });
    app.use(jsonErrorHandler(log));
  }

  /** Slowloris and fd-exhaustion bounds. */
  private limitServer(): void {
    const { server, opts } = this;
    server.maxHeadersCount = 100;
    server.headersTimeout = opts.timeouts?.headersMs ?? 10_000;
    server.requestTimeout = opts.timeouts?.requestMs ?? 60_000;
    server.keepAliveTimeout = 5_000;
    // Beyond this many open connections, new ones are closed at once.
    server.maxConnections = opts.config.web.max_connections;
  }

  listen(): Promise<{ host: string; port: number; url: string }> {
    const addr = parseListenAddress(this.opts.config.web.listen_address)!;
    return new Promise((ok, fail) => {
      const onError = (e: Error) => fail(e);
      this.server.once('error', onError);
      this.server.listen(addr.port, addr.host, () => {
        this.server.off('error', onError);
        const a = this.server.address() as AddressInfo;
        const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
        const scheme = this.opts.webConfig?.tls ? 'https' : 'http';
        ok({ host: a.address, port: a.port, url: `${scheme}://${host}:${a.port}` });
      });
    });
  }

  /**
   * Stop accepting, end streams, let in-flight requests finish (at most
   * graceMs), then resolve. http.Server.close() is not used as is: since
   * Node 19 it destroys "idle" keep-alive sockets, including ones whose
   * response has ended but is still being flushed to a slow client, which
   * truncates that response. Sockets are ended gracefully instead, each as
   * soon as it has no request in flight.
   */
  close(graceMs = 10_000): Promise<void> {
    this.closing ??= new Promise<void>((ok) => {
      this.api.close();
      const force = setTimeout(() => {
        this.opts.log.warn({ graceMs, connections: this.sockets.size }, 'requests still in flight at the end of the grace period; closing them');
        for (const sock of this.sockets.keys()) sock.destroy();
      }, graceMs);
      force.unref();
      net.Server.prototype.close.call(this.server, () => {
        clearTimeout(force);
        ok();
      });
      for (const [sock, n] of this.sockets) if (n === 0) sock.end();
    });
    return this.closing;
  }

  /** Stops the bcrypt worker. */
  closeAuth(): Promise<void> {
    return this.webConfigWatcher?.close() ?? this.fixedAuth?.close() ?? Promise.resolve();
  }

  private trackConnections(): void {
    const event = this.opts.webConfig?.tls ? 'secureConnection' : 'connection';
    this.server.on(event, (sock: net.Socket) => {
      this.sockets.set(sock, 0);
      sock.once('close', () => this.sockets.delete(sock));
    });
    this.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const sock = req.socket;
      this.sockets.set(sock, (this.sockets.get(sock) ?? 0) + 1);
      if (this.closing) res.setHeader('Connection', 'close');
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        const n = (this.sockets.get(sock) ?? 1) - 1;
        if (this.sockets.has(sock)) this.sockets.set(sock, n);
        if (this.closing && n === 0) sock.end();
      };
      res.once('finish', end);
      res.once('close', end);
    });
  }
}
