// The HTTP server: /metrics (Prometheus text 0.0.4 or OpenMetrics 1.0.0 by
// Accept, gzip by Accept-Encoding), /-/healthy, /-/ready, the API and control
// routers, request limits, JSON errors without stack traces, graceful close.
// startExporter() assembles source + sampler + server; the CLI and the
// integration tests both use it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzip } from 'node:zlib';
import express, { type Request, type Response } from 'express';
import { apiNotFound, apiRouter, type ApiRouter } from '../api/router.js';
import { jsonErrorHandler, rateLimitedLog, sendError } from '../api/errors.js';
import { CONTROL_BODY_LIMIT, controlRouter } from '../control/router.js';
import { ControlAudit } from '../control/audit.js';
import { ProcfsControlChannel, UnixSocketControlChannel, type ControlChannel } from '../control/channel.js';
import { loadControlToken } from '../control/auth.js';
import { authenticatorFor, createWebServer, grantsControl, loadWebConfig, webConfigMiddleware, WebConfigWatcher, type WebConfig } from './web-config.js';
import type { Authenticator, BearerCredential } from './credentials.js';
import { docsRouter } from './docs.js';
import { parseListenAddress, type Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { standardRegistry, type StandardRegistry } from '../metrics/catalogue.js';
import { CONTENT_TYPE, type Format } from '../metrics/format.js';
import { ByteSink } from '../metrics/sink.js';
import type { BuildInfo } from '../metrics/registry.js';
import { Sampler } from '../sampler/sampler.js';
import { chooseSource, type SourceChoice } from '../sim/supervisor.js';
import { PageReader } from '../source/page-reader.js';
import type { AiStage } from '../ai/stage.js';
import type { ModelStatus } from '../ai/runtime.js';

export function buildInfo(): BuildInfo {
  const here = dirname(fileURLToPath(import.meta.url));
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    /* packaged without package.json */
  }
  let revision = 'unknown';
  const git = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: here, encoding: 'utf8', timeout: 2000 });
  if (git.status === 0 && /^[0-9a-f]+$/.test(git.stdout.trim())) revision = git.stdout.trim();
  return { version, revision, nodejsVersion: process.version };
}

/** The API's OpenAPI document: docs/openapi.yaml of the repository (src/http and dist/http are both three levels below it). */
export const OPENAPI_FILE = fileURLToPath(new URL('../../../docs/openapi.yaml', import.meta.url));

/** OpenMetrics when the client asks for it with q > 0, else Prometheus text 0.0.4. */
export function negotiateFormat(accept: string | undefined): Format {
  if (!accept) return 'prometheus';
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';');
    if (type?.trim().toLowerCase() !== 'application/openmetrics-text') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return 'openmetrics';
  }
  return 'prometheus';
}

