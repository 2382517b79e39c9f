// One JSON shape for every refusal of the HTTP layer, and the error handler
// that gives it to thrown HttpErrors, parser errors and everything else.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '@optifiber/exporter/log/logger';

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

const CODES: Record<number, string> = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed', 409: 'conflict', 413: 'payload_too_large', 415: 'unsupported_media_type', 503: 'unavailable' };

export function errorBody(status: number, message: string) {
  return { status: 'error', errorType: CODES[status] ?? 'internal', error: message };
}

/** Rate-limited warning for refusals a client can trigger at will (log-limit.ts). */
export type LogRefused = (kind: string, fields: Record<string, unknown>, msg: string) => void;

export interface ErrorHandlerOptions {
  log: Logger;
  logRefused: LogRefused;
  maxRequestBytes: number;
  roleHeader: string;
  /** A body over the limit on this path counts as a refused webhook. */
  onTooLarge: (req: Request) => void;
}

/** The last middleware: HttpError as thrown, parser errors as 4xx, anything else a logged 500 without a stack trace. */
export function errorHandler(o: ErrorHandlerOptions) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      if (err.status === 401 || err.status === 403) o.logRefused(`refused_${err.status}`, { remote: req.socket.remoteAddress, path: req.path.slice(0, 200), method: req.method, status: err.status, role: req.get(o.roleHeader)?.slice(0, 40), reason: err.message }, 'API request refused');
      res.status(err.status).set(err.headers).json(errorBody(err.status, err.message));
      return;
    }
    const e = err as { type?: string; status?: number; statusCode?: number };
    if (e?.type === 'entity.too.large') {
      o.onTooLarge(req);
      res.status(413).json(errorBody(413, `body larger than ${o.maxRequestBytes} bytes`));
      return;
    }
    if (e?.type === 'entity.parse.failed') {
      res.status(400).json(errorBody(400, 'body is not valid JSON'));
      return;
    }
    // Other client errors raised by express or its parsers (a parameter
    // that does not decode, an unsupported charset, an aborted body): a 4xx
    // with one rate-limited log line, never a 500 with a stack trace.
    const status = e?.status ?? e?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      o.logRefused(`client_${status}`, { remote: req.socket.remoteAddress, method: req.method, status, type: e.type }, 'request refused: malformed');
      if (!res.headersSent) res.status(status).json(errorBody(status, `malformed request${e.type ? ` (${e.type})` : ''}`));
      return;
    }
    o.log.error({ err, path: req.path }, 'internal error');
    res.status(500).json(errorBody(500, 'internal error'));
  };
}
