// The provisioning API: create (idempotent), poll and list jobs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { HttpError, readBody, send } from './http.js';
import { parseJobRequest, publicJob } from './jobs.js';
import type { Job } from './types.js';

const KEY_RE = /^[\x21-\x7e]{1,255}$/;

/** POST /api/v1/provisioning/jobs */
export async function createJob(ctx: SimContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { faults, book } = ctx;
  const client = ctx.auth.authClient(req);
  book.counters.createRequests++;
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || !KEY_RE.test(key)) throw new HttpError(400, 'idempotency_key_required', 'header Idempotency-Key is required: 1..255 printable ASCII characters');
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json');
  const raw = await readBody(req, ctx.maxBody);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'invalid_json', 'body is not valid JSON');
  }
  const body = parseJobRequest(parsed);
  if (faults.hit('create_5xx')) throw new HttpError(503, 'unavailable', 'provisioning service unavailable (injected)', { 'Retry-After': '1' });
  if (faults.hit('create_timeout')) return hang(ctx, res);
  let answer = book.createOnce(client, key, body);
  if (faults.hit('create_duplicate')) answer = book.createOnce(client, key, body);
  if (answer[0] === 202 && faults.hit('create_5xx_after_commit')) throw new HttpError(500, 'internal', 'internal error after the job was recorded (injected)');
  if (answer[0] === 202 && faults.hit('create_timeout_after_commit')) return hang(ctx, res);
  send(res, answer[0], answer[1], answer[2]);
}

/** Hold the request without answering, then drop the connection (the create_timeout* faults). */
function hang(ctx: SimContext, res: ServerResponse): void {
  ctx.hanging.add(res);
  ctx.timers.later(ctx.hangMs, () => {
    ctx.hanging.delete(res);
    res.destroy();
  });
}

/** GET /api/v1/provisioning/jobs/{id} */
export function getJob(ctx: SimContext, req: IncomingMessage, res: ServerResponse, id: string): void {
  const client = ctx.auth.authClient(req);
  ctx.book.counters.pollRequests++;
  const j = ctx.book.jobs.get(id);
  if (!j || j.clientId !== client) throw new HttpError(404, 'not_found', `no job ${id}`);
  if (ctx.faults.hit('poll_5xx')) throw new HttpError(503, 'unavailable', 'job store unavailable (injected)', { 'Retry-After': '1' });
  if (j.previous && ctx.faults.hit('poll_stale')) {
    send(res, 200, publicJob(j.previous as Job));
    return;
  }
  send(res, 200, publicJob(j));
}

/** GET /api/v1/provisioning/jobs?site=&idempotencyKey= */
export function listJobs(ctx: SimContext, req: IncomingMessage, res: ServerResponse, q: URLSearchParams): void {
  const client = ctx.auth.authClient(req);
  if (ctx.faults.hit('lookup_5xx')) throw new HttpError(503, 'unavailable', 'job store unavailable (injected)', { 'Retry-After': '1' });
  const site = q.get('site');
  const key = q.get('idempotencyKey');
  const out = [...ctx.book.jobs.values()].filter((j) => j.clientId === client && (!site || j.site === site) && (!key || j.idempotencyKey === key));
  send(res, 200, { jobs: out.map(publicJob) });
}
