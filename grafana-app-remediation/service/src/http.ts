// HTTP surface of the remediation service (express 5):
//   POST /api/v1/alertmanager/webhook     Alertmanager (bearer or basic auth)
//   /api/v1/...                           REST API for the Grafana app plugin (proxy token + role header)
//   GET /docs/...                         API explorer (same auth as the REST API; exporter/src/http/docs.ts)
//   GET /metrics, /-/healthy, /-/ready    unauthenticated (loopback)
// See docs/remediation-api.md and docs/remediation-openapi.yaml. Each group of
// routes is one module in src/http/; buildApp puts them in order.
import express from 'express';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@optifiber/exporter/log/logger';
import { docsRouter } from '@optifiber/exporter/http/docs';
import type { Engine } from './engine.js';
import type { Metrics } from './metrics.js';
import type { Store } from './store.js';
import { registerThresholdMetrics, registerThresholdRoutes, Thresholds } from './thresholds.js';
import type { WebhookAuth } from './webhook.js';
import { limitedLog } from './log-limit.js';
import { registerWebhook, WEBHOOK_PATH } from './http/alertmanager.js';
import { registerApprovals } from './http/approvals.js';
import { apiAuth, need, registerWhoami, ROLE_HEADER, USER_HEADER } from './http/auth.js';
import { errorBody, errorHandler, type LogRefused } from './http/errors.js';
import { registerHistory } from './http/history.js';
import { registerOps } from './http/ops.js';
import { registerSettings } from './http/settings.js';

/** The service's OpenAPI document (service/src and service/dist are both three levels below the repository root). */
export const OPENAPI_FILE = fileURLToPath(new URL('../../../docs/remediation-openapi.yaml', import.meta.url));

export { ROLES, type Role } from './roles.js';
export { ROLE_HEADER, USER_HEADER } from './http/auth.js';
export { publicAction } from './http/views.js';

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

/** The whole HTTP surface, in the order a request meets it (each part in src/http/). */
export function buildApp(d: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Malformed and refused requests: one log line per kind per 10 s at most
  // (a flood of them must not flood the log), with the count suppressed.
  const logRefused = limitedLog(d.logger, 10_000);
  if (d.guard) app.use(d.guard);
  app.use(refuseBadPath(logRefused));
  registerWebhook(app, d, logRefused);
  registerOps(app, d);
  app.use('/api/v1', restApi(app, d));
  app.use((req, res) => {
    res.status(404).json(errorBody(404, `no route ${req.method} ${req.path}`));
  });
  const onTooLarge = (req: express.Request) => {
    if (req.path === WEBHOOK_PATH) d.metrics.webhooks.inc({ result: 'too_large' });
  };
  app.use(errorHandler({ log: d.logger, logRefused, maxRequestBytes: d.maxRequestBytes, roleHeader: ROLE_HEADER, onTooLarge }));
  return app;
}

/**
 * A path that is not valid percent-encoding (%FF%FE, a lone %) names no
 * route: 400 before any route, authentication or body parsing.
 */
function refuseBadPath(logRefused: LogRefused): express.RequestHandler {
  return (req, res, next) => {
    try {
      decodeURIComponent(req.path);
    } catch {
      logRefused('bad_path', { remote: req.socket.remoteAddress, method: req.method }, 'request refused: invalid percent-encoding in the path');
      res.status(400).json(errorBody(400, 'invalid percent-encoding in the request path'));
      return;
    }
    next();
  };
}

/** The REST API for the app plugin (proxy token + role on every route), and the explorer at /docs behind the same check. */
function restApi(app: express.Express, d: HttpDeps): express.Router {
  const auth = apiAuth(d.proxyToken);
  // Through Grafana's plugin proxy: /api/plugin-proxy/<app>/<role>/docs/ (the app links to it).
  if (existsSync(OPENAPI_FILE)) {
    app.use('/docs', auth);
    app.use(docsRouter({ specFile: OPENAPI_FILE }));
  }
  const api = express.Router();
  api.use(auth);
  api.use(express.json({ limit: '64kb' }));
  registerWhoami(api);
  registerHistory(api, d);
  registerApprovals(api, d);
  registerSettings(api, d);
  const thresholds = new Thresholds(d.store);
  registerThresholdMetrics(d.metrics.registry, thresholds);
  registerThresholdRoutes(api, thresholds, need, USER_HEADER);
  return api;
}
