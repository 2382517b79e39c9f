// A small HTTP client over node:http(s) with a keep-alive agent, for the
// service's calls to the MCP and the exporter.
//
// Why not fetch(): on the webhook -> MCP path, undici's fetch cost more CPU
// per request than everything else the service does (WHATWG streams,
// header normalisation, an AbortSignal per request, a dns.lookup even for a
// literal IP) - measured with --cpu-prof in bench/remediation.mjs. Here one
// agent per base URL keeps connections open between calls (Node >= 19 also
// honours the server's Keep-Alive timeout hint, so an idle socket is dropped
// before the server closes it); a request that lands on a socket the server
// closed anyway fails like any connection error and the callers retry it
// (MCP creates retry under the same Idempotency-Key, so that is safe).
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpResult {
  status: number;
  text: string;
  headers: IncomingHttpHeaders;
}

/** Thrown when a request exceeds its timeout (name 'TimeoutError', like AbortSignal.timeout). */
export class HttpTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

export class KeepAliveClient {
  private readonly base: URL;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly maxBody: number;

  /** opts.ca: PEM CA certificate(s) an https server is verified against instead of the system CAs. */
  constructor(baseUrl: string, opts: { maxSockets?: number; maxBodyBytes?: number; ca?: string } = {}) {
    this.base = new URL(baseUrl.replace(/\/$/, '') + '/');
    const https = this.base.protocol === 'https:';
    const o = { keepAlive: true, maxSockets: opts.maxSockets ?? 64, maxFreeSockets: 16, scheduling: 'lifo' as const };
    this.agent = https ? new HttpsAgent({ ...o, ...(opts.ca ? { ca: opts.ca } : {}) }) : new HttpAgent(o);
    this.send = https ? (httpsRequest as typeof httpRequest) : httpRequest;
    this.maxBody = opts.maxBodyBytes ?? 64 * 1024 * 1024;
  }

  /** `path` starts with '/'; it is appended to the base URL's path. */
  request(method: string, path: string, o: { headers?: Record<string, string>; body?: string; timeoutMs: number }): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...o.headers };
      if (o.body !== undefined) headers['Content-Length'] = Buffer.byteLength(o.body);
      const basePath = this.base.pathname.replace(/\/$/, '');
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const done = (e: Error | undefined, r?: HttpResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e) reject(e);
        else resolve(r!);
      };
      const req = this.send(
        { protocol: this.base.protocol, hostname: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port || undefined, method, path: basePath + path, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            if (n > this.maxBody) {
              req.destroy(new Error(`${method} ${path}: response larger than ${this.maxBody} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => done(undefined, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
          res.on('error', (e) => done(e));
          res.on('aborted', () => done(new Error(`${method} ${path}: response aborted`)));
        },
      );
      timer = setTimeout(() => {
        const e = new HttpTimeoutError(`${method} ${path}: no answer within ${o.timeoutMs} ms`);
        req.destroy(e);
        done(e);
      }, o.timeoutMs);
      req.on('error', (e) => done(e));
      if (o.body !== undefined) req.end(o.body);
      else req.end();
    });
  }

  /** Closes idle connections and refuses nothing: in-flight requests finish. */
  close(): void {
    this.agent.destroy();
  }
}
