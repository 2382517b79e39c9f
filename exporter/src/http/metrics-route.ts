// GET /metrics: negotiate the format, answer from the render cache, time
// the scrape (optifiber_scrape_duration_seconds).
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../log/logger.js';
import type { Histogram } from '../metrics/format.js';
import { CONTENT_TYPE } from '../metrics/format.js';
import type { Tick } from '../sampler/types.js';
import { acceptsGzip, negotiateFormat } from './negotiate.js';
import type { RenderCache } from './render-cache.js';

export interface MetricsRouteDeps {
  cache: RenderCache;
  latest: () => Tick | undefined;
  scrapeDuration: Histogram;
  log: Logger;
}

export function metricsRoute(deps: MetricsRouteDeps): RequestHandler {
  return (req, res) => void serveMetrics(deps, req, res);
}

async function serveMetrics({ cache, latest, scrapeDuration, log }: MetricsRouteDeps, req: Request, res: Response): Promise<void> {
  const t0 = performance.now();
  res.once('finish', () => scrapeDuration.observe((performance.now() - t0) / 1000));
  try {
    const format = negotiateFormat(req.headers.accept);
    const gz = acceptsGzip(req.headers['accept-encoding']);
    const tick = latest();
    if (tick) cache.noteScrape(format, tick.seq, gz);
    const r = cache.render(format);
    res.setHeader('Content-Type', CONTENT_TYPE[format]);
    res.setHeader('Vary', 'Accept, Accept-Encoding');
    res.setHeader('Cache-Control', 'no-store');
    if (gz) {
      const body = await cache.gzipOnce(r);
      res.setHeader('Content-Encoding', 'gzip');
      res.end(body);
    } else {
      // The socket may still be sending these bytes after this tick's render is replaced: hold the slab until the response is done.
      r.slab.refs++;
      res.once('close', () => void r.slab.refs--);
      res.end(r.body);
    }
  } catch (e) {
    log.error({ err: e }, 'rendering /metrics failed');
    if (!res.headersSent) res.status(500).type('text/plain').end('error rendering metrics\n');
    else res.destroy();
  }
}