export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(',').some((part) => {
    const [enc, ...params] = part.trim().split(';');
    const e = enc?.trim().toLowerCase();
    if (e !== 'gzip' && e !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** The simulator's cmd_control is a unix socket; the kernel's is a /proc file. */
function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

function gzipAsync(body: Buffer): Promise<Buffer> {
  return new Promise<Buffer>((ok, fail) => gzip(body, { level: 1 }, (e, b) => (e ? fail(e) : ok(b))));
}

/**
 * A reusable output buffer for one rendered exposition. `refs` counts the
 * users that may still read the bytes (the cache entry while it is current,
 * responses being written, a gzip in progress); a slab is reused for a later
 * render only at refs 0, so the bytes a slow client is being sent are never
 * overwritten. Steady state: two slabs per format, no per-tick allocation
 * of the multi-megabyte body (which, held for a tick, would be promoted
 * and freed only by a full GC).
 */
interface Slab {
  buf: Buffer;
  refs: number;
}

interface Rendered {
  key: string;
  body: Buffer;
  slab: Slab;
  gz?: Promise<Buffer>;
}

/** Per format: the render scratch and the output slabs. */
class RenderBuffers {
  readonly sink = new ByteSink();
  private readonly slabs: Slab[] = [];

  /** A slab holding a copy of `bytes`, with one reference taken. */
  take(bytes: Buffer): Slab {
    let slab = this.slabs.find((s) => s.refs === 0 && s.buf.length >= bytes.length);
    if (!slab) {
      const idle = this.slabs.findIndex((s) => s.refs === 0);
      if (idle >= 0) this.slabs.splice(idle, 1); // too small: replace it
      slab = { buf: Buffer.allocUnsafe(Math.ceil(bytes.length * 1.25) + 4096), refs: 0 };
      // Bounded: slabs pinned by very slow clients are dropped from the pool (and freed by the GC once sent).
      if (this.slabs.length < 4) this.slabs.push(slab);
    }
    bytes.copy(slab.buf, 0);
    slab.refs = 1;
    return slab;
  }
}

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
  private readonly build: BuildInfo;
  private cache = new Map<Format, Rendered>();
  private readonly buffers = new Map<Format, RenderBuffers>();
  private closing: Promise<void> | undefined;
  /** Open connections -> requests in flight on each. */
  private readonly sockets = new Map<net.Socket, number>();
  /** Re-reads the web config on change (undefined without --web.config.file). */
  readonly webConfigWatcher: WebConfigWatcher | undefined;
  private readonly fixedAuth: Authenticator | undefined;

  constructor(private readonly opts: ServerOptions) {
    const { config, sampler, log } = opts;
    this.metrics = opts.metrics ?? standardRegistry(log);
    this.build = opts.build ?? buildInfo();
    sampler.onTickDuration((s) => this.metrics.exporter.tickDuration.observe(s));
    sampler.onTick((t) => this.prerender(t.seq));
    const app = express();
    this.app = app;
    app.disable('x-powered-by');
    app.set('etag', false);
    app.set('env', 'production');
    const maxBody = config.web.max_request_bytes;
    // A path that is not valid percent-encoding (%FF%FE, a lone %) is the client's error: 400, one log line per 10 s at most.
    const malformed = rateLimitedLog(log, 10_000);
    app.use((req, res, next) => {
      try {
        decodeURIComponent(req.path);
      } catch {
        malformed({ remote: req.socket.remoteAddress, method: req.method }, 'malformed request path (invalid percent-encoding) answered 400');
        sendError(res, 400, 'request path is not valid percent-encoding');
        return;
      }
      next();
    });
    app.use((req, res, next) => {
      const len = Number(req.headers['content-length'] ?? 0);
      if (len > maxBody) {
        sendError(res, 413, `request body larger than ${maxBody} bytes (web.max_request_bytes)`);
        return;
      }
      next();
    });
    // Identities: the web config's (basic_auth_users, bearer_tokens) plus the --control.token-file token.
    const extra: BearerCredential[] = opts.control?.token ? [{ name: 'control-token', token: opts.control.token, scopes: ['read', 'control'] }] : [];
    const failures = this.metrics.exporter.authFailures;
    const buildAuth = (wc: WebConfig | undefined) => authenticatorFor(wc, extra, (reason) => failures.set(reason, (failures.get(reason) ?? 0) + 1));
    if (opts.webConfig && opts.webConfigFile !== undefined) {
      // Control commands are audited to disk only when the trail was opened at start (startExporter).
      const persistent = opts.control?.audit?.file !== undefined;
      this.webConfigWatcher = new WebConfigWatcher(
        opts.webConfigFile,
        opts.webConfig,
        buildAuth,
        (wc, err) => {
          if (err) log.error({ file: opts.webConfigFile, err }, 'web config changed but the new version is invalid; keeping the last good one');
          else {
            for (const w of wc.warnings) log.warn({ file: opts.webConfigFile }, w);
            log.info({ file: opts.webConfigFile }, 'web config reloaded');
          }
        },
        (next) => (!persistent && grantsControl(next) ? 'granting the control scope needs a restart (the control audit trail is opened at start)' : undefined),
      );
      this.metrics.exporter.webConfigReload = () => this.webConfigWatcher!.lastReloadSuccessful;
    } else {
      this.fixedAuth = buildAuth(opts.webConfig);
    }
    const currentAuth = () => this.webConfigWatcher?.authenticator ?? this.fixedAuth!;
    if (opts.webConfig) {
      const w = this.webConfigWatcher;
      app.use(webConfigMiddleware(opts.webConfig, { authenticator: currentAuth, skip: (req) => CONTROL_ROUTE.test(req.path), ...(w ? { liveConfig: () => w.config } : {}) }));
    }
    app.get('/metrics', (req, res) => void this.serveMetrics(req, res));
    app.get('/-/healthy', (_req, res) => {
      res.type('text/plain').send('OK\n');
    });
    app.get('/-/ready', (_req, res) => {
      if (sampler.latest()) res.type('text/plain').send('OK\n');
      else res.status(503).type('text/plain').send('not ready: no tick published yet\n');
    });
    app.get('/', (_req, res) => {
      res
        .type('text/html')
        .send(
          '<html><head><title>OptiFiber exporter</title></head><body><h1>OptiFiber exporter</h1><ul>' +
            ['/metrics', '/api/v1/sites', '/api/v1/snapshot', '/api/v1/stream', '/docs/', '/-/healthy', '/-/ready']
              .map((p) => `<li><a href="${p}">${p}</a></li>`)
              .join('') +
            '</ul></body></html>\n',
        );
    });
    // The explorer sits behind the web config's authentication like every other path.
    if (existsSync(OPENAPI_FILE)) app.use(docsRouter({ specFile: OPENAPI_FILE }));
    else log.warn({ file: OPENAPI_FILE }, 'no OpenAPI document next to this install; /docs is not served');
    this.api = apiRouter({ sampler, logger: log });
    app.use(this.api);
    const ctl: Parameters<typeof controlRouter>[0] = { sampler, logger: log, bodyLimit: Math.min(maxBody, CONTROL_BODY_LIMIT), authenticator: currentAuth };
    if (opts.control?.channel) ctl.channel = opts.control.channel;
    if (opts.control?.audit) ctl.audit = opts.control.audit;
    if (opts.control?.rateLimit) ctl.rateLimit = opts.control.rateLimit;
    app.use(controlRouter(ctl));
    app.use(apiNotFound());
    app.use((_req, res) => {
      res.status(404).type('text/plain').send('not found\n');
    });
    app.use(jsonErrorHandler(log));
    this.server = (opts.webConfig ? createWebServer(opts.webConfig, app) : http.createServer({ connectionsCheckingInterval: 1000 }, app)) as http.Server;
    this.webConfigWatcher?.attach(this.server);
    this.server.maxHeadersCount = 100;
    this.server.headersTimeout = opts.timeouts?.headersMs ?? 10_000;
    this.server.requestTimeout = opts.timeouts?.requestMs ?? 60_000;
    this.server.keepAliveTimeout = 5_000;
    // Beyond this many open connections, new ones are closed at once (slowloris, fd exhaustion).
    this.server.maxConnections = config.web.max_connections;
    this.trackConnections();
  }

  /**
   * Pre-render: when a format was scraped on each of the last ticks (a
   * scraper at least as fast as the sampler), render it, and compress it if
   * it was asked gzipped, right after the next tick instead of inside that
   * scrape. Slower scrapers keep rendering on demand, so no CPU is spent on
   * expositions nobody fetches.
   */
  private readonly demand = new Map<Format, { lastSeq: number; streak: number; gzip: boolean }>();

  private noteScrape(format: Format, seq: number, gzip: boolean): void {
    const d = this.demand.get(format) ?? { lastSeq: -1, streak: 0, gzip };
    if (seq === d.lastSeq + 1) d.streak++;
    else if (seq !== d.lastSeq) d.streak = 1;
    d.lastSeq = seq;
    d.gzip = gzip;
    this.demand.set(format, d);
  }

  private prerender(seq: number): void {
    for (const [format, d] of this.demand) {
      if (d.lastSeq !== seq - 1 || d.streak < 2) continue;
      setImmediate(() => {
        if (this.closing) return;
        const r = this.render(format);
        if (d.gzip) this.gzipOnce(r);
      });
    }
  }

  private render(format: Format): Rendered {
    const tick = this.opts.sampler.latest();
    const key = tick ? String(tick.seq) : 'none';
    const hit = this.cache.get(format);
    if (hit && hit.key === key && key !== 'none') return hit;
    let bufs = this.buffers.get(format);
    if (!bufs) this.buffers.set(format, (bufs = new RenderBuffers()));
    const bytes = this.metrics.registry.renderTo(bufs.sink, format, {
      tick,
      thresholds: this.opts.config.thresholds,
      stats: this.opts.sampler.stats,
      build: this.build,
    });
    const slab = bufs.take(bytes);
    const r: Rendered = { key, body: slab.buf.subarray(0, bytes.length), slab };
    if (hit) hit.slab.refs--; // the cache's reference to the previous render
    this.cache.set(format, r);
    return r;
  }

  /** The gzipped body, compressed once per render (the slab is held until the compression has read it). */
  private gzipOnce(r: Rendered): Promise<Buffer> {
    if (!r.gz) {
      r.slab.refs++;
      r.gz = gzipAsync(r.body);
      const release = () => void r.slab.refs--;
      r.gz.then(release, release);
    }
    return r.gz;
  }

  private async serveMetrics(req: Request, res: Response): Promise<void> {
    const t0 = performance.now();
    res.once('finish', () => this.metrics.exporter.scrapeDuration.observe((performance.now() - t0) / 1000));
    try {
      const format = negotiateFormat(req.headers.accept);
      const gz = acceptsGzip(req.headers['accept-encoding']);
      const tick = this.opts.sampler.latest();
      if (tick) this.noteScrape(format, tick.seq, gz);
      const r = this.render(format);
      res.setHeader('Content-Type', CONTENT_TYPE[format]);
      res.setHeader('Vary', 'Accept, Accept-Encoding');
      res.setHeader('Cache-Control', 'no-store');
      if (gz) {
        const body = await this.gzipOnce(r);
        res.setHeader('Content-Encoding', 'gzip');
        res.end(body);
      } else {
        // The socket may still be sending these bytes after this tick's render is replaced: hold the slab until the response is done.
        r.slab.refs++;
        res.once('close', () => void r.slab.refs--);
        res.end(r.body);
      }
    } catch (e) {
      this.opts.log.error({ err: e }, 'rendering /metrics failed');
      if (!res.headersSent) res.status(500).type('text/plain').end('error rendering metrics\n');
      else res.destroy();
    }
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

/** The default models.dir: exporter/models, next to this package's src/ or dist/. */
export function defaultModelsDir(): string {
  return fileURLToPath(new URL('../../models/', import.meta.url)).replace(/\/$/, '');
}

/**
 * The AI stage for models.dir. onnxruntime-node is imported lazily: an
 * exporter without it (or whose native addon does not load) serves the raw
 * metrics with optifiber_model_up 0, and says so once.
 */
export async function createModels(config: Config, log: Logger, metrics: StandardRegistry): Promise<{ ai?: AiStage; reload(): Promise<void> }> {
  const dir = resolve(config.models.dir ?? defaultModelsDir());
  try {
    const { createAiStage } = await import('../ai/stage.js');
    const ai = await createAiStage({ modelDir: dir, log, observeDuration: (m, s) => metrics.models.observe(m, s) });
    metrics.models.attach(() => ai.status());
    return { ai, reload: () => ai.reload() };
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    log.error({ dir, err: msg }, `ai: model runtime unavailable (${msg}); raw metrics continue without model outputs`);
    const down = (model: ModelStatus['model']): ModelStatus => ({ model, up: false, version: '', sha256: '', path: dir, lastLoadTimestampSeconds: 0, lastInferenceTimestampSeconds: 0, lastReloadSuccessful: false, error: msg });
    metrics.models.attach(() => [down('anomaly'), down('forecast')]);
    return { reload: async () => log.warn({ dir }, 'SIGHUP: model runtime unavailable, nothing to reload') };
  }
}

export interface ExporterHandle {
  url: string;
  source: SourceChoice;
  sampler: Sampler;
  server: ExporterServer;
  /** Reload the models from models.dir (SIGHUP). Never throws. */
  reloadModels(): Promise<void>;
  /** Re-read --web.config.file now (SIGHUP); an invalid version is logged and the last good one kept. */
  reloadWebConfig(): void;
  /** Stop serving (graceful), the sampler and the simulator if we started it. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The persistent control audit trail, opened whenever some credential can
 * control (--control.token-file, or a web config granting the control scope)
 * or --control.audit-file is given: control.audit_file, else
 * control-audit.jsonl next to the file that grants control (the token file,
 * else the web config). Undefined when nothing can control.
 */
export function openControlAudit(config: Config, webConfig: WebConfig | undefined): ControlAudit | undefined {
  const grantedBy = config.control.token_file ?? (webConfig && grantsControl(webConfig) ? config.web.config_file : undefined);
  const file = config.control.audit_file ?? (grantedBy !== undefined ? resolve(dirname(grantedBy), 'control-audit.jsonl') : undefined);
  return file === undefined ? undefined : new ControlAudit(file);
}

/** Source + sampler + server, listening. */
export async function startExporter(config: Config, log: Logger): Promise<ExporterHandle> {
  let webConfig: WebConfig | undefined;
  if (config.web.config_file !== undefined) {
    webConfig = loadWebConfig(config.web.config_file);
    for (const w of webConfig.warnings) log.warn({ file: config.web.config_file }, w);
  }
  let token: string | undefined;
  if (config.control.token_file !== undefined) {
    const t = loadControlToken(config.control.token_file);
    for (const w of t.warnings) log.warn({ file: config.control.token_file }, w);
    token = t.token;
  }
  // The audit trail is opened before anything listens: a trail that cannot be written disables nothing silently, it stops the start.
  const audit = openControlAudit(config, webConfig);
  if (audit?.file !== undefined) {
    if (audit.skippedLines) log.warn({ file: audit.file, skipped: audit.skippedLines }, 'control audit trail: unreadable lines skipped (a torn last line after a crash)');
    log.info({ file: audit.file }, 'control audit trail');
  }
  const source = await chooseSource(config, log);
  log.info({ kind: source.kind, path: source.path, control: source.controlPath, reason: source.reason }, `page source: ${source.kind}`);
  try {
    const sampler = new Sampler({
      kind: source.kind,
      path: source.path,
      open: (p) => PageReader.open(p, { lazy: true, pathCheckIntervalMs: Math.min(1000, config.sampler.interval) }),
      intervalMs: config.sampler.interval,
      historyMs: config.sampler.history,
      historyMaxBytes: config.sampler.history_max_bytes,
      logger: log,
      ...(source.simulator ? { deadReason: () => source.simulator!.deadReason() } : {}),
    });
    // Models run in the sampler's tick (a TickStage), never on a scrape.
    const metrics = standardRegistry(log);
    const models = await createModels(config, log, metrics);
    if (models.ai) sampler.addStage(models.ai.stage);
    let channel: ControlChannel | undefined;
    if (source.controlPath !== undefined)
      channel = isSocket(source.controlPath) ? new UnixSocketControlChannel(source.controlPath) : new ProcfsControlChannel(source.controlPath);
    const server = new ExporterServer({
      config,
      sampler,
      log,
      metrics,
      control: { ...(channel ? { channel } : {}), ...(token ? { token } : {}), ...(audit ? { audit } : {}) },
      ...(webConfig ? { webConfig, webConfigFile: config.web.config_file! } : {}),
    });
    const addr = await server.listen();
    sampler.start();
    log.info({ url: addr.url, control: token !== undefined || (webConfig !== undefined && grantsControl(webConfig)) ? 'enabled' : 'disabled' }, 'listening');
    let stopping: Promise<void> | undefined;
    return {
      url: addr.url,
      source,
      sampler,
      server,
      reloadModels: () => models.reload(),
      reloadWebConfig: () => void server.webConfigWatcher?.check(true),
      stop: (graceMs?: number) =>
        (stopping ??= (async () => {
          source.simulator?.prepareStop();
          await server.close(graceMs);
          await sampler.stop();
          await source.simulator?.stop();
          audit?.close();
          await server.closeAuth();
        })()),
    };
  } catch (e) {
    await source.simulator?.stop();
    throw e;
  }
}
