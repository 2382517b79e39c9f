// Client of the WaveServer MCP north-bound API.
//
// - OAuth2 client credentials: the token is cached until 30 s before it
//   expires and fetched again after a 401.
// - createJob() sends POST /api/v1/provisioning/jobs with the action's
//   Idempotency-Key and retries timeouts, connection errors, 5xx, 409 and 429
//   with exponential backoff and full jitter, ALWAYS under the same key and the
//   same body, so a retry after a lost response finds the job the first
//   attempt created instead of provisioning twice. 4xx other than 401/408/409/
//   429 are permanent (e.g. 422: key reused with another body = a bug).
// - waitJob() polls GET /api/v1/provisioning/jobs/{id} until succeeded/failed,
//   tolerating transient errors the same way.
// - HTTP through one keep-alive agent (http-client.ts), not fetch(): fewer
//   connections and far less CPU per call on the webhook -> MCP path.
import { KeepAliveClient } from './http-client.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';
export interface McpJob {
  id: string;
  state: JobState;
  site: string;
  count: number;
  error?: string;
  idempotencyKey?: string;
}

export class McpPermanentError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'McpPermanentError';
  }
}

/**
 * `ambiguous`: at least one create request may have reached the MCP (a
 * timeout, a reset, a 5xx or 409 after it was sent), so a job may exist under
 * the key although no answer said so: the outcome is unknown, never "failed".
 */
export class McpDeadlineError extends Error {
  constructor(message: string, readonly lastError: string, readonly ambiguous = false, readonly attempts = 0) {
    super(message);
    this.name = 'McpDeadlineError';
  }
}

/** createJob() stopped before its next attempt (kill switch, resolved alert); `ambiguous` as above. */
export class McpStoppedError extends Error {
  constructor(message: string, readonly ambiguous: boolean, readonly attempts = 0) {
    super(message);
    this.name = 'McpStoppedError';
  }
}

/** Answers that prove the MCP did not take the request (the job cannot exist because of it). */
const NOT_TAKEN = new Set([425, 429, 503]);
const notReached = (e: unknown) => ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes((e as NodeJS.ErrnoException).code ?? '');

export interface McpClientOptions {
  url: string;
  clientId: string;
  clientSecret: string;
  requestTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  pollIntervalMs?: number;
  /** Random source for the jitter (tests pass a seeded one). */
  random?: () => number;
  /** Observes each HTTP exchange (metrics): operation, outcome, seconds. */
  observe?: (operation: 'token' | 'create' | 'poll' | 'lookup', outcome: string, seconds: number) => void;
  /** Called right before each create attempt is sent (latency measurement, crash hooks). */
  onCreateAttempt?: (attempt: number) => void;
  sleep?: (ms: number) => Promise<void>;
  /** PEM CA certificate(s) an https MCP is verified against (mcp.ca_file); default the system CAs. */
  ca?: string;
}

const TRANSIENT = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

export class McpClient {
  private token?: { value: string; expires: number };
  private tokenPromise?: Promise<string>;
  private readonly o: Required<Omit<McpClientOptions, 'observe' | 'onCreateAttempt' | 'ca'>> & Pick<McpClientOptions, 'observe' | 'onCreateAttempt' | 'ca'>;
  private readonly http: KeepAliveClient;
  private readonly basicAuth: string;

  constructor(o: McpClientOptions) {
    this.o = {
      requestTimeoutMs: 2000,
      backoffBaseMs: 100,
      backoffMaxMs: 5000,
      pollIntervalMs: 250,
      random: Math.random,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...o,
      url: o.url.replace(/\/$/, ''),
    };
    this.http = new KeepAliveClient(this.o.url, this.o.ca ? { ca: this.o.ca } : {});
    this.basicAuth = `Basic ${Buffer.from(`${encodeURIComponent(this.o.clientId)}:${encodeURIComponent(this.o.clientSecret)}`).toString('base64')}`;
  }

  /** Closes the idle keep-alive connections (service shutdown). */
  close(): void {
    this.http.close();
  }

