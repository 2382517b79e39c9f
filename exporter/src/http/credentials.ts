// Who is calling, and what they may do. One Authenticator per web config
// generation (swapped whole when the web config is re-read) answers
// "which identity does this Authorization header prove?" for both schemes:
//
//   Authorization: Basic ...    basic_auth_users (exporter-toolkit), bcrypt
//   Authorization: Bearer ...   bearer_tokens (OptiFiber extension) and the
//                               --control.token-file token
//
// Each identity has a name (written in the control audit trail) and scopes:
//   read     GET /metrics, /api/v1/*, /-/*
//   control  POST /api/v1/sites/{site}/commands
// so Prometheus (read) and the MCP controller (control) can hold different
// credentials with basic auth switched on. docs/security.md has the model.
//
// bcrypt runs in a worker thread (BcryptVerifier), never on the event loop
// that serves scrapes and takes ticks; hashes above BCRYPT_MAX_COST are
// refused when the web config is loaded; failed attempts are limited per
// client address (FailureLimiter) before any bcrypt work is spent on them.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Request } from 'express';

export type Scope = 'read' | 'control';
export const SCOPES: readonly Scope[] = ['read', 'control'];

export interface Identity {
  /** Basic-auth user name, or the bearer token's name ("control-token" for --control.token-file). */
  readonly name: string;
  readonly scheme: 'basic' | 'bearer';
  readonly scopes: ReadonlySet<Scope>;
}

export interface BearerCredential {
  name: string;
  token: string;
  scopes: Scope[];
}

export type AuthFailureReason = 'missing' | 'invalid' | 'rate_limited' | 'busy' | 'forbidden';

export type AuthResult =
  | { ok: true; identity: Identity }
  | { ok: false; status: 401 | 403 | 429 | 503; reason: AuthFailureReason; message: string; headers: Record<string, string>; identity?: Identity };

/** bcrypt cost factors above this are refused at load: one check at cost 13 takes ~1 s of a core in bcryptjs. */
export const BCRYPT_MAX_COST = 12;

const sha256 = (...parts: string[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p, 'utf8').update('\0');
  return h.digest();
};

// ---------------------------------------------------------------------------
// bcrypt off the event loop

