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

const who = (req: Request, res: Response) => ({
  remote: req.socket.remoteAddress,
  user: identityOf(res)?.name,
  userAgent: req.get('User-Agent')?.slice(0, 100),
});
const identityOf = (res: Response): Identity | undefined => res.locals.controlIdentity as Identity | undefined;
const siteOf = (req: Request) => String(req.params.site ?? '').slice(0, 40);

/** The control route's state (rate-limit buckets, per-site locks, audit) and its steps. */
class ControlRoutes {
  private readonly logger: Logger;
  private readonly currentAuth: () => Authenticator;
  private readonly audit: ControlAudit;
  private readonly rl: { burst: number; perSecond: number };
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly readbackMs: number;
  private readonly siteLocks = new Map<string, Promise<unknown>>();
  // Refusals of callers without an identity are anyone's to trigger: at most one log line per 10 s.
  private readonly anonymousRefusal: ReturnType<typeof rateLimitedLog>;
  private readonly jsonErrors: ReturnType<typeof jsonErrorHandler>;

  constructor(private readonly deps: ControlDeps) {
    this.logger = deps.logger ?? silentLogger;
    const fixedAuth = deps.authenticator ? undefined : new Authenticator({ bearer: deps.token ? [{ name: 'control-token', token: deps.token, scopes: ['read', 'control'] }] : [] });
    this.currentAuth = deps.authenticator ?? (() => fixedAuth!);
    this.audit = deps.audit ?? new ControlAudit(undefined);
    this.rl = deps.rateLimit ?? { burst: 10, perSecond: 1 };
    this.readbackMs = deps.readbackTimeoutMs ?? 5000;
    this.anonymousRefusal = rateLimitedLog(this.logger, 10_000);
    this.jsonErrors = jsonErrorHandler(this.logger);
  }

