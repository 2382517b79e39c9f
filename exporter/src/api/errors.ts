// JSON errors for every API and control response: {"error": code, "message": text}.
// Stack traces and internal error text never reach the client; unexpected
// errors are logged with their stack and answered with a generic 500.
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from './deps.js';

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
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

export function sendError(res: Response, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).json({ error: STATUS_CODE[status] ?? 'internal', message });
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
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
      sendError(res, e.status, 'bad request');
      return;
    }
    logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), method: req.method, path: req.path }, 'unhandled API error');
    sendError(res, 500, 'internal error (see the exporter log)');
  };
}
