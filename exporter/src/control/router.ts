// The control path: POST /api/v1/sites/{site}/commands.
//
// Exports:
//   controlRouter(deps: ControlDeps): express.Router   mount at the root,
//     before apiNotFound(): app.use(controlRouter(deps)).
//   CONTROL_ENABLE_HINT   the text of the 403 when no token is configured.
//
// Order of checks: control enabled (403) -> bearer token (401) -> rate limit
// (429) -> body (415/413/400) -> grammar (400) -> site known (404; 503 before
// the first tick) -> write through the ControlChannel (errno -> 400/409/403/
// 502/504) -> read back through the sampler's ticks until the change is
// visible (200) or readbackTimeoutMs passes (504). Commands to one site are
// serialised so each read-back sees its own command's effect; different
// sites proceed in parallel. Every request is logged (who, what, result);
// the Authorization header is never logged.
import express from 'express';
import type { Request, Response } from 'express';
import type { SiteSample } from '../source/types.js';
import type { Tick } from '../sampler/types.js';
import type { Logger, SamplerView } from '../api/deps.js';
import { silentLogger } from '../api/deps.js';
import { ApiError, jsonErrorHandler, sendError } from '../api/errors.js';
import { bearerChecker } from './auth.js';
import { ControlChannelError, statusForChannelError } from './channel.js';
import type { ControlChannel } from './channel.js';
import { buildLine, describeCommand, parseCommand, SITE_NAME_RE } from './grammar.js';
import type { ControlCommand } from './grammar.js';
import { TokenBucket } from './ratelimit.js';

export const CONTROL_ENABLE_HINT =
  'control is disabled because no token is configured: put a random token (>= 16 characters) in a file readable only by the exporter and start it with --control.token-file=FILE (config key control.token_file)';

export interface ControlDeps {
  sampler: SamplerView;
  /** Undefined: control disabled (every request 403). */
  channel?: ControlChannel;
  /** Bearer token (see loadControlToken). Undefined or empty: control disabled. */
  token?: string;
  logger?: Logger;
  /** Token bucket. Default burst 10, 1 command/s. */
  rateLimit?: { burst: number; perSecond: number };
  /** How long to wait for the change to show in the pages. Default 5000 ms. */
  readbackTimeoutMs?: number;
  /** Max JSON body. Default '1kb'. */
  bodyLimit?: string | number;
  /** Overrides the 403 text when control is disabled (e.g. to name the real flag). */
  enableHint?: string;
}

interface ReadBack {
  before: SiteSample;
  after: SiteSample;
  seq: number;
}

/** True when `now` shows the effect of `cmd` relative to `before`. */
export function commandVisible(cmd: ControlCommand, before: SiteSample, now: SiteSample): boolean {
  switch (cmd.op) {
    case 'cmd_add':
      return now.cmdModules >= before.cmdModules + cmd.count;
    case 'cmd_remove':
      return now.cmdModules <= before.cmdModules - cmd.count;
    case 'fault':
      return now.faultsTotal > before.faultsTotal || (now.sampleSeq > before.sampleSeq && now.fault === cmd.kind);
    case 'fault_clear':
      return now.sampleSeq > before.sampleSeq && now.fault === 'none';
  }
}

function findSite(t: Tick | undefined, site: string): SiteSample | undefined {
  return t?.sites.find((s) => s.sample.name === site)?.sample;
}

