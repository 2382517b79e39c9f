// Unauthenticated operations endpoints (loopback): liveness, readiness, metrics.
import type { Express } from 'express';
import type { HttpDeps } from '../http.js';
import { errorBody } from './errors.js';

export function registerOps(app: Express, d: HttpDeps): void {
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
    await d.engine.refreshGauges().catch((e: unknown) => d.logger.warn({ err: e }, 'gauges not refreshed'));
    d.metrics.registry
      .metrics()
      .then((text) => res.setHeader('Content-Type', d.metrics.registry.contentType).send(text))
      .catch(next);
  });
}
