// HTTP surface of the remediation service (express 5):
//   POST /api/v1/alertmanager/webhook     Alertmanager (bearer or basic auth)
//   /api/v1/...                           REST API for the Grafana app plugin (proxy token + role header)
//   GET /docs/...                         API explorer (same auth as the REST API; exporter/src/http/docs.ts)
//   GET /metrics, /-/healthy, /-/ready    unauthenticated (loopback)
// See docs/remediation-api.md and docs/remediation-openapi.yaml.
import express, { type NextFunction, type Request, type Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@optifiber/exporter/dist/log/logger.js';
import type { Engine } from './engine.js';
import type { Metrics } from './metrics.js';
import { validatePolicy, SITE_RE } from './policy.js';
import { can, capabilities, policyChangeNeeds, ROLES, type Permission, type Role } from './roles.js';
import type { ActionRow, AuditRow, Store } from './store.js';
import { registerThresholdMetrics, registerThresholdRoutes, Thresholds } from './thresholds.js';
import { checkWebhookAuth, validateWebhook, type WebhookAuth } from './webhook.js';
import { limitedLog } from './log-limit.js';
import { docsRouter } from '@optifiber/exporter/dist/http/docs.js';

/** The service's OpenAPI document (service/src and service/dist are both three levels below the repository root). */
export const OPENAPI_FILE = fileURLToPath(new URL('../../../docs/remediation-openapi.yaml', import.meta.url));

export { ROLES, type Role } from './roles.js';
export const ROLE_HEADER = 'X-OptiFiber-Role';
export const USER_HEADER = 'X-Grafana-User';

export interface HttpDeps {
  engine: Engine;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  webhookAuth: WebhookAuth;
  /** Shared token of Grafana's plugin proxy; undefined = REST API disabled (403). */
  proxyToken?: string;
  maxRequestBytes: number;
  startedAt: number;
  urls: { mcp: string; exporter: string };
  /** Runs before every route: the web config's response headers and client-certificate policy. */
  guard?: express.RequestHandler;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

function errorBody(status: number, message: string) {
  const code: Record<number, string> = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed', 409: 'conflict', 413: 'payload_too_large', 415: 'unsupported_media_type', 503: 'unavailable' };
  return { status: 'error', errorType: code[status] ?? 'internal', error: message };
}

export function publicAction(a: ActionRow) {
  const j = (s: string | null) => (s ? (JSON.parse(s) as unknown) : null);
  return {
    id: a.id,
    site: a.site,
    alertname: a.alertname,
    fingerprint: a.fingerprint,
    startsAt: a.starts_at,
    generatorURL: a.generator_url,
    labels: j(a.labels),
    annotations: j(a.annotations),
    mode: a.mode,
    count: a.count,
    state: a.state,
    result: a.result,
    reason: a.reason,
    idempotencyKey: a.idempotency_key,
    jobId: a.job_id,
    jobState: a.job_state,
    mcpAttempts: a.mcp_attempts,
    baseline: j(a.baseline),
    after: j(a.after),
    createdAt: a.created_at,
    updatedAt: a.updated_at,
    submittedAt: a.submitted_at,
    finishedAt: a.finished_at,
    approvedBy: a.approved_by,
    approvedAt: a.approved_at,
    expiresAt: a.expires_at,
  };
}

function publicAudit(r: AuditRow) {
  return { id: r.id, ts: r.ts, kind: r.kind, actionId: r.action_id, site: r.site, alertname: r.alertname, fingerprint: r.fingerprint, startsAt: r.starts_at, status: r.status, decision: r.decision, reason: r.reason, actor: r.actor, details: r.details ? (JSON.parse(r.details) as unknown) : null };
}

export function buildApp(d: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const log = d.logger;
  const proxyDigest = d.proxyToken ? digest(d.proxyToken) : undefined;
  // Malformed and refused requests: one log line per kind per 10 s at most
  // (a flood of them must not flood the log), with the count suppressed.
  const logRefused = limitedLog(log, 10_000);
  if (d.guard) app.use(d.guard);

  // A path that is not valid percent-encoding (%FF%FE, a lone %) names no
  // route: 400 before any route, authentication or body parsing.
  app.use((req, res, next) => {
    try {
      decodeURIComponent(req.path);
    } catch {
      logRefused('bad_path', { remote: req.socket.remoteAddress, method: req.method }, 'request refused: invalid percent-encoding in the path');
      res.status(400).json(errorBody(400, 'invalid percent-encoding in the request path'));
      return;
    }
    next();
  });

  // ---- Alertmanager webhook ------------------------------------------------
  const hook = '/api/v1/alertmanager/webhook';
  app.post(hook, (req, res, next) => {
    const auth = checkWebhookAuth(d.webhookAuth, req.get('Authorization'));
    if (auth !== 'ok') {
      d.metrics.webhooks.inc({ result: 'unauthorized' });
      logRefused('webhook_auth', { remote: req.socket.remoteAddress, reason: auth }, 'webhook refused: authentication');
      const realm = d.webhookAuth.bearerToken ? 'Bearer realm="optifiber-remediation"' : 'Basic realm="optifiber-remediation"';
      res.status(401).setHeader('WWW-Authenticate', realm).json(errorBody(401, auth === 'missing' ? 'missing credentials: send "Authorization: Bearer <token>" (or basic auth)' : 'invalid credentials'));
      return;
    }
    const len = Number(req.get('Content-Length') ?? '0');
    if (len > d.maxRequestBytes) {
      d.metrics.webhooks.inc({ result: 'too_large' });
      res.status(413).json(errorBody(413, `body larger than ${d.maxRequestBytes} bytes`));
      req.socket.destroySoon?.();
      return;
    }
    if (!req.is('application/json')) {
      d.metrics.webhooks.inc({ result: 'invalid' });
      res.status(415).json(errorBody(415, 'Content-Type must be application/json'));
      return;
    }
    next();
  });
  app.post(hook, express.text({ type: 'application/json', limit: d.maxRequestBytes }));
  app.post(hook, (req, res, next) => {
    const receivedAt = Date.now();
    let body: unknown;
    try {
      body = JSON.parse(typeof req.body === 'string' ? req.body : '');
    } catch {
      d.metrics.webhooks.inc({ result: 'invalid' });
      res.status(400).json(errorBody(400, 'body is not valid JSON'));
      return;
    }
    const v = validateWebhook(body);
    if (!v.ok) {
      d.metrics.webhooks.inc({ result: 'invalid' });
      logRefused('webhook_invalid', { remote: req.socket.remoteAddress, problems: v.problems }, 'webhook refused: not an Alertmanager v4 payload');
      res.status(400).json({ ...errorBody(400, `not an Alertmanager v4 webhook payload: ${v.problems.join('; ')}`), problems: v.problems });
      return;
    }
    d.engine
      .accept(req.body as string, req.socket.remoteAddress, receivedAt, v.payload)
      .then((id) => {
        d.metrics.webhooks.inc({ result: 'accepted' });
        for (const a of v.payload.alerts) d.metrics.alerts.inc({ status: a.status ?? 'unknown' });
        res.status(202).json({ status: 'accepted', delivery: id, alerts: v.payload.alerts.length });
      })
      .catch((e: unknown) => {
        // Not stored (the database is unreachable, PostgreSQL restarting):
        // nothing of it was committed, so a 503 is the truth, and
        // Alertmanager re-sends on any 5xx.
        d.metrics.webhooks.inc({ result: 'unavailable' });
        logRefused('webhook_unavailable', { remote: req.socket.remoteAddress, err: (e as Error).message }, 'webhook not stored: database unavailable; Alertmanager will re-send');
        res.status(503).setHeader('Retry-After', '5').json(errorBody(503, `the delivery was not stored (database unavailable: ${(e as Error).message}); nothing was decided, send it again`));
      });
  });
  app.all(hook, (req, res) => {
    res.setHeader('Allow', 'POST');
    res.status(405).json(errorBody(405, `method ${req.method} not allowed; use POST`));
  });

  // ---- health and metrics --------------------------------------------------
  app.get('/-/healthy', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/-/ready', async (_req, res) => {
    const r = await d.engine.readiness();
    if (r.ready) res.json({ status: 'ready' });
    else res.status(503).json({ ...errorBody(503, `not ready: ${r.problems.join('; ')}`), problems: r.problems });
  });
  app.get('/metrics', async (_req, res, next) => {
    // A database that does not answer must not take /metrics down with it (the gauges keep their last values).
    await d.engine.refreshGauges().catch((e: unknown) => log.warn({ err: e }, 'gauges not refreshed'));
    d.metrics.registry
      .metrics()
      .then((text) => res.setHeader('Content-Type', d.metrics.registry.contentType).send(text))
      .catch(next);
  });

  // ---- REST API for the app plugin ----------------------------------------
  // The REST API's authentication (proxy token + role), also in front of the explorer at /docs.
  const apiAuth = (req: Request, res: Response, next: NextFunction) => {
    if (!proxyDigest) throw new HttpError(403, 'the REST API is disabled: start the service with --api.proxy-token-file=FILE (config api.proxy_token_file) and put the same token in the app plugin configuration');
    const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(req.get('Authorization') ?? '');
    if (!m) throw new HttpError(401, 'missing bearer token: the API is called through Grafana\'s plugin proxy, which adds it', { 'WWW-Authenticate': 'Bearer realm="optifiber-remediation-api"' });
    if (!timingSafeEqual(digest(m[1]!), proxyDigest)) throw new HttpError(401, 'invalid bearer token', { 'WWW-Authenticate': 'Bearer realm="optifiber-remediation-api", error="invalid_token"' });
    const role = req.get(ROLE_HEADER);
    if (!role || !(ROLES as readonly string[]).includes(role)) throw new HttpError(403, `header ${ROLE_HEADER} must be one of ${ROLES.join(', ')} (set by the plugin route, see docs/remediation-api.md)`);
    res.locals.role = role as Role;
    // The audit names a person: a write without a (valid) user name is
    // refused, never attributed to a made-up "grafana-<role>".
    const user = req.get(USER_HEADER) ?? '';
    const named = user.length > 0 && user.length <= 200 && /^[\x21-\x7e][\x20-\x7e]*$/.test(user);
    if (named) res.locals.user = user;
    next();
  };
  // Through Grafana's plugin proxy: /api/plugin-proxy/<app>/<role>/docs/ (the app links to it).
  if (existsSync(OPENAPI_FILE)) {
    app.use('/docs', apiAuth);
    app.use(docsRouter({ specFile: OPENAPI_FILE }));
  }
  const api = express.Router();
  api.use(apiAuth);
  /** The permission, and for a write a named user (checked after the role, so a low role hears about its role first). */
  const need = (p: Permission) => (req: Request, res: Response, next: NextFunction) => {
    if (!can(res.locals.role as Role, p)) throw new HttpError(403, `${req.method} ${req.baseUrl}${req.path} needs the ${ROLES.find((r) => can(r, p))} role; you have ${res.locals.role as string}`);
    if (req.method !== 'GET' && req.method !== 'HEAD' && !res.locals.user)
      throw new HttpError(403, `${req.method} ${req.baseUrl}${req.path} changes state and needs a named user: header ${USER_HEADER} (Grafana sends it with [dataproxy] send_user_header = true)`);
    next();
  };
  api.use(express.json({ limit: '64kb' }));

  api.get('/whoami', (_req, res) => {
    const role = res.locals.role as Role;
    // editPolicies: the older name of editThresholds, kept for the app's current UI.
    res.json({ user: res.locals.user ?? null, role, can: { ...capabilities(role), editPolicies: can(role, 'editThresholds') } });
  });

  api.get('/overview', async (_req, res) => {
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const byResult = await d.store.resultsSince(since);
    const recent = (await d.store.recentActions(10)).map(publicAction);
    const pending = (await d.store.pendingApprovals()).map(publicAction);
    const skipped = await d.store.skipsSince(since);
    res.json({
      health: {
        status: 'ok',
        uptimeSeconds: Math.round((Date.now() - d.startedAt) / 1000),
        queueDepth: await d.store.queueDepth(),
        actionsInFlight: (await d.store.activeActions()).length,
        mcp: { url: d.urls.mcp, ...d.engine.health.mcp },
        exporter: { url: d.urls.exporter, ...d.engine.health.exporter },
      },
      killSwitch: await d.engine.killSwitch(),
      policy: await d.engine.policy(),
      pendingApprovals: pending,
      recentActions: recent,
      last24h: { actionsByResult: byResult, skipsByReason: skipped },
    });
  });

  const intParam = (v: unknown, name: string, min: number, max: number, def?: number): number | undefined => {
    if (v === undefined) return def;
    if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new HttpError(400, `${name}: expected an integer ${min}..${max}`);
    return Number(v);
  };
  const timeParam = (v: unknown, name: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !Number.isFinite(Date.parse(v))) throw new HttpError(400, `${name}: expected an RFC 3339 time`);
    return new Date(Date.parse(v)).toISOString();
  };
  const only = (q: Record<string, unknown>, allowed: string[]) => {
    for (const k of Object.keys(q)) if (!allowed.includes(k)) throw new HttpError(400, `unknown query parameter ${k} (allowed: ${allowed.join(', ')})`);
  };
  const enumParam = (v: unknown, name: string, values: string[]): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !values.includes(v)) throw new HttpError(400, `${name}: expected one of ${values.join(', ')}`);
    return v;
  };

  api.get('/actions', async (req, res) => {
    const q = req.query as Record<string, unknown>;
    only(q, ['site', 'result', 'state', 'mode', 'since', 'until', 'limit', 'before_id']);
    if (q.site !== undefined && (typeof q.site !== 'string' || !SITE_RE.test(q.site))) throw new HttpError(400, 'site: not a site name');
    const f = {
      site: q.site as string | undefined,
      result: enumParam(q.result, 'result', ['succeeded', 'failed', 'unverified', 'dry_run', 'rejected', 'cancelled', 'expired', 'skipped', 'aborted']),
      state: enumParam(q.state, 'state', ['pending_approval', 'ready', 'baseline', 'submitted', 'job_succeeded', 'unknown', 'done']),
      mode: enumParam(q.mode, 'mode', ['auto', 'approval', 'dry_run']),
      since: timeParam(q.since, 'since'),
      until: timeParam(q.until, 'until'),
      beforeId: intParam(q.before_id, 'before_id', 1, Number.MAX_SAFE_INTEGER),
    };
    const limit = intParam(q.limit, 'limit', 1, 1000, 100)!;
    const rows = await d.store.findActions(f, limit);
    res.json({ actions: rows.map(publicAction), nextBeforeId: rows.length === limit ? rows[rows.length - 1]!.id : null });
  });

  const actionId = (v: unknown) => intParam(v, 'id', 1, Number.MAX_SAFE_INTEGER)!;
  api.get('/actions/:id', async (req, res) => {
    const a = await d.store.action(actionId(req.params.id));
    if (!a) throw new HttpError(404, `no action ${req.params.id}`);
    const audit = (await d.store.auditOfAction(a.id)).map(publicAudit);
    // Re-sent deliveries are counted here rather than audited one row each (retention).
    const ep = await d.store.episode(a.episode_key);
    res.json({ action: publicAction(a), audit, episode: ep ? { deliveries: ep.deliveries, firstSeen: ep.first_seen, lastSeen: ep.last_seen, resolvedAt: ep.resolved_at } : null });
  });

  api.get('/approvals', async (_req, res) => {
    res.json({ approvals: (await d.store.pendingApprovals()).map(publicAction) });
  });

  const comment = (b: unknown): string | undefined => {
    if (b === undefined || b === null) return undefined;
    if (typeof b !== 'object' || Array.isArray(b)) throw new HttpError(400, 'body must be a JSON object {"comment"?: string}');
    const c = (b as Record<string, unknown>).comment;
    for (const k of Object.keys(b)) if (k !== 'comment') throw new HttpError(400, `unknown key ${k} (allowed: comment)`);
    if (c !== undefined && (typeof c !== 'string' || c.length > 1000)) throw new HttpError(400, 'comment: expected a string of at most 1000 characters');
    return c as string | undefined;
  };
  for (const verb of ['approve', 'reject'] as const) {
    api.post(`/actions/:id/${verb}`, need('approve'), (req, res, next) => {
      const id = actionId(req.params.id);
      const c = comment(req.body);
      d.engine[verb](id, res.locals.user as string, c)
        .then((r) => {
          log.info({ action: id, user: res.locals.user, role: res.locals.role, verb, status: r.status }, `action ${verb}`);
          if (r.status !== 200) res.status(r.status).json(errorBody(r.status, r.message));
          else res.json({ status: r.message, action: r.action ? publicAction(r.action) : null });
        })
        .catch(next);
    });
  }

  api.get('/audit', async (req, res) => {
    const q = req.query as Record<string, unknown>;
    only(q, ['site', 'kind', 'decision', 'reason', 'action_id', 'since', 'until', 'limit', 'before_id']);
    const word = (k: 'site' | 'kind' | 'decision' | 'reason'): string | undefined => {
      if (q[k] === undefined) return undefined;
      if (typeof q[k] !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(q[k] as string)) throw new HttpError(400, `${k}: expected 1..64 chars of [A-Za-z0-9_.-]`);
      return q[k] as string;
    };
    const f = {
      site: word('site'),
      kind: word('kind'),
      decision: word('decision'),
      reason: word('reason'),
      actionId: intParam(q.action_id, 'action_id', 1, Number.MAX_SAFE_INTEGER),
      since: timeParam(q.since, 'since'),
      until: timeParam(q.until, 'until'),
      beforeId: intParam(q.before_id, 'before_id', 1, Number.MAX_SAFE_INTEGER),
    };
    const limit = intParam(q.limit, 'limit', 1, 1000, 100)!;
    const rows = await d.store.findAudit(f, limit);
    res.json({ audit: rows.map(publicAudit), nextBeforeId: rows.length === limit ? rows[rows.length - 1]!.id : null });
  });

  api.get('/policies', async (_req, res) => {
    const s = (await d.store.getSetting('policy'))!;
    res.json({ policy: s.value, updatedAt: s.updated_at, updatedBy: s.updated_by });
  });
  api.put('/policies', need('editThresholds'), async (req, res, next) => {
    // Keys left out keep their current value (the body is merged onto the stored policy).
    const body = req.body as unknown;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'body must be a JSON object of policy keys');
    const before = await d.engine.policy();
    const v = validatePolicy({ ...before, ...(body as object) });
    if (!v.policy) {
      res.status(400).json({ ...errorBody(400, `invalid policy: ${v.problems.join('; ')}`), problems: v.problems });
      return;
    }
    const role = res.locals.role as Role;
    const needs = policyChangeNeeds(before, v.policy);
    if (needs.mode.length && !can(role, 'changeMode')) throw new HttpError(403, `changing the mode (${needs.mode.join(', ')}) needs permission changeMode (Admin); you have ${role}`);
    if (needs.loosened.length && !can(role, 'raiseLimits')) throw new HttpError(403, `loosening a limit (${needs.loosened.join(', ')}) needs permission raiseLimits (Admin); you have ${role}`);
    d.engine
      .setPolicy(v.policy, res.locals.user as string)
      .then(async () => {
        log.info({ user: res.locals.user, role: res.locals.role, policy: v.policy }, 'policy changed');
        const s = (await d.store.getSetting('policy'))!;
        res.json({ policy: s.value, updatedAt: s.updated_at, updatedBy: s.updated_by });
      })
      .catch(next);
  });

  api.get('/kill-switch', async (_req, res) => {
    res.json(await d.engine.killSwitch());
  });
  api.put('/kill-switch', need('killSwitch'), (req, res, next) => {
    const b = req.body as Record<string, unknown> | undefined;
    if (!b || typeof b !== 'object' || Array.isArray(b) || typeof b.enabled !== 'boolean') throw new HttpError(400, 'body must be {"enabled": true|false, "reason"?: string}');
    for (const k of Object.keys(b)) if (k !== 'enabled' && k !== 'reason') throw new HttpError(400, `unknown key ${k} (allowed: enabled, reason)`);
    if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > 1000)) throw new HttpError(400, 'reason: expected a string of at most 1000 characters');
    d.engine
      .setKillSwitch(b.enabled, b.reason as string | undefined, res.locals.user as string)
      .then((ks) => res.json(ks))
      .catch(next);
  });

  const thresholds = new Thresholds(d.store);
  registerThresholdMetrics(d.metrics.registry, thresholds);
  registerThresholdRoutes(api, thresholds, need, USER_HEADER);

  app.use('/api/v1', api);
  app.use((req, res) => {
    res.status(404).json(errorBody(404, `no route ${req.method} ${req.path}`));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      if (err.status === 401 || err.status === 403) logRefused(`refused_${err.status}`, { remote: req.socket.remoteAddress, path: req.path.slice(0, 200), method: req.method, status: err.status, role: req.get(ROLE_HEADER)?.slice(0, 40), reason: err.message }, 'API request refused');
      res.status(err.status).set(err.headers).json(errorBody(err.status, err.message));
      return;
    }
    const e = err as { type?: string; status?: number; statusCode?: number };
    if (e?.type === 'entity.too.large') {
      if (req.path === hook) d.metrics.webhooks.inc({ result: 'too_large' });
      res.status(413).json(errorBody(413, `body larger than ${d.maxRequestBytes} bytes`));
      return;
    }
    if (e?.type === 'entity.parse.failed') {
      res.status(400).json(errorBody(400, 'body is not valid JSON'));
      return;
    }
    // Other client errors raised by express or its parsers (a parameter
    // that does not decode, an unsupported charset, an aborted body): a 4xx
    // with one rate-limited log line, never a 500 with a stack trace.
    const status = e?.status ?? e?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      logRefused(`client_${status}`, { remote: req.socket.remoteAddress, method: req.method, status, type: e.type }, 'request refused: malformed');
      if (!res.headersSent) res.status(status).json(errorBody(status, `malformed request${e.type ? ` (${e.type})` : ''}`));
      return;
    }
    log.error({ err, path: req.path }, 'internal error');
    res.status(500).json(errorBody(500, 'internal error'));
  });
  return app;
}