export function controlRouter(deps: ControlDeps): express.Router {
  const logger = deps.logger ?? silentLogger;
  const enabled = !!deps.token && !!deps.channel;
  const check = enabled ? bearerChecker(deps.token!) : undefined;
  const rl = deps.rateLimit ?? { burst: 10, perSecond: 1 };
  const bucket = new TokenBucket(rl.burst, rl.perSecond);
  const readbackMs = deps.readbackTimeoutMs ?? 5000;
  const siteLocks = new Map<string, Promise<unknown>>();
  const router = express.Router();
  const route = '/api/v1/sites/:site/commands';

  const who = (req: Request, res: Response) => ({
    remote: req.socket.remoteAddress,
    user: typeof res.locals.user === 'string' ? res.locals.user : undefined,
    userAgent: req.get('User-Agent')?.slice(0, 100),
  });

  const refuse = (req: Request, res: Response, status: number, message: string, headers: Record<string, string> = {}) => {
    logger.warn({ ...who(req, res), site: String(req.params.site ?? '').slice(0, 40), status, result: 'refused', reason: message }, 'control command refused');
    sendError(res, status, message, headers);
  };

  // Gate: enabled, authenticated, within the rate limit. Runs before the body is parsed.
  router.post(route, (req, res, next) => {
    if (!enabled) {
      refuse(req, res, 403, deps.enableHint ?? CONTROL_ENABLE_HINT);
      return;
    }
    const auth = check!(req.get('Authorization'));
    if (auth !== 'ok') {
      refuse(req, res, 401, auth === 'missing' ? 'missing bearer token: send "Authorization: Bearer <token>"' : 'invalid bearer token', {
        'WWW-Authenticate': `Bearer realm="optifiber-control"${auth === 'wrong' ? ', error="invalid_token"' : ''}`,
      });
      return;
    }
    const wait = bucket.take();
    if (wait > 0) {
      refuse(req, res, 429, `rate limit exceeded (${rl.burst} commands, refilled at ${rl.perSecond}/s); retry after ${Math.ceil(wait / 1000)} s`, {
        'Retry-After': String(Math.ceil(wait / 1000)),
      });
      return;
    }
    if (!req.is('application/json')) {
      refuse(req, res, 415, 'Content-Type must be application/json');
      return;
    }
    next();
  });
  router.post(route, express.json({ limit: deps.bodyLimit ?? '1kb', strict: false, type: 'application/json' }));
  router.post(route, (req, res, next) => {
    handle(req, res).catch(next);
  });
  router.all(route, (req, res) => {
    res.setHeader('Allow', 'POST');
    sendError(res, 405, `method ${req.method} not allowed; use POST`);
  });
  const jsonErrors = jsonErrorHandler(logger);
  router.use(route, (err: unknown, req: Request, res: Response, next: express.NextFunction) => {
    if (err instanceof ApiError) {
      refuse(req, res, err.status, err.message, err.headers);
      return;
    }
    const e = err as { type?: string };
    logger.warn({ ...who(req, res), site: String(req.params.site ?? '').slice(0, 40), result: 'refused', reason: e?.type ?? 'error' }, 'control command refused');
    jsonErrors(err, req, res, next);
  });

  async function handle(req: Request, res: Response): Promise<void> {
    const started = performance.now();
    const site = String(req.params.site);
    if (!SITE_NAME_RE.test(site)) throw new ApiError(400, 'site: not a site name (1..31 chars of A-Z a-z 0-9 _ . -)');
    if (req.body === undefined || req.get('Content-Length') === '0') throw new ApiError(400, 'empty body: send a JSON object such as {"cmd_add": 1}');
    let cmd: ControlCommand;
    try {
      cmd = parseCommand(req.body);
    } catch (e) {
      if (e instanceof ApiError) {
        refuse(req, res, e.status, e.message);
        return;
      }
      throw e;
    }
    const what = describeCommand(cmd);
    const line = buildLine(site, cmd);
    const latest = deps.sampler.latest();
    if (!latest) throw new ApiError(503, 'no sample yet: the sampler has not completed its first tick', { 'Retry-After': '1' });
    if (!findSite(latest, site)) {
      refuse(req, res, 404, `unknown site: ${site}`);
      return;
    }

    // Serialise per site: wait for earlier commands to this site to finish.
    const prev = siteLocks.get(site) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = prev.then(() => mine);
    siteLocks.set(site, chained);
    await prev;
    try {
      const before = findSite(deps.sampler.latest(), site);
      if (!before) {
        refuse(req, res, 404, `unknown site: ${site}`);
        return;
      }
      let result: ReadBack | undefined;
      let resolveSeen!: (r: ReadBack | undefined) => void;
      const seen = new Promise<ReadBack | undefined>((r) => (resolveSeen = r));
      const unsubscribe = deps.sampler.onTick((t) => {
        const now = findSite(t, site);
        if (now && commandVisible(cmd, before, now)) resolveSeen({ before, after: now, seq: t.seq });
      });
      const timer = setTimeout(() => resolveSeen(undefined), readbackMs);
      try {
        try {
          await deps.channel!.write(line);
        } catch (e) {
          if (e instanceof ControlChannelError) {
            const status = statusForChannelError(e.code);
            logger.warn({ ...who(req, res), site, command: what, channel: deps.channel!.describe, status, result: 'rejected', errno: e.code, reason: e.message }, 'control command rejected');
            sendError(res, status, `${e.code}: ${e.message}`);
            return;
          }
          throw e;
        }
        result = await seen;
      } finally {
        clearTimeout(timer);
        unsubscribe();
      }
      const elapsedMs = Math.round(performance.now() - started);
      if (!result) {
        const msg = `command "${what}" was written to ${deps.channel!.describe} but is not yet visible in the pages after ${readbackMs / 1000} s; it may still take effect: check GET /api/v1/sites before retrying`;
        logger.warn({ ...who(req, res), site, command: what, channel: deps.channel!.describe, status: 504, result: 'written, not visible', elapsedMs }, 'control command not yet visible');
        sendError(res, 504, msg);
        return;
      }
      logger.info({ ...who(req, res), site, command: what, channel: deps.channel!.describe, status: 200, result: 'applied', seq: result.seq, elapsedMs }, 'control command applied');
      res.setHeader('Cache-Control', 'no-store');
      res.status(200).json({
        site,
        command: what,
        channel: deps.channel!.describe,
        result: 'applied',
        seq: result.seq,
        elapsedMs,
        before: { cmdModules: result.before.cmdModules, capacityBps: result.before.capacityBps, fault: result.before.fault, sampleSeq: result.before.sampleSeq },
        after: { cmdModules: result.after.cmdModules, capacityBps: result.after.capacityBps, fault: result.after.fault, sampleSeq: result.after.sampleSeq },
      });
    } finally {
      release();
      if (siteLocks.get(site) === chained) siteLocks.delete(site);
    }
  }

  return router;
}
