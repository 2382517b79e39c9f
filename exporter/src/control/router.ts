// The control path: POST /api/v1/sites/{site}/commands.
//
// Exports:
//   controlRouter(deps: ControlDeps): express.Router   mount at the root,
//     before apiNotFound(): app.use(controlRouter(deps)).
//   CONTROL_ENABLE_HINT   the text of the 403 when no token is configured.
//
// Order of checks: control enabled (403) -> an identity with the control
// scope (Basic or Bearer, http/credentials.ts: 401/403/429 per address) ->
// that identity's rate limit (429) -> body (415/413/400, 1 KiB) -> grammar
// (400) -> Idempotency-Key (replay / 409 / 422) -> site known (404; 503
// before the first tick) -> audit "pending" (synced) -> write through the
// ControlChannel (errno -> 400/409/403/502/504) -> read back through the
// sampler's ticks until the change is visible (200) or readbackTimeoutMs
// passes (504) -> audit "done". Commands to one site are serialised so each
// read-back sees its own command's effect; different sites proceed in
// parallel. Every request is logged and every authenticated one is in the
// audit trail (control/audit.ts) under its identity's name; the
// Authorization header is never logged.
import express from 'express';
import type { Request, Response } from 'express';
import type { SiteSample } from '../source/types.js';
import type { Tick } from '../sampler/types.js';
import type { SamplerView } from '../api/deps.js';
import { silentLogger, type EventLogger as Logger } from '../log/logger.js';
import { ApiError, errorBody, jsonErrorHandler, rateLimitedLog, sendError } from '../api/errors.js';
import { Authenticator, type Identity } from '../http/credentials.js';
import { ControlAudit } from './audit.js';
import { ControlChannelError, statusForChannelError } from './channel.js';
import type { ControlChannel } from './channel.js';
import { buildLine, checkSiteName, describeCommand, parseCommand } from './grammar.js';
import type { ControlCommand } from './grammar.js';
import { TokenBucket } from './ratelimit.js';

export const CONTROL_ENABLE_HINT =
  'control is disabled because no token is configured: put a random token (>= 16 characters) in a file readable only by the exporter and start it with --control.token-file=FILE (config key control.token_file), or give a bearer_tokens entry the control scope in the web config';

/** Control bodies are one small JSON object; docs/api.md promises 1 KiB. */
export const CONTROL_BODY_LIMIT = 1024;
/** Idempotency-Key: 1..128 printable ASCII characters (a UUID fits). */
const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,128}$/;

export interface ControlDeps {
  sampler: SamplerView;
  /** Undefined: control disabled (every request 403). */
  channel?: ControlChannel;
  /** One bearer token, identity "control-token" with the read and control scopes (see loadControlToken). */
  token?: string;
  /** The current authenticator (the web config's identities plus the control token); overrides token. */
  authenticator?: () => Authenticator;
  /** Where accepted commands and their outcomes are recorded; default in memory only. */
  audit?: ControlAudit;
  logger?: Logger;
  /** Token bucket per identity. Default burst 10, 1 command/s. */
  rateLimit?: { burst: number; perSecond: number };
  /** How long to wait for the change to show in the pages. Default 5000 ms. */
  readbackTimeoutMs?: number;
  /** Max JSON body. Default CONTROL_BODY_LIMIT (1 KiB). */
  bodyLimit?: number;
  /** Overrides the 403 text when control is disabled (e.g. to name the real flag). */
  enableHint?: string;
}