  /** Full-jitter exponential backoff: uniform in [0, min(max, base * 2^attempt)]. */
  backoff(attempt: number): number {
    return Math.round(this.o.random() * Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** attempt));
  }

  private async timed<T>(op: 'token' | 'create' | 'poll' | 'lookup', fn: () => Promise<{ outcome: string; value: T }>): Promise<T> {
    const t0 = performance.now();
    try {
      const r = await fn();
      this.o.observe?.(op, r.outcome, (performance.now() - t0) / 1000);
      return r.value;
    } catch (e) {
      this.o.observe?.(op, (e as Error).name === 'TimeoutError' ? 'timeout' : 'error', (performance.now() - t0) / 1000);
      throw e;
    }
  }

  private async getToken(force = false): Promise<string> {
    if (!force && this.token && this.token.expires > Date.now()) return this.token.value;
    this.tokenPromise ??= this.timed('token', async () => {
      const r = await this.http.request('POST', '/oauth/token', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: this.basicAuth },
        body: 'grant_type=client_credentials&scope=provisioning',
        timeoutMs: this.o.requestTimeoutMs,
      });
      const text = r.text;
      if (r.status < 200 || r.status > 299) {
        if (TRANSIENT.has(r.status)) throw new Error(`MCP token endpoint answered ${r.status}`);
        throw new McpPermanentError(r.status, `MCP token endpoint answered ${r.status}: ${text.slice(0, 200)}`);
      }
      const b = JSON.parse(text) as { access_token: string; expires_in?: number };
      this.token = { value: b.access_token, expires: Date.now() + Math.max(1, (b.expires_in ?? 300) - 30) * 1000 };
      return { outcome: String(r.status), value: b.access_token };
    }).finally(() => (this.tokenPromise = undefined));
    return this.tokenPromise;
  }

  private async call(op: 'create' | 'poll' | 'lookup', path: string, init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }): Promise<{ status: number; text: string }> {
    let token = await this.getToken();
    for (let i = 0; ; i++) {
      const res = await this.timed(op, async () => {
        const r = await this.http.request(init.method, path, {
          headers: { ...init.headers, Authorization: `Bearer ${token}` },
          ...(init.body !== undefined ? { body: init.body } : {}),
          timeoutMs: this.o.requestTimeoutMs,
        });
        return { outcome: String(r.status), value: { status: r.status, text: r.text } };
      });
      if (res.status === 401 && i === 0) {
        token = await this.getToken(true);
        continue;
      }
      return res;
    }
  }

  /**
   * Creates the provisioning job (or finds the one this key already created).
   * Retries transient failures until `deadline` (ms epoch), which is checked
   * before the FIRST attempt too: nothing stale is sent after a restart.
   * Before every attempt `o.stop(ambiguous)` may name a reason to stop (kill
   * switch, resolved alert; `ambiguous`: an earlier attempt may have reached
   * the MCP) and `o.signal` wakes a backoff sleep at once. Throws
   * McpPermanentError, McpDeadlineError or McpStoppedError.
   */
  async createJob(
    key: string,
    body: { site: string; operation: 'cmd_add'; count: number; reference: string },
    deadline: number,
    onAttempt?: (attempt: number) => void,
    o: { stop?: (ambiguous: boolean) => string | undefined; signal?: AbortSignal } = {},
  ): Promise<{ job: McpJob; attempts: number; replayed: boolean }> {
    let lastErr = '';
    let ambiguous = false;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        const wait = this.backoff(attempt - 1);
        if (Date.now() + wait > deadline) throw new McpDeadlineError(`MCP job creation did not succeed before the deadline (${attempt} attempts)`, lastErr, ambiguous, attempt);
        await this.sleepUnless(wait, o.signal);
      } else if (Date.now() > deadline) throw new McpDeadlineError(`the submit deadline passed ${Date.now() - deadline} ms ago, before the first attempt: not sent`, '', false);
      const why = o.stop?.(ambiguous);
      if (why) throw new McpStoppedError(`${why}; stopped before attempt ${attempt + 1}`, ambiguous, attempt);
      this.o.onCreateAttempt?.(attempt + 1);
      onAttempt?.(attempt + 1);
      let tokenOk = false;
      try {
        await this.getToken();
        tokenOk = true;
        const r = await this.call('create', '/api/v1/provisioning/jobs', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
          body: JSON.stringify(body),
        });
        if (r.status === 202 || r.status === 200 || r.status === 201) {
          const job = JSON.parse(r.text) as McpJob;
          return { job, attempts: attempt + 1, replayed: job.idempotencyKey === key && attempt > 0 };
        }
        lastErr = `HTTP ${r.status}: ${r.text.slice(0, 200)}`;
        if (!TRANSIENT.has(r.status)) throw new McpPermanentError(r.status, `MCP refused the job: ${lastErr}`);
        if (!NOT_TAKEN.has(r.status)) ambiguous = true;
      } catch (e) {
        if (e instanceof McpPermanentError) throw e;
        lastErr = (e as Error).message;
        if (tokenOk && !notReached(e)) ambiguous = true;
      }
    }
  }

  /** Sleeps ms, or less when the signal fires. */
  private sleepUnless(ms: number, signal?: AbortSignal): Promise<void> {
    if (!signal) return this.o.sleep(ms);
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal!.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }

  /**
   * The job this Idempotency-Key created, or undefined when the MCP knows
   * none (reconciliation of an unknown outcome). Throws on any failure to get
   * a clear answer: "no answer" must never read as "no job".
   */
  async findJobByKey(key: string): Promise<McpJob | undefined> {
    const r = await this.call('lookup', `/api/v1/provisioning/jobs?idempotencyKey=${encodeURIComponent(key)}`, { method: 'GET' });
    if (r.status !== 200) throw new Error(`MCP job lookup answered ${r.status}: ${r.text.slice(0, 200)}`);
    const jobs = (JSON.parse(r.text) as { jobs?: McpJob[] }).jobs;
    if (!Array.isArray(jobs)) throw new Error('MCP job lookup: no "jobs" array in the answer');
    return jobs.find((j) => j.idempotencyKey === key);
  }

  /** Polls a job until it is succeeded or failed, or `deadline` passes. */
  async waitJob(id: string, deadline: number): Promise<McpJob> {
    let lastErr = '';
    let errors = 0;
    for (;;) {
      try {
        const r = await this.call('poll', `/api/v1/provisioning/jobs/${encodeURIComponent(id)}`, { method: 'GET' });
        if (r.status === 200) {
          errors = 0;
          const job = JSON.parse(r.text) as McpJob;
          if (job.state === 'succeeded' || job.state === 'failed') return job;
        } else if (!TRANSIENT.has(r.status)) throw new McpPermanentError(r.status, `MCP job query answered ${r.status}: ${r.text.slice(0, 200)}`);
        else {
          errors++;
          lastErr = `HTTP ${r.status}`;
        }
      } catch (e) {
        if (e instanceof McpPermanentError) throw e;
        errors++;
        lastErr = (e as Error).message;
      }
      const wait = errors > 0 ? Math.max(this.o.pollIntervalMs, this.backoff(errors)) : this.o.pollIntervalMs;
      if (Date.now() + wait > deadline) throw new McpDeadlineError(`MCP job ${id} did not finish before the deadline`, lastErr);
      await this.o.sleep(wait);
    }
  }
}