  /** Answers, logs and (for an authenticated identity) audits. */
  answer(req: Request, res: Response, r: Reply, extra: { command?: string; idempotencyKey?: string; event?: 'done' | 'refused' | 'replayed' } = {}): void {
    const id = identityOf(res);
    const fields = { ...who(req, res), site: siteOf(req), command: extra.command, status: r.status, result: r.result, ...(r.seq !== undefined ? { seq: r.seq } : {}) };
    if (r.status === 200) this.logger.info(fields, 'control command applied');
    else if (!id) this.anonymousRefusal({ ...fields, reason: (r.body as { message?: string }).message }, 'control command refused (no identity)');
    else if (r.result === 'refused') this.logger.warn({ ...fields, reason: (r.body as { message?: string }).message }, 'control command refused');
    else this.logger.warn({ ...fields, reason: (r.body as { message?: string }).message }, `control command ${r.result}`);
    if (id) {
      this.audit.append({
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
  }

  /** Gate: enabled, authenticated with the control scope, within the identity's rate limit. Runs before the body is read. */
  gate(req: Request, res: Response, next: express.NextFunction): void {
    const auth = this.currentAuth();
    if (!this.deps.channel || !auth.grants('control')) {
      this.answer(req, res, refusal(403, this.deps.enableHint ?? CONTROL_ENABLE_HINT));
      return;
    }
    auth.authenticate(req, 'control').then((r) => {
      if (!r.ok) {
        // An identity without the control scope is named in the audit trail: it tried to change the network.
        if (r.identity) res.locals.controlIdentity = r.identity;
        this.answer(req, res, refusal(r.status, r.message, r.headers));
        return;
      }
      res.locals.controlIdentity = r.identity;
      let bucket = this.buckets.get(r.identity.name);
      if (!bucket) this.buckets.set(r.identity.name, (bucket = new TokenBucket(this.rl.burst, this.rl.perSecond)));
      const wait = bucket.take();
      if (wait > 0) {
        this.answer(req, res, refusal(429, `rate limit of identity "${r.identity.name}" exceeded (${this.rl.burst} commands, refilled at ${this.rl.perSecond}/s); retry after ${Math.ceil(wait / 1000)} s`, { 'Retry-After': String(Math.ceil(wait / 1000)) }));
        return;
      }
      if (!req.is('application/json')) {
        this.answer(req, res, refusal(415, 'Content-Type must be application/json'));
        return;
      }
      next();
    }, next);
  }

  /** Errors of the route (the gate, the body parser, handle) answered, logged and audited as refusals. */
  onError(err: unknown, req: Request, res: Response, next: express.NextFunction): void {
    if (err instanceof ApiError) {
      this.answer(req, res, refusal(err.status, err.message, err.headers));
      return;
    }
    const e = err as { type?: string; limit?: number };
    if (e?.type === 'entity.too.large') {
      this.answer(req, res, refusal(413, `request body larger than ${e.limit ?? CONTROL_BODY_LIMIT} bytes (control bodies are at most 1 KiB)`));
      return;
    }
    if (e?.type === 'entity.parse.failed') {
      this.answer(req, res, refusal(400, 'request body is not valid JSON'));
      return;
    }
    this.logger.warn({ ...who(req, res), site: siteOf(req), result: 'refused', reason: e?.type ?? 'error' }, 'control command refused');
    this.jsonErrors(err, req, res, next);
  }

  async handle(req: Request, res: Response): Promise<void> {
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
      const prior = this.audit.lookup(identity.name, keyRaw);
      if (prior) {
        if (prior.site !== site || prior.command !== what) {
          this.answer(req, res, refusal(422, `Idempotency-Key "${keyRaw.slice(0, 40)}" was used for "${prior.command}" on ${prior.site}; use a new key for a different command`), ctx);
          return;
        }
        if (prior.state === 'pending') {
          const msg = prior.live
            ? 'a command with this Idempotency-Key is being applied; retry after it has answered'
            : 'the exporter stopped while the command with this Idempotency-Key was being written; it may have taken effect: check GET /api/v1/sites, and use a new key to send it again';
          this.answer(req, res, refusal(409, msg, prior.live ? { 'Retry-After': '1' } : {}), ctx);
          return;
        }
        this.answer(req, res, { status: prior.status ?? 200, body: prior.body, headers: { 'Idempotent-Replayed': 'true' }, result: 'replayed' }, { ...ctx, event: 'replayed' });
        return;
      }
    }
    const latest = this.deps.sampler.latest();
    if (!latest) throw new ApiError(503, 'no sample yet: the sampler has not completed its first tick', { 'Retry-After': '1' });
    if (!findSite(latest, site)) {
      this.answer(req, res, refusal(404, `unknown site: ${site}`), ctx);
      return;
    }
    if (keyRaw !== undefined) this.audit.append({ event: 'pending', identity: identity.name, site, command: what, idempotencyKey: keyRaw });
    let reply: Reply;
    try {
      reply = await this.apply(site, cmd, what, line);
    } catch (e) {
      this.logger.error({ err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e), site, command: what }, 'control command failed');
      reply = { ...refusal(500, 'internal error (see the exporter log)'), result: 'error' };
    }
    this.answer(req, res, reply, ctx);
  }

  /** Serialised per site: write the line, then wait for its effect in the pages. */
  private async apply(site: string, cmd: ControlCommand, what: string, line: string): Promise<Reply> {
    const started = performance.now();
    const prev = this.siteLocks.get(site) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = prev.then(() => mine);
    this.siteLocks.set(site, chained);
    await prev;
    try {
      const before = findSite(this.deps.sampler.latest(), site);
      if (!before) return refusal(404, `unknown site: ${site}`);
      let result: ReadBack | undefined;
      let resolveSeen!: (r: ReadBack | undefined) => void;
      const seen = new Promise<ReadBack | undefined>((r) => (resolveSeen = r));
      const unsubscribe = this.deps.sampler.onTick((t) => {
        const now = findSite(t, site);
        if (now && commandVisible(cmd, before, now)) resolveSeen({ before, after: now, seq: t.seq });
      });
      const timer = setTimeout(() => resolveSeen(undefined), this.readbackMs);
      try {
        try {
          await this.deps.channel!.write(line);
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
        const msg = `command "${what}" was written to ${this.deps.channel!.describe} but is not yet visible in the pages after ${this.readbackMs / 1000} s; it may still take effect: check GET /api/v1/sites before retrying (a retry with the same Idempotency-Key is never applied twice)`;
        return { status: 504, body: errorBody(504, msg), result: 'written, not visible' };
      }
      return {
        status: 200,
        result: 'applied',
        seq: result.seq,
        body: {
          site,
          command: what,
          channel: this.deps.channel!.describe,
          result: 'applied',
          seq: result.seq,
          elapsedMs,
          before: { cmdModules: result.before.cmdModules, capacityBps: result.before.capacityBps, fault: result.before.fault, sampleSeq: result.before.sampleSeq },
          after: { cmdModules: result.after.cmdModules, capacityBps: result.after.capacityBps, fault: result.after.fault, sampleSeq: result.after.sampleSeq },
        },
      };
    } finally {
      release();
      if (this.siteLocks.get(site) === chained) this.siteLocks.delete(site);
    }
  }
}

export function controlRouter(deps: ControlDeps): express.Router {
  const c = new ControlRoutes(deps);
  const router = express.Router();
  const route = '/api/v1/sites/:site/commands';
  router.post(route, (req, res, next) => c.gate(req, res, next));
  router.post(route, express.json({ limit: deps.bodyLimit ?? CONTROL_BODY_LIMIT, strict: false, type: 'application/json' }));
  router.post(route, (req, res, next) => {
    c.handle(req, res).catch(next);
  });
  router.all(route, (req, res) => {
    res.setHeader('Allow', 'POST');
    sendError(res, 405, `method ${req.method} not allowed; use POST`);
  });
  router.use(route, (err: unknown, req: Request, res: Response, next: express.NextFunction) => c.onError(err, req, res, next));
  return router;
}
