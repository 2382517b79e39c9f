// The read API: /api/v1/sites, /api/v1/snapshot, /api/v1/sites/{site}/history,
// /api/v1/stream (Server-Sent Events) and /api/v1/poll (long poll).
// Documented in docs/api.md and docs/openapi.yaml.
//
// Exports:
//   apiRouter(deps: ApiDeps): ApiRouter   an express.Router with .close()
//     (unsubscribes from the sampler, ends streams and pending polls; call it
//     on shutdown before server.close() so keep-alive streams do not hold the
//     server open). Mount at the root: app.use(apiRouter(deps)).
//   apiNotFound(): RequestHandler   JSON 404 for unmatched /api/ paths; mount
//     after apiRouter and controlRouter.
import express from 'express';
import type { Request, Response, NextFunction, RequestHandler } from 'express';
import { DEFAULT_API_LIMITS } from './deps.js';
import { silentLogger } from '../log/logger.js';
import type { ApiDeps, ApiLimits } from './deps.js';
import { ApiError, jsonErrorHandler, sendError } from './errors.js';
import { siteJson, sitesJson } from './serialize.js';
import { TickHub } from './stream.js';
import { parseDuration, parseTime, rfc3339, truncate } from './time.js';
import { SITE_NAME_RE, SITE_NAME_RULE } from '../abi/site-name.js';

export type ApiRouter = express.Router & { close(): void; hub: TickHub };


const DEFAULT_HISTORY_RANGE_MS = 3600_000;

function queryString(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ApiError(400, `${name}: give the parameter once, as a plain value`);
  return v;
}

function noUnknownParams(req: Request, allowed: readonly string[]): void {
  for (const k of Object.keys(req.query)) {
    if (!allowed.includes(k)) throw new ApiError(400, `unknown query parameter "${truncate(k, 32)}" (allowed: ${allowed.join(', ') || 'none'})`);
  }
}

/** ?sites=a,b -> Set, validated against the latest tick; null = all sites. */
export function parseSitesFilter(raw: string | undefined, known: Set<string> | undefined): Set<string> | null {
  if (raw === undefined || raw === '') return null;
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) return null;
  if (names.length > 16384) throw new ApiError(400, 'sites: too many names');
  for (const n of names) {
    if (!SITE_NAME_RE.test(n)) throw new ApiError(400, `sites: "${truncate(n, 40)}" is not a site name (${SITE_NAME_RULE})`);
  }
  if (known) {
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length) throw new ApiError(404, `unknown site${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}`);
  }
  return new Set(names);
}

const wrap =
  (fn: (req: Request, res: Response) => void): RequestHandler =>
  (req: Request, res: Response, next: NextFunction) => {
    try {
      fn(req, res);
    } catch (e) {
      next(e);
    }
  };

/** from, to and step of a history request: defaults, order, and the point limit. */
function historyRange(req: Request, tickMs: number, maxPoints: number): { fromMs: number; toMs: number; stepMs: number } {
  const fromRaw = queryString(req, 'from');
  const toRaw = queryString(req, 'to');
  const stepRaw = queryString(req, 'step');
  const toMs = toRaw !== undefined ? parseTime('to', toRaw) : Date.now();
  const fromMs = fromRaw !== undefined ? parseTime('from', fromRaw) : toMs - DEFAULT_HISTORY_RANGE_MS;
  if (fromMs > toMs) throw new ApiError(400, `from (${rfc3339(fromMs)}) is after to (${rfc3339(toMs)})`);
  const stepMs = stepRaw !== undefined ? parseDuration('step', stepRaw) : Math.max(tickMs, Math.ceil((toMs - fromMs) / (maxPoints - 1)));
  const points = Math.floor((toMs - fromMs) / stepMs) + 1;
  if (points > maxPoints) {
    throw new ApiError(400, `range ${(toMs - fromMs) / 1000} s at step ${stepMs / 1000} s would give ${points} points (max ${maxPoints}); increase step or narrow from/to`);
  }
  return { fromMs, toMs, stepMs };
}

/** ?after= (a tick seq) and ?timeout= (seconds, default 20) of a long poll. */
function pollParams(req: Request, maxTimeoutS: number): { after: number | undefined; timeoutMs: number } {
  const afterRaw = queryString(req, 'after');
  let after: number | undefined;
  if (afterRaw !== undefined && afterRaw !== '') {
    if (!/^\d{1,15}$/.test(afterRaw)) throw new ApiError(400, `after: expected a tick seq (integer >= 0), got "${truncate(afterRaw)}"`);
    after = Number(afterRaw);
  }
  const timeoutRaw = queryString(req, 'timeout');
  let timeoutMs = Math.min(20, maxTimeoutS) * 1000;
  if (timeoutRaw !== undefined) {
    if (!/^\d{1,6}(\.\d{1,3})?$/.test(timeoutRaw)) throw new ApiError(400, `timeout: expected seconds (0..${maxTimeoutS}), got "${truncate(timeoutRaw)}"`);
    const s = Number(timeoutRaw);
    if (s > maxTimeoutS) throw new ApiError(400, `timeout: ${s} s is above the maximum of ${maxTimeoutS} s`);
    timeoutMs = s * 1000;
  }
  return { after, timeoutMs };
}

