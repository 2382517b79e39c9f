// JSON errors for every API and control response: {"error": code, "message": text}.
// Stack traces and internal error text never reach the client; unexpected
// errors are logged with their stack and answered with a generic 500.
import type { ErrorRequestHandler, Response } from 'express';
import type { EventLogger as Logger } from '../log/logger.js';

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'too_many_requests'
  | 'internal'
  | 'bad_gateway'
  | 'unavailable'
  | 'timeout';

const STATUS_CODE: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'too_many_requests',
  500: 'internal',
  502: 'bad_gateway',
  503: 'unavailable',
  504: 'timeout',
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The JSON body of an error answer. */
export function errorBody(status: number, message: string): { error: ErrorCode; message: string } {
  return { error: STATUS_CODE[status] ?? 'internal', message };
}

export function sendError(res: Response, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).json(errorBody(status, message));
}

/** Express error middleware: maps body-parser and ApiError, hides everything else. */
export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof ApiError) {
      sendError(res, err.status, err.message, err.headers);
      return;
    }
    const e = err as { type?: string; status?: number; limit?: number; expose?: boolean; message?: string };
    switch (e?.type) {
      case 'entity.too.large':
        sendError(res, 413, `request body larger than ${e.limit ?? '?'} bytes`);
        return;
      case 'entity.parse.failed':
        sendError(res, 400, 'request body is not valid JSON');
        return;
      case 'encoding.unsupported':
      case 'charset.unsupported':
        sendError(res, 415, 'unsupported body encoding or charset (use UTF-8 JSON, no content encoding)');
        return;
      case 'request.aborted':
        res.destroy();
        return;
      default:
        break;
    }
    // URIError: a path parameter that is not valid percent-encoding (the router sets status 400 but not expose).
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && (e.expose || err instanceof URIError)) {
      sendError(res, e.status, 'bad request');
      return;
    }
    logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), method: req.method, path: req.path }, 'unhandled API error');
    sendError(res, 500, 'internal error (see the exporter log)');
  };
}

/**
 * A log function that writes at most one line per intervalMs (with how many
 * were left out since the last one): for client errors anyone can trigger,
 * so a flood of bad requests cannot fill the log.
 */
export function rateLimitedLog(logger: Logger, intervalMs: number, now: () => number = Date.now): (fields: Record<string, unknown>, msg: string) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (fields, msg) => {
    const t = now();
    if (t - last < intervalMs) {
      suppressed++;
      return;
    }
    last = t;
    logger.warn({ ...fields, suppressedSinceLast: suppressed }, msg);
    suppressed = 0;
  };
}