// The worker lowers its own thread's priority (Linux: setpriority on the
// calling thread): on a busy machine a stream of wrong passwords then takes
// the CPU that ticks and scrapes leave over, not theirs.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
try { require('node:os').setPriority(0, 19); } catch {}
const bcrypt = require(workerData.bcryptPath);
parentPort.on('message', (m) => {
  let ok = false;
  try { ok = bcrypt.compareSync(m.password, m.hash); } catch { ok = false; }
  parentPort.postMessage({ id: m.id, ok });
});
`;

/**
 * A worker thread running bcryptjs.compareSync, one comparison at a time,
 * with a bounded queue: verify() answers 'busy' at once when maxQueue
 * comparisons are already waiting. The worker is unref'd (it never keeps the
 * process alive) and started on first use.
 */
export class BcryptVerifier {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (ok: boolean) => void>();

  constructor(readonly maxQueue = 8) {}

  get queued(): number {
    return this.pending.size;
  }

  verify(password: string, hash: string): Promise<boolean | 'busy'> {
    if (this.pending.size >= this.maxQueue) return Promise.resolve('busy');
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      w.postMessage({ id, password, hash });
    });
  }

  close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    for (const r of this.pending.values()) r(false);
    this.pending.clear();
    return w ? w.terminate().then(() => undefined) : Promise.resolve();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath } });
    w.unref();
    w.on('message', (m: { id: number; ok: boolean }) => {
      const r = this.pending.get(m.id);
      this.pending.delete(m.id);
      r?.(m.ok);
    });
    const fail = () => {
      // A crashed worker fails its pending checks closed; the next verify() starts a new one.
      if (this.worker === w) this.worker = undefined;
      for (const r of this.pending.values()) r(false);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', fail);
    this.worker = w;
    return w;
  }
}

// ---------------------------------------------------------------------------
// failed attempts per client address

/**
 * At most maxFailures failed authentications per client address within
 * windowMs; further attempts from that address are answered 429 without
 * looking at the credentials (no bcrypt work) until the window has passed.
 * The table is bounded (oldest entry evicted).
 */
export class FailureLimiter {
  private readonly table = new Map<string, { count: number; since: number }>();

  constructor(
    readonly maxFailures = 10,
    readonly windowMs = 60_000,
    private readonly maxAddresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when the address may try, else seconds until it may. */
  blockedFor(address: string): number {
    const e = this.table.get(address);
    if (!e) return 0;
    const age = this.now() - e.since;
    if (age >= this.windowMs) {
      this.table.delete(address);
      return 0;
    }
    return e.count >= this.maxFailures ? Math.ceil((this.windowMs - age) / 1000) : 0;
  }

  fail(address: string): void {
    let e = this.table.get(address);
    if (!e || this.now() - e.since >= this.windowMs) {
      this.table.delete(address);
      if (this.table.size >= this.maxAddresses) this.table.delete(this.table.keys().next().value!);
      e = { count: 0, since: this.now() };
      this.table.set(address, e);
    }
    e.count++;
  }
}

// ---------------------------------------------------------------------------

// A valid hash nobody knows the password of (cost 10): unknown users cost the same as known ones.
const DUMMY_HASH = '$2b$10$7gnVg2fiiO3Az46Zqm2p.etqfQQcaYTAMCrldRv.dC.PMZkZuxhJG';

export interface AuthenticatorOptions {
  /** basic_auth_users: user -> bcrypt hash. */
  basicUsers?: Map<string, string>;
  /** Scopes per basic-auth user (basic_auth_scopes); users not listed get [read]. */
  basicScopes?: Map<string, Scope[]>;
  bearer?: BearerCredential[];
  /** Whether GET routes need an identity (true when the web config names any credential). */
  readRequired?: boolean;
  verifier?: BcryptVerifier;
  limiter?: FailureLimiter;
  /** Counts every failure (the optifiber_exporter_auth_failures_total metric). */
  onFailure?: (reason: AuthFailureReason) => void;
  realm?: string;
  /** Successful basic credentials remembered (by SHA-256). Default 1024. */
  cacheSize?: number;
  /**
   * 429 (address over its failure limit) and 503 (bcrypt queue full) answers
   * are held this long before they are sent (default 1000 ms; 0: at once), at
   * most maxHeldPerAddress (default 4) at a time per address, the rest at once.
   */
  refusalDelayMs?: number;
  maxHeldPerAddress?: number;
}

export class Authenticator {
  readonly readRequired: boolean;
  private readonly basic: Map<string, string>;
  private readonly basicIds = new Map<string, Identity>();
  private readonly bearer: { digest: Buffer; identity: Identity }[];
  private readonly verifier: BcryptVerifier;
  private readonly limiter: FailureLimiter;
  private readonly cache = new Map<string, Identity>(); // sha256(user, password, hash) -> identity
  private readonly held = new Map<string, number>(); // address -> refusals being held
  private readonly realm: string;

  constructor(private readonly opts: AuthenticatorOptions = {}) {
    this.basic = opts.basicUsers ?? new Map();
    for (const user of this.basic.keys()) {
      this.basicIds.set(user, { name: user, scheme: 'basic', scopes: new Set(opts.basicScopes?.get(user) ?? ['read']) });
    }
    this.bearer = (opts.bearer ?? []).map((b) => ({ digest: sha256(b.token), identity: { name: b.name, scheme: 'bearer', scopes: new Set(b.scopes) } }));
    this.readRequired = opts.readRequired ?? (this.basic.size > 0 || this.bearer.length > 0);
    this.verifier = opts.verifier ?? new BcryptVerifier();
    this.limiter = opts.limiter ?? new FailureLimiter();
    this.realm = opts.realm ?? 'optifiber';
  }

  /** True when some identity holds `scope`. */
  grants(scope: Scope): boolean {
    return [...this.basicIds.values(), ...this.bearer.map((b) => b.identity)].some((i) => i.scopes.has(scope));
  }

  /** Identity proved by the request's Authorization header, holding `scope`. */
  async authenticate(req: Request, scope: Scope): Promise<AuthResult> {
    const address = req.socket.remoteAddress ?? 'unknown';
    const header = req.get('Authorization');
    const scheme = header ? /^(\S+)[ ]+(\S+)[ ]*$/.exec(header) : null;
    const kind = scheme?.[1]!.toLowerCase();
    if (!scheme || (kind !== 'basic' && kind !== 'bearer')) return this.failure('missing', 401, 'authentication required: send "Authorization: Basic ..." or "Authorization: Bearer ..."', scope);
    const blocked = this.limiter.blockedFor(address);
    if (blocked > 0) return this.hold(address, this.failure('rate_limited', 429, `too many failed authentications from this address; retry after ${blocked} s`, scope, { 'Retry-After': String(blocked) }));
    const found = kind === 'bearer' ? this.bearerIdentity(scheme[2]!) : await this.basicIdentity(scheme[2]!);
    if (found === 'busy') return this.hold(address, this.failure('busy', 503, 'too many authentication attempts in progress; retry later', scope, { 'Retry-After': '1' }));
    if (!found) {
      this.limiter.fail(address);
      return this.failure('invalid', 401, kind === 'bearer' ? 'invalid bearer token' : 'invalid username or password', scope);
    }
    if (!found.scopes.has(scope)) return { ...this.failure('forbidden', 403, `identity "${found.name}" lacks the ${scope} scope`, scope), identity: found } as AuthResult;
    return { ok: true, identity: found };
  }

  close(): Promise<void> {
    return this.verifier.close();
  }

  /**
   * Why hold a refusal: answered at once, a guessing client (brute-force
   * tools keep N requests in flight) comes straight back, and each round
   * trip costs the event loop a connection, a parse and an answer; bcrypt is
   * not the cost any more (bench/auth-flood.mjs measured ~1000 refusals/s
   * taking 30-60 % of the loop). Held for a second on a timer, the same client
   * costs next to nothing. Bounded per address, so an open-loop flood cannot
   * pile up connections through it (beyond the bound it is answered at once).
   */
  private hold(address: string, r: AuthResult): Promise<AuthResult> | AuthResult {
    const ms = this.opts.refusalDelayMs ?? 1000;
    const n = this.held.get(address) ?? 0;
    if (ms <= 0 || n >= (this.opts.maxHeldPerAddress ?? 4)) return r;
    this.held.set(address, n + 1);
    return new Promise((resolve) =>
      setTimeout(() => {
        const left = (this.held.get(address) ?? 1) - 1;
        if (left > 0) this.held.set(address, left);
        else this.held.delete(address);
        resolve(r);
      }, ms).unref(),
    );
  }

  private failure(reason: AuthFailureReason, status: 401 | 403 | 429 | 503, message: string, scope: Scope, headers: Record<string, string> = {}): AuthResult {
    this.opts.onFailure?.(reason);
    if (status === 401) {
      const bearerRealm = `Bearer realm="${this.realm}"${reason === 'invalid' ? ', error="invalid_token"' : ''}`;
      // Control clients use bearer tokens; read clients (Prometheus) basic auth when users are configured.
      headers['WWW-Authenticate'] = scope === 'read' && this.basic.size > 0 ? `Basic realm="${this.realm}", charset="UTF-8"` : bearerRealm;
    }
    return { ok: false, status, reason, message, headers };
  }

  private bearerIdentity(token: string): Identity | undefined {
    if (!/^[\x21-\x7e]+$/.test(token)) return undefined;
    const d = sha256(token);
    let hit: Identity | undefined;
    // Compare against every token (constant work whichever matches).
    for (const b of this.bearer) if (timingSafeEqual(d, b.digest)) hit = b.identity;
    return hit;
  }

  private async basicIdentity(b64: string): Promise<Identity | undefined | 'busy'> {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
    const decoded = Buffer.from(b64, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = this.basic.get(user);
    const key = sha256(user, password, hash ?? '').toString('base64');
    const cached = hash !== undefined ? this.cache.get(key) : undefined;
    if (cached) return cached;
    const ok = await this.verifier.verify(password, hash ?? DUMMY_HASH);
    if (ok === 'busy') return 'busy';
    if (!ok || hash === undefined) return undefined;
    const id = this.basicIds.get(user)!;
    if (this.cache.size >= (this.opts.cacheSize ?? 1024)) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, id);
    return id;
  }
}
