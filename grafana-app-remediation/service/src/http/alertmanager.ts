// POST /api/v1/alertmanager/webhook: authenticated, bounded, validated, then
// stored durably (engine.accept) before the 202; see docs/remediation-api.md.
import express, { type Express, type RequestHandler } from 'express';
import type { HttpDeps } from '../http.js';
import { checkWebhookAuth, validateWebhook } from '../webhook.js';
import { errorBody, type LogRefused } from './errors.js';

export const WEBHOOK_PATH = '/api/v1/alertmanager/webhook';

export function registerWebhook(app: Express, d: HttpDeps, logRefused: LogRefused): void {
  app.post(WEBHOOK_PATH, admitDelivery(d, logRefused));
  app.post(WEBHOOK_PATH, express.text({ type: 'application/json', limit: d.maxRequestBytes }));
  app.post(WEBHOOK_PATH, storeDelivery(d, logRefused));
  app.all(WEBHOOK_PATH, (req, res) => {
    res.setHeader('Allow', 'POST');
    res.status(405).json(errorBody(405, `method ${req.method} not allowed; use POST`));
  });
}

/** Before the body is read: credentials, declared size, media type. */
function admitDelivery(d: HttpDeps, logRefused: LogRefused): RequestHandler {
  return (req, res, next) => {
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
  };
}

/** The body read: an Alertmanager v4 payload, stored (202) or refused as a whole. */
function storeDelivery(d: HttpDeps, logRefused: LogRefused): RequestHandler {
  return (req, res) => {
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
  };
}
