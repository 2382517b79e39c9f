// Request routing: path and method to a route, HttpError to its JSON answer, rate-limited logging.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { control } from './control.js';
import { HttpError, send, sleep } from './http.js';
import { createJob, getJob, listJobs } from './provisioning.js';
import type { LogFn } from './types.js';

type LimitedLog = (kind: string, fields: Record<string, unknown>, msg: string) => void;

/** One line per kind of malformed or failing request per 10 s at most: a flood must not flood the log. */
function limitedLog(log: LogFn): LimitedLog {
  const lastLog = new Map<string, { at: number; suppressed: number }>();
  return (kind, fields, msg) => {
    const l = lastLog.get(kind);
    if (l && Date.now() - l.at < 10_000) return void l.suppressed++;
    lastLog.set(kind, { at: Date.now(), suppressed: 0 });
    log({ ...fields, ...(l?.suppressed ? { suppressed: l.suppressed } : {}) }, msg);
  };
}

async function route(ctx: SimContext, req: IncomingMessage, res: ServerResponse, u: URL): Promise<void> {
  const path = u.pathname;
  if (path.startsWith('/sim/')) return control(ctx, req, res, path);
  if (path === '/-/healthy') return send(res, 200, { status: 'ok' });
  await sleep(ctx.faults.between(ctx.responseDelayMs[0], ctx.responseDelayMs[1]));
  if (path === '/oauth/token') {
    if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'use POST', { Allow: 'POST' });
    return ctx.auth.token(req, res);
  }
  if (path === '/api/v1/provisioning/jobs') {
    if (req.method === 'POST') return createJob(ctx, req, res);
    if (req.method === 'GET') return listJobs(ctx, req, res, u.searchParams);
    throw new HttpError(405, 'method_not_allowed', 'use GET or POST', { Allow: 'GET, POST' });
  }
  const m = /^\/api\/v1\/provisioning\/jobs\/([A-Za-z0-9-]{1,64})$/.exec(path);
  if (m) {
    if (req.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'use GET', { Allow: 'GET' });
    return getJob(ctx, req, res, m[1]!);
  }
  throw new HttpError(404, 'not_found', `no route ${req.method} ${path}`);
}

/** The server's request listener. */
export function makeHandler(ctx: SimContext): (req: IncomingMessage, res: ServerResponse) => void {
  const logLimited = limitedLog(ctx.log);
  return (req, res) => {
    let u: URL;
    try {
      u = new URL(req.url ?? '/', 'http://x');
      decodeURIComponent(u.pathname);
    } catch {
      logLimited('bad_path', { remote: req.socket.remoteAddress }, 'request refused: invalid request target');
      return send(res, 400, { error: 'invalid_request', message: 'invalid percent-encoding in the request path' });
    }
    route(ctx, req, res, u).catch((e: unknown) => {
      if (e instanceof HttpError) send(res, e.status, { error: e.code, message: e.message }, e.headers);
      else {
        logLimited('internal', { err: String(e) }, 'internal error');
        send(res, 500, { error: 'internal', message: 'internal error' });
      }
    });
  };
}
