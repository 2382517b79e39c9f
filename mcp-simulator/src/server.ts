// WaveServer MCP north-bound API stand-in.
//
//   POST /oauth/token                      client credentials -> bearer token
//   POST /api/v1/provisioning/jobs         Idempotency-Key required -> 202 job
//   GET  /api/v1/provisioning/jobs/{id}    job state
//   GET  /api/v1/provisioning/jobs         list (?site=, ?idempotencyKey=)
//   GET|PUT /sim/faults, POST /sim/faults/next, POST /sim/reset, GET /sim/stats
//                                          test control (loopback only)
//   GET  /-/healthy
//
// Jobs go queued -> running -> succeeded | failed after seeded random delays.
// A cmd_add job is applied at the end of "running" by calling the exporter's
// control endpoint (POST /api/v1/sites/{site}/commands {"cmd_add": N}); the
// job fails when that call fails. Each job is applied at most once. Without
// an exporter URL the simulator runs standalone and only records the job.
//
// Idempotency (as in draft-ietf-httpapi-idempotency-key-header): the key is
// scoped to the OAuth client; same key + same body -> the same job (202,
// header Idempotent-Replayed: true); same key + different body -> 422; a
// request still being processed under the same key -> 409.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { FaultInjector, type FaultConfig, type FaultKind } from './faults.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';
export const OPERATIONS = ['cmd_add'] as const;

export interface Job {
  id: string;
  idempotencyKey: string;
  clientId: string;
  site: string;
  operation: 'cmd_add';
  count: number;
  reference?: string;
  state: JobState;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  result?: unknown;
  /** Previous externally visible state (for the poll_stale fault). */
  previous?: Omit<Job, 'previous'>;
}

export interface McpSimulatorOptions {
  host?: string; // 127.0.0.1
  port?: number; // 9889; 0 = any
  clientId?: string; // optifiber-remediation
  clientSecret?: string; // required for a real deployment; tests pass one
  tokenTtlMs?: number; // 3600000
  /** Exporter base URL; undefined = standalone (jobs succeed without applying). */
  exporterUrl?: string;
  exporterToken?: string;
  /** Timeout of the call to the exporter. Default 10000 ms. */
  exporterTimeoutMs?: number;
  /** [min, max] ms a job stays queued / running. Defaults [50, 150] / [100, 300]. */
  queuedMs?: [number, number];
  runningMs?: [number, number];
  /** Added latency of every API answer, [min, max] ms. Default [1, 5]. */
  responseDelayMs?: [number, number];
  /** How long a create_timeout* fault holds the request before dropping it. Default 30000. */
  hangMs?: number;
  faults?: Partial<FaultConfig>;
  /** Largest JSON body. Default 4096. */
  maxBodyBytes?: number;
  /** Slowloris bounds: request headers within headerTimeoutMs (10 s), at most maxConnections (256) open. */
  headerTimeoutMs?: number;
  maxConnections?: number;
  log?: (fields: Record<string, unknown>, msg: string) => void;
  /** Serve https with this PEM certificate chain and key (a real MCP is https; clients verify with their CA). */
  tls?: { cert: string; key: string };
}

export interface McpSimulator {
  url: string;
  server: Server;
  jobs: Map<string, Job>;
  faults: FaultInjector;
  stats(): SimStats;
  reset(): void;
  stop(): Promise<void>;
}

export interface SimStats {
  tokensIssued: number;
  createRequests: number;
  jobsCreated: number;
  idempotentReplays: number;
  conflicts: number;
  pollRequests: number;
  applied: Record<string, number>;
  applyErrors: number;
  faultsInjected: Record<string, number>;
  jobsByState: Record<JobState, number>;
}