export function apiRouter(deps: ApiDeps): ApiRouter {
  const limits: ApiLimits = { ...DEFAULT_API_LIMITS, ...deps.limits };
  const logger = deps.logger ?? silentLogger;
  const sampler = deps.sampler;
  const hub = new TickHub(sampler, limits, logger);
  const router = express.Router() as ApiRouter;

  const latestOr503 = () => {
    const t = sampler.latest();
    if (!t) throw new ApiError(503, 'no sample yet: the sampler has not completed its first tick', { 'Retry-After': '1' });
    return t;
  };
  const knownSites = (): Set<string> | undefined => {
    const t = sampler.latest();
    return t ? new Set(t.sites.map((s) => s.sample.name)) : undefined;
  };

  router.get(
    '/api/v1/sites',
    wrap((req, res) => {
      noUnknownParams(req, []);
      res.setHeader('Cache-Control', 'no-store');
      res.json(sitesJson(latestOr503()));
    }),
  );

  router.get(
    '/api/v1/snapshot',
    wrap((req, res) => {
      noUnknownParams(req, ['sites']);
      const t = latestOr503();
      const filter = parseSitesFilter(queryString(req, 'sites'), knownSites());
      // The tick's shared serialized bytes (stream.ts), identical to JSON.stringify(snapshotJson(...)).
      hub.snapshot(res, t, filter);
    }),
  );

  let historyInFlight = 0;
  router.get(
    '/api/v1/sites/:site/history',
    wrap((req, res) => {
      noUnknownParams(req, ['from', 'to', 'step']);
      if (historyInFlight >= limits.maxHistoryInFlight) {
        throw new ApiError(503, `too many history requests in progress (max ${limits.maxHistoryInFlight}); retry later`, { 'Retry-After': '1' });
      }
      // Held until the response is sent (or the client is gone): a slow reader keeps its slot.
      historyInFlight++;
      res.once('close', () => void historyInFlight--);
      const site = String(req.params.site);
      if (!SITE_NAME_RE.test(site)) throw new ApiError(400, `"${truncate(site, 40)}" is not a site name (${SITE_NAME_RULE})`);
      const t = latestOr503();
      if (!t.sites.some((s) => s.sample.name === site)) throw new ApiError(404, `unknown site: ${site}`);
      const { fromMs, toMs, stepMs } = historyRange(req, t.source.dir?.tickIntervalMs || 1000, limits.maxHistoryPoints);
      const pts = sampler.history(site, fromMs, toMs, stepMs);
      if (!pts) throw new ApiError(404, `unknown site: ${site}`);
      // Defensive bound in case a sampler ignores stepMs.
      const bounded = pts.length > limits.maxHistoryPoints ? pts.slice(pts.length - limits.maxHistoryPoints) : pts;
      res.setHeader('Cache-Control', 'no-store');
      res.json({
        site,
        from: rfc3339(fromMs),
        to: rfc3339(toMs),
        stepSeconds: stepMs / 1000,
        points: bounded.map((p) => ({ seq: p.seq, takenAt: rfc3339(p.takenAtMs), takenAtMs: p.takenAtMs, site: siteJson(p.state) })),
      });
    }),
  );

  router.get(
    '/api/v1/stream',
    wrap((req, res) => {
      noUnknownParams(req, ['sites', 'lastEventId']);
      const filter = parseSitesFilter(queryString(req, 'sites'), knownSites());
      hub.stream(req, res, filter);
    }),
  );

  router.get(
    '/api/v1/poll',
    wrap((req, res) => {
      noUnknownParams(req, ['after', 'timeout', 'sites']);
      const { after, timeoutMs } = pollParams(req, limits.maxPollTimeoutS);
      const filter = parseSitesFilter(queryString(req, 'sites'), knownSites());
      hub.poll(res, after, timeoutMs, filter);
    }),
  );

  router.use(jsonErrorHandler(logger));

  router.close = () => hub.close();
  router.hub = hub;
  return router;
}

/** JSON 404 for any /api/ path no router matched. Mount after apiRouter and controlRouter. */
export function apiNotFound(): RequestHandler {
  return (req, res, next) => {
    if (!req.path.startsWith('/api/')) {
      next();
      return;
    }
    sendError(res, 404, `no such API endpoint: ${req.method} ${truncate(req.path, 80)}`);
  };
}