interface ReadBack {
  before: SiteSample;
  after: SiteSample;
  seq: number;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  result: string;
  seq?: number;
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

const refusal = (status: number, message: string, headers: Record<string, string> = {}): Reply => ({ status, body: errorBody(status, message), headers, result: 'refused' });

export function controlRouter(deps: ControlDeps): express.Router {
  const logger = deps.logger ?? silentLogger;
  const fixedAuth = deps.authenticator ? undefined : new Authenticator({ bearer: deps.token ? [{ name: 'control-token', token: deps.token, scopes: ['read', 'control'] }] : [] });
  const currentAuth = deps.authenticator ?? (() => fixedAuth!);
  const audit = deps.audit ?? new ControlAudit(undefined);
  const rl = deps.rateLimit ?? { burst: 10, perSecond: 1 };
  const buckets = new Map<string, TokenBucket>();
  const readbackMs = deps.readbackTimeoutMs ?? 5000;
  const siteLocks = new Map<string, Promise<unknown>>();
  const router = express.Router();
  const route = '/api/v1/sites/:site/commands';

  const identityOf = (res: Response): Identity | undefined => res.locals.controlIdentity as Identity | undefined;
  const who = (req: Request, res: Response) => ({
    remote: req.socket.remoteAddress,
    user: identityOf(res)?.name,
    userAgent: req.get('User-Agent')?.slice(0, 100),
  });
  const siteOf = (req: Request) => String(req.params.site ?? '').slice(0, 40);
  // Refusals of callers without an identity are anyone's to trigger: at most one log line per 10 s.
  const anonymousRefusal = rateLimitedLog(logger, 10_000);

  /** Answers, logs and (for an authenticated identity) audits. */
  const answer = (req: Request, res: Response, r: Reply, extra: { command?: string; idempotencyKey?: string; event?: 'done' | 'refused' | 'replayed' } = {}) => {
    const id = identityOf(res);
    const fields = { ...who(req, res), site: siteOf(req), command: extra.command, status: r.status, result: r.result, ...(r.seq !== undefined ? { seq: r.seq } : {}) };
    if (r.status === 200) logger.info(fields, 'control command applied');
    else if (!id) anonymousRefusal({ ...fields, reason: (r.body as { message?: string }).message }, 'control command refused (no identity)');
    else if (r.result === 'refused') logger.warn({ ...fields, reason: (r.body as { message?: string }).message }, 'control command refused');
    else logger.warn({ ...fields, reason: (r.body as { message?: string }).message }, `control command ${r.result}`);
    if (id) {
      audit.append({
        event: extra.event ?? (r.result === 'refused' ? 'refused' : 'done'),
        identity: id.name,
        ...(req.socket.remoteAddress ? { remote: req.socket.remoteAddress } : {}),
        site: siteOf(req),
        ...(extra.command ? { command: extra.command } : {}),
        ...(extra.idempotencyKey ? { idempotencyKey: extra.idempotencyKey } : {}),
        status: r.status,
        result: r.result,
        ...(r.seq !== undefined ? { seq: r.seq } : {}),
        ...(extra.idempotencyKey && extra.event !== 'replayed' ? { body: r.body } : {}),
      });
    }
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
    res.setHeader('Cache-Control', 'no-store');
    res.status(r.status).json(r.body);
  };

  // Gate: enabled, authenticated with the control scope, within the identity's rate limit. Runs before the body is read.
  router.post(route, (req, res, next) => {
    const auth = currentAuth();
    if (!deps.channel || !auth.grants('control')) {
      answer(req, res, refusal(403, deps.enableHint ?? CONTROL_ENABLE_HINT));
      return;
    }
    auth.authenticate(req, 'control').then((r) => {
      if (!r.ok) {
        // An identity without the control scope is named in the audit trail: it tried to change the network.
        if (r.identity) res.locals.controlIdentity = r.identity;
        answer(req, res, refusal(r.status, r.message, r.headers));
        return;
      }
      res.locals.controlIdentity = r.identity;
      let bucket = buckets.get(r.identity.name);
      if (!bucket) buckets.set(r.identity.name, (bucket = new TokenBucket(rl.burst, rl.perSecond)));
      const wait = bucket.take();
      if (wait > 0) {
        answer(req, res, refusal(429, `rate limit of identity "${r.identity.name}" exceeded (${rl.burst} commands, refilled at ${rl.perSecond}/s); retry after ${Math.ceil(wait / 1000)} s`, { 'Retry-After': String(Math.ceil(wait / 1000)) }));
        return;
      }
      if (!req.is('application/json')) {
        answer(req, res, refusal(415, 'Content-Type must be application/json'));
        return;
      }
      next();
    }, next);
  });
  router.post(route, express.json({ limit: deps.bodyLimit ?? CONTROL_BODY_LIMIT, strict: false, type: 'application/json' }));
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
      answer(req, res, refusal(err.status, err.message, err.headers));
      return;
    }
    const e = err as { type?: string; limit?: number };
    if (e?.type === 'entity.too.large') {
      answer(req, res, refusal(413, `request body larger than ${e.limit ?? CONTROL_BODY_LIMIT} bytes (control bodies are at most 1 KiB)`));
      return;
    }
    if (e?.type === 'entity.parse.failed') {
      answer(req, res, refusal(400, 'request body is not valid JSON'));
      return;
    }
    logger.warn({ ...who(req, res), site: siteOf(req), result: 'refused', reason: e?.type ?? 'error' }, 'control command refused');
    jsonErrors(err, req, res, next);
  });

  async function handle(req: Request, res: Response): Promise<void> {
    const site = String(req.params.site);
    checkSiteName(site);
    if (req.body === undefined || req.get('Content-Length') === '0') throw new ApiError(400, 'empty body: send a JSON object such as {"cmd_add": 1}');
    const cmd = parseCommand(req.body);
    const what = describeCommand(cmd);
    const line = buildLine(site, cmd);
    const keyRaw = req.get('Idempotency-Key');
    if (keyRaw !== undefined && !IDEMPOTENCY_KEY_RE.test(keyRaw)) throw new ApiError(400, 'Idempotency-Key: expected 1..128 printable ASCII characters without spaces');
    const identity = identityOf(res)!;
    const ctx = { command: what, ...(keyRaw !== undefined ? { idempotencyKey: keyRaw } : {}) };
    if (keyRaw !== undefined) {
      const prior = audit.lookup(identity.name, keyRaw);
      if (prior) {
        if (prior.site !== site || prior.command !== what) {
          answer(req, res, refusal(422, `Idempotency-Key "${keyRaw.slice(0, 40)}" was used for "${prior.command}" on ${prior.site}; use a new key for a different command`), ctx);
          return;
        }
        if (prior.state === 'pending') {
          const msg = prior.live
            ? 'a command with this Idempotency-Key is being applied; retry after it has answered'
            : 'the exporter stopped while the command with this Idempotency-Key was being written; it may have taken effect: check GET /api/v1/sites, and use a new key to send it again';
          answer(req, res, refusal(409, msg, prior.live ? { 'Retry-After': '1' } : {}), ctx);
          return;
        }
        answer(req, res, { status: prior.status ?? 200, body: prior.body, headers: { 'Idempotent-Replayed': 'true' }, result: 'replayed' }, { ...ctx, event: 'replayed' });
        return;
      }
    }
    const latest = deps.sampler.latest();
    if (!latest) throw new ApiError(503, 'no sample yet: the sampler has not completed its first tick', { 'Retry-After': '1' });
    if (!findSite(latest, site)) {
      answer(req, res, refusal(404, `unknown site: ${site}`), ctx);
      return;
    }
    if (keyRaw !== undefined) audit.append({ event: 'pending', identity: identity.name, site, command: what, idempotencyKey: keyRaw });
    let reply: Reply;
    try {
      reply = await apply(site, cmd, what, line);
    } catch (e) {
      logger.error({ err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e), site, command: what }, 'control command failed');
      reply = { ...refusal(500, 'internal error (see the exporter log)'), result: 'error' };
    }
    answer(req, res, reply, ctx);
  }

  /** Serialised per site: write the line, then wait for its effect in the pages. */
  async function apply(site: string, cmd: ControlCommand, what: string, line: string): Promise<Reply> {
    const started = performance.now();
    const prev = siteLocks.get(site) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = prev.then(() => mine);
    siteLocks.set(site, chained);
    await prev;
    try {
      const before = findSite(deps.sampler.latest(), site);
      if (!before) return refusal(404, `unknown site: ${site}`);
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
          if (!(e instanceof ControlChannelError)) throw e;
          const status = statusForChannelError(e.code);
          return { status, body: errorBody(status, `${e.code}: ${e.message}`), result: 'rejected' };
        }
        result = await seen;
      } finally {
        clearTimeout(timer);
        unsubscribe();
      }
      const elapsedMs = Math.round(performance.now() - started);
      if (!result) {
        const msg = `command "${what}" was written to ${deps.channel!.describe} but is not yet visible in the pages after ${readbackMs / 1000} s; it may still take effect: check GET /api/v1/sites before retrying (a retry with the same Idempotency-Key is never applied twice)`;
        return { status: 504, body: errorBody(504, msg), result: 'written, not visible' };
      }
      return {
        status: 200,
        result: 'applied',
        seq: result.seq,
        body: {
          site,
          command: what,
          channel: deps.channel!.describe,
          result: 'applied',
          seq: result.seq,
          elapsedMs,
          before: { cmdModules: result.before.cmdModules, capacityBps: result.before.capacityBps, fault: result.before.fault, sampleSeq: result.before.sampleSeq },
          after: { cmdModules: result.after.cmdModules, capacityBps: result.after.capacityBps, fault: result.after.fault, sampleSeq: result.after.sampleSeq },
        },
      };
    } finally {
      release();
      if (siteLocks.get(site) === chained) siteLocks.delete(site);
    }
  }

  return router;
}
