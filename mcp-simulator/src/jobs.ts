// Job state: the job table, idempotency keys, counters and the queued -> running -> done lifecycle.
import { randomUUID } from 'node:crypto';
import type { FaultInjector } from './faults.js';
import { HttpError, now } from './http.js';
import type { Timers } from './timers.js';
import { OPERATIONS, type Counters, type Job, type JobState, type LogFn, type SimStats } from './types.js';

const SITE_RE = /^[A-Za-z0-9_.-]{1,31}$/;

export type JobRequest = { site: string; operation: 'cmd_add'; count: number; reference?: string };
/** A route's answer: [status, body, headers]. */
export type Answer = [number, unknown, Record<string, string>];

export function parseJobRequest(body: unknown): JobRequest {
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

/** Canonical form of a create body, for the same-key comparison. */
function canonical(b: JobRequest): string {
  return JSON.stringify([b.site, b.operation, b.count, b.reference ?? null]);
}

export function publicJob(j: Job): Omit<Job, 'previous' | 'clientId'> {
  const { previous: _p, clientId: _c, ...rest } = j;
  return rest;
}

const freshCounters = (): Counters => ({ tokensIssued: 0, createRequests: 0, jobsCreated: 0, idempotentReplays: 0, conflicts: 0, pollRequests: 0, applied: {}, applyErrors: 0 });

export interface JobBookOptions {
  faults: FaultInjector;
  timers: Timers;
  log: LogFn;
  queuedMs: [number, number];
  runningMs: [number, number];
  /** Ends a running job (succeeded or failed) by applying it. */
  apply: (j: Job) => Promise<void>;
}

export class JobBook {
  readonly jobs = new Map<string, Job>();
  private readonly byKey = new Map<string, { hash: string; jobId?: string; inFlight: boolean }>();
  counters = freshCounters();

  constructor(private readonly o: JobBookOptions) {}

  transition(j: Job, state: JobState, extra: Partial<Job> = {}): void {
    const { previous: _p, ...snap } = j;
    j.previous = snap;
    j.state = state;
    j.updatedAt = now();
    Object.assign(j, extra);
    this.o.log({ job: j.id, site: j.site, state, error: j.error }, 'job state');
  }

  private schedule(j: Job): void {
    const { faults, timers, queuedMs, runningMs } = this.o;
    timers.later(faults.between(queuedMs[0], queuedMs[1]), () => {
      this.transition(j, 'running', { startedAt: now() });
      timers.later(faults.between(runningMs[0], runningMs[1]), () => {
        this.o.apply(j).catch((e: unknown) => this.transition(j, 'failed', { finishedAt: now(), error: String(e) }));
      });
    });
  }

  /** The create logic proper, keyed by the client-scoped Idempotency-Key. */
  createOnce(client: string, key: string, body: JobRequest): Answer {
    const scoped = `${client}\u0000${key}`;
    const hash = canonical(body);
    const seen = this.byKey.get(scoped);
    if (seen) return this.replay(seen, hash);
    const t = now();
    const j: Job = { id: randomUUID(), idempotencyKey: key, clientId: client, ...body, state: 'queued', createdAt: t, updatedAt: t };
    this.jobs.set(j.id, j);
    this.byKey.set(scoped, { hash, jobId: j.id, inFlight: false });
    this.counters.jobsCreated++;
    this.o.log({ job: j.id, site: j.site, key }, 'job created');
    this.schedule(j);
    return [202, publicJob(j), { Location: `/api/v1/provisioning/jobs/${j.id}` }];
  }

  /** A create whose key was seen before: the same job, or a 422/409 conflict. */
  private replay(seen: { hash: string; jobId?: string; inFlight: boolean }, hash: string): Answer {
    if (seen.hash !== hash) {
      this.counters.conflicts++;
      return [422, { error: 'idempotency_key_reused', message: 'this Idempotency-Key was used with a different request body' }, {}];
    }
    if (seen.inFlight || !seen.jobId) {
      this.counters.conflicts++;
      return [409, { error: 'request_in_progress', message: 'a request with this Idempotency-Key is still being processed; retry later' }, { 'Retry-After': '1' }];
    }
    this.counters.idempotentReplays++;
    const j = this.jobs.get(seen.jobId)!;
    return [202, publicJob(j), { Location: `/api/v1/provisioning/jobs/${j.id}`, 'Idempotent-Replayed': 'true' }];
  }

  stats(): SimStats {
    const byState: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, failed: 0 };
    for (const j of this.jobs.values()) byState[j.state]++;
    return { ...this.counters, applied: { ...this.counters.applied }, faultsInjected: { ...this.o.faults.injected }, jobsByState: byState };
  }

  reset(): void {
    this.jobs.clear();
    this.byKey.clear();
    this.counters = freshCounters();
    for (const k of Object.keys(this.o.faults.injected)) delete this.o.faults.injected[k];
  }
}