const KEY_RE = /^[\x21-\x7e]{1,255}$/;
const SITE_RE = /^[A-Za-z0-9_.-]{1,31}$/;

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const now = () => new Date().toISOString();

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        reject(new HttpError(413, 'payload_too_large', `body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sha = (s: string) => createHash('sha256').update(s).digest();
const safeEq = (a: string, b: string) => timingSafeEqual(sha(a), sha(b));

/** Canonical form of a create body, for the same-key comparison. */
function canonical(b: { site: string; operation: string; count: number; reference?: string }): string {
  return JSON.stringify([b.site, b.operation, b.count, b.reference ?? null]);
}

export function parseJobRequest(body: unknown): { site: string; operation: 'cmd_add'; count: number; reference?: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'invalid_request', 'body must be a JSON object {"site", "operation", "count"}');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['site', 'operation', 'count', 'reference'].includes(k)) throw new HttpError(400, 'invalid_request', `unknown key "${k.slice(0, 32)}" (allowed: site, operation, count, reference)`);
  if (typeof o.site !== 'string' || !SITE_RE.test(o.site)) throw new HttpError(400, 'invalid_request', 'site: expected 1..31 chars of [A-Za-z0-9_.-]');
  if (o.operation !== 'cmd_add') throw new HttpError(400, 'invalid_request', `operation: expected one of ${OPERATIONS.join(', ')}`);
  const count = o.count ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 64) throw new HttpError(400, 'invalid_request', 'count: expected an integer 1..64');
  if (o.reference !== undefined && (typeof o.reference !== 'string' || o.reference.length > 512)) throw new HttpError(400, 'invalid_request', 'reference: expected a string of at most 512 chars');
  return { site: o.site, operation: 'cmd_add', count, ...(o.reference !== undefined ? { reference: o.reference as string } : {}) };
}

function publicJob(j: Job): Omit<Job, 'previous' | 'clientId'> {
  const { previous: _p, clientId: _c, ...rest } = j;
  return rest;
}

export async function startMcpSimulator(opts: McpSimulatorOptions = {}): Promise<McpSimulator> {
  const clientId = opts.clientId ?? 'optifiber-remediation';
  const clientSecret = opts.clientSecret ?? randomBytes(18).toString('base64url');
  const tokenTtlMs = opts.tokenTtlMs ?? 3_600_000;
  const queuedMs = opts.queuedMs ?? [50, 150];
  const runningMs = opts.runningMs ?? [100, 300];
  const responseDelayMs = opts.responseDelayMs ?? [1, 5];
  const hangMs = opts.hangMs ?? 30_000;
  const maxBody = opts.maxBodyBytes ?? 4096;
  const log = opts.log ?? (() => {});
  const faults = new FaultInjector(opts.faults);
  const jobs = new Map<string, Job>();
  const byKey = new Map<string, { hash: string; jobId?: string; inFlight: boolean }>();
  const tokens = new Map<string, { clientId: string; expires: number }>();
  const timers = new Set<NodeJS.Timeout>();
  const hanging = new Set<ServerResponse>();
  let stats = freshStats();
  let stopped = false;

  function freshStats(): Omit<SimStats, 'faultsInjected' | 'jobsByState'> {
    return { tokensIssued: 0, createRequests: 0, jobsCreated: 0, idempotentReplays: 0, conflicts: 0, pollRequests: 0, applied: {}, applyErrors: 0 };
  }

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) fn();
    }, ms);
    timers.add(t);
  };

  function transition(j: Job, state: JobState, extra: Partial<Job> = {}): void {
    const { previous: _p, ...snap } = j;
    j.previous = snap;
    j.state = state;
    j.updatedAt = now();
    Object.assign(j, extra);
    log({ job: j.id, site: j.site, state, error: j.error }, 'job state');
  }

  async function apply(j: Job): Promise<void> {
    if (faults.hit('job_fail')) {
      transition(j, 'failed', { finishedAt: now(), error: 'equipment: CMD slot not available (injected job_fail)' });
      return;
    }
    if (!opts.exporterUrl) {
      stats.applied[j.site] = (stats.applied[j.site] ?? 0) + j.count;
      transition(j, 'succeeded', { finishedAt: now(), result: { applied: false, note: 'standalone simulator: no exporter configured' } });
      return;
    }
    const url = `${opts.exporterUrl.replace(/\/$/, '')}/api/v1/sites/${encodeURIComponent(j.site)}/commands`;
    let lastErr = '';
    // The exporter's rate limit (429) and "no tick yet" (503) are transient: a
    // real controller would retry its south-bound call too. Anything else ends the job.
    for (let attempt = 0; attempt < 4 && !stopped; attempt++) {
      try {
        const r = await fetch(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            // The job's own key: a retry of this job (or the same job re-created after a restart) is never applied twice by the exporter.
            'Idempotency-Key': `mcp-${j.clientId}-${j.idempotencyKey}`.replace(/[^\x21-\x7e]/g, '_').slice(0, 128),
            ...(opts.exporterToken ? { Authorization: `Bearer ${opts.exporterToken}` } : {}),
          },
          body: JSON.stringify({ cmd_add: j.count }),
          signal: AbortSignal.timeout(opts.exporterTimeoutMs ?? 10_000),
        });
        const text = await r.text();
        if (r.ok) {
          stats.applied[j.site] = (stats.applied[j.site] ?? 0) + j.count;
          let result: unknown = text;
          try {
            result = JSON.parse(text);
          } catch {
            // keep text
          }
          transition(j, 'succeeded', { finishedAt: now(), result });
          return;
        }
        lastErr = `exporter answered ${r.status}: ${text.slice(0, 300)}`;
        if (r.status !== 429 && r.status !== 503) break;
        const ra = Number(r.headers.get('Retry-After') ?? '1');
        await sleep(Math.min(5, Number.isFinite(ra) ? ra : 1) * 1000);
      } catch (e) {
        lastErr = `exporter call failed: ${(e as Error).message}`;
        break; // the command may or may not have been written: never re-send it
      }
    }
    stats.applyErrors++;
    transition(j, 'failed', { finishedAt: now(), error: lastErr });
  }

  function schedule(j: Job): void {
    later(faults.between(queuedMs[0], queuedMs[1]), () => {
      transition(j, 'running', { startedAt: now() });
      later(faults.between(runningMs[0], runningMs[1]), () => {
        apply(j).catch((e: unknown) => transition(j, 'failed', { finishedAt: now(), error: String(e) }));
      });
    });
  }

  function authClient(req: IncomingMessage): string {
    const h = req.headers.authorization;
    const m = h ? /^Bearer +([\x21-\x7e]+) *$/i.exec(h) : null;
    if (!m) throw new HttpError(401, 'unauthorized', 'missing bearer token: POST /oauth/token first', { 'WWW-Authenticate': 'Bearer realm="mcp"' });
    const t = tokens.get(m[1]!);
    if (!t) throw new HttpError(401, 'invalid_token', 'unknown bearer token', { 'WWW-Authenticate': 'Bearer realm="mcp", error="invalid_token"' });
    if (t.expires < Date.now()) {
      tokens.delete(m[1]!);
      throw new HttpError(401, 'invalid_token', 'bearer token expired', { 'WWW-Authenticate': 'Bearer realm="mcp", error="invalid_token"' });
    }
    return t.clientId;
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, maxBody);
    if (faults.hit('token_5xx')) throw new HttpError(503, 'unavailable', 'token service unavailable (injected)', { 'Retry-After': '1' });
    let params: URLSearchParams;
    const ct = req.headers['content-type'] ?? '';
    if (ct.startsWith('application/json')) {
      let o: unknown;
      try {
        o = JSON.parse(raw || '{}');
      } catch {
        throw new HttpError(400, 'invalid_request', 'body is not valid JSON');
      }
      if (o === null || typeof o !== 'object' || Array.isArray(o) || Object.values(o).some((v) => typeof v !== 'string'))
        throw new HttpError(400, 'invalid_request', 'body must be a JSON object of strings (grant_type, client_id, client_secret)');
      params = new URLSearchParams(o as Record<string, string>);
    } else params = new URLSearchParams(raw);
    let id = params.get('client_id');
    let secret = params.get('client_secret');
    const basic = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      // RFC 6749 2.3.1: id and secret are form-urlencoded inside basic auth; a bad encoding is a bad client.
      const dec = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const i = dec.indexOf(':');
      try {
        id = i < 0 ? null : decodeURIComponent(dec.slice(0, i));
        secret = i < 0 ? null : decodeURIComponent(dec.slice(i + 1));
      } catch {
        id = secret = null;
      }
    }
    if (params.get('grant_type') !== 'client_credentials') {
      send(res, 400, { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' });
      return;
    }
    if (!id || !secret || !safeEq(id, clientId) || !safeEq(secret, clientSecret)) {
      send(res, 401, { error: 'invalid_client', error_description: 'unknown client or wrong secret' }, { 'WWW-Authenticate': 'Basic realm="mcp"' });
      return;
    }
    const t = randomBytes(24).toString('base64url');
    tokens.set(t, { clientId: id, expires: Date.now() + tokenTtlMs });
    stats.tokensIssued++;
    send(res, 200, { access_token: t, token_type: 'Bearer', expires_in: Math.floor(tokenTtlMs / 1000), scope: 'provisioning' });
  }

  /** The create logic proper; returns [status, body, headers]. */
  function createOnce(client: string, key: string, body: ReturnType<typeof parseJobRequest>): [number, unknown, Record<string, string>] {
    const scoped = `${client}\u0000${key}`;
    const hash = canonical(body);
    const seen = byKey.get(scoped);
    if (seen) {
      if (seen.hash !== hash) {
        stats.conflicts++;
        return [422, { error: 'idempotency_key_reused', message: 'this Idempotency-Key was used with a different request body' }, {}];
      }
      if (seen.inFlight || !seen.jobId) {
        stats.conflicts++;
        return [409, { error: 'request_in_progress', message: 'a request with this Idempotency-Key is still being processed; retry later' }, { 'Retry-After': '1' }];
      }
      stats.idempotentReplays++;
      const j = jobs.get(seen.jobId)!;
      return [202, publicJob(j), { Location: `/api/v1/provisioning/jobs/${j.id}`, 'Idempotent-Replayed': 'true' }];
    }
    const t = now();
    const j: Job = { id: randomUUID(), idempotencyKey: key, clientId: client, ...body, state: 'queued', createdAt: t, updatedAt: t };
    jobs.set(j.id, j);
    byKey.set(scoped, { hash, jobId: j.id, inFlight: false });
    stats.jobsCreated++;
    log({ job: j.id, site: j.site, key }, 'job created');
    schedule(j);
    return [202, publicJob(j), { Location: `/api/v1/provisioning/jobs/${j.id}` }];
  }

  async function create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const client = authClient(req);
    stats.createRequests++;
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !KEY_RE.test(key)) throw new HttpError(400, 'idempotency_key_required', 'header Idempotency-Key is required: 1..255 printable ASCII characters');
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json');
    const raw = await readBody(req, maxBody);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'invalid_json', 'body is not valid JSON');
    }
    const body = parseJobRequest(parsed);
    if (faults.hit('create_5xx')) throw new HttpError(503, 'unavailable', 'provisioning service unavailable (injected)', { 'Retry-After': '1' });
    if (faults.hit('create_timeout')) return hang(res);
    let answer = createOnce(client, key, body);
    if (faults.hit('create_duplicate')) answer = createOnce(client, key, body);
    if (answer[0] === 202 && faults.hit('create_5xx_after_commit')) throw new HttpError(500, 'internal', 'internal error after the job was recorded (injected)');
    if (answer[0] === 202 && faults.hit('create_timeout_after_commit')) return hang(res);
    send(res, answer[0], answer[1], answer[2]);
  }

  function hang(res: ServerResponse): void {
    hanging.add(res);
    later(hangMs, () => {
      hanging.delete(res);
      res.destroy();
    });
  }

  function getJob(req: IncomingMessage, res: ServerResponse, id: string): void {
    const client = authClient(req);
    stats.pollRequests++;
    const j = jobs.get(id);
    if (!j || j.clientId !== client) throw new HttpError(404, 'not_found', `no job ${id}`);
    if (faults.hit('poll_5xx')) throw new HttpError(503, 'unavailable', 'job store unavailable (injected)', { 'Retry-After': '1' });
    if (j.previous && faults.hit('poll_stale')) {
      send(res, 200, publicJob(j.previous as Job));
      return;
    }
    send(res, 200, publicJob(j));
  }

  function listJobs(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): void {
    const client = authClient(req);
    if (faults.hit('lookup_5xx')) throw new HttpError(503, 'unavailable', 'job store unavailable (injected)', { 'Retry-After': '1' });
    const site = q.get('site');
    const key = q.get('idempotencyKey');
    const out = [...jobs.values()].filter((j) => j.clientId === client && (!site || j.site === site) && (!key || j.idempotencyKey === key));
    send(res, 200, { jobs: out.map(publicJob) });
  }

  function currentStats(): SimStats {
    const byState: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, failed: 0 };
    for (const j of jobs.values()) byState[j.state]++;
    return { ...stats, applied: { ...stats.applied }, faultsInjected: { ...faults.injected }, jobsByState: byState };
  }

  function reset(): void {
    jobs.clear();
    byKey.clear();
    stats = freshStats();
    for (const k of Object.keys(faults.injected)) delete faults.injected[k];
  }

  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const remote = req.socket.remoteAddress ?? '';
    if (!/^(127\.|::1$|::ffff:127\.)/.test(remote)) throw new HttpError(403, 'forbidden', 'the /sim control API answers loopback clients only');
    if (path === '/sim/faults' && req.method === 'GET') return send(res, 200, faults.config);
    if (path === '/sim/faults' && req.method === 'PUT') {
      try {
        faults.set(JSON.parse(await readBody(req, maxBody)));
      } catch (e) {
        throw new HttpError(400, 'invalid_faults', (e as Error).message);
      }
      return send(res, 200, faults.config);
    }
    if (path === '/sim/faults/next' && req.method === 'POST') {
      try {
        const f = new FaultInjector();
        f.set({ next: JSON.parse(await readBody(req, maxBody)) });
        faults.addNext(f.config.next as Partial<Record<FaultKind, number>>);
      } catch (e) {
        throw new HttpError(400, 'invalid_faults', (e as Error).message);
      }
      return send(res, 200, faults.config);
    }
    if (path === '/sim/reset' && req.method === 'POST') {
      reset();
      return send(res, 200, { reset: true });
    }
    if (path === '/sim/stats' && req.method === 'GET') return send(res, 200, currentStats());
    throw new HttpError(404, 'not_found', `no route ${req.method} ${path}`);
  }

  // One line per kind of malformed or failing request per 10 s at most: a flood must not flood the log.
  const lastLog = new Map<string, { at: number; suppressed: number }>();
  const logLimited = (kind: string, fields: Record<string, unknown>, msg: string) => {
    const l = lastLog.get(kind);
    if (l && Date.now() - l.at < 10_000) return void l.suppressed++;
    lastLog.set(kind, { at: Date.now(), suppressed: 0 });
    log({ ...fields, ...(l?.suppressed ? { suppressed: l.suppressed } : {}) }, msg);
  };
  const headerTimeoutMs = opts.headerTimeoutMs ?? 10_000;
  const limits = { headersTimeout: headerTimeoutMs, requestTimeout: Math.max(headerTimeoutMs, 30_000), connectionsCheckingInterval: Math.min(1000, headerTimeoutMs) };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let u: URL;
    try {
      u = new URL(req.url ?? '/', 'http://x');
      decodeURIComponent(u.pathname);
    } catch {
      logLimited('bad_path', { remote: req.socket.remoteAddress }, 'request refused: invalid request target');
      return send(res, 400, { error: 'invalid_request', message: 'invalid percent-encoding in the request path' });
    }
    const path = u.pathname;
    const route = async () => {
      if (path.startsWith('/sim/')) return control(req, res, path);
      if (path === '/-/healthy') return send(res, 200, { status: 'ok' });
      await sleep(faults.between(responseDelayMs[0], responseDelayMs[1]));
      if (path === '/oauth/token') {
        if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'use POST', { Allow: 'POST' });
        return token(req, res);
      }
      if (path === '/api/v1/provisioning/jobs') {
        if (req.method === 'POST') return create(req, res);
        if (req.method === 'GET') return listJobs(req, res, u.searchParams);
        throw new HttpError(405, 'method_not_allowed', 'use GET or POST', { Allow: 'GET, POST' });
      }
      const m = /^\/api\/v1\/provisioning\/jobs\/([A-Za-z0-9-]{1,64})$/.exec(path);
      if (m) {
        if (req.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'use GET', { Allow: 'GET' });
        return getJob(req, res, m[1]!);
      }
      throw new HttpError(404, 'not_found', `no route ${req.method} ${path}`);
    };
    route().catch((e: unknown) => {
      if (e instanceof HttpError) send(res, e.status, { error: e.code, message: e.message }, e.headers);
      else {
        logLimited('internal', { err: String(e) }, 'internal error');
        send(res, 500, { error: 'internal', message: 'internal error' });
      }
    });
  };
  const server: Server = opts.tls ? createHttpsServer({ ...limits, cert: opts.tls.cert, key: opts.tls.key }, handler) : createServer(limits, handler);
  server.keepAliveTimeout = 5000;
  server.maxConnections = opts.maxConnections ?? 256;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 9889, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${addr.port}`,
    server,
    jobs,
    faults,
    stats: currentStats,
    reset,
    stop: async () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
