// OAuth2 client credentials (RFC 6749 4.4): POST /oauth/token issues bearer tokens; authClient checks them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FaultInjector } from './faults.js';
import { HttpError, readBody, send } from './http.js';

const sha = (s: string) => createHash('sha256').update(s).digest();
const safeEq = (a: string, b: string) => timingSafeEqual(sha(a), sha(b));

export interface AuthOptions {
  clientId: string;
  clientSecret: string;
  tokenTtlMs: number;
  maxBody: number;
  faults: FaultInjector;
  onIssued: () => void;
}

/** The token request's parameters, from a form or a JSON object of strings. */
function tokenParams(req: IncomingMessage, raw: string): URLSearchParams {
  const ct = req.headers['content-type'] ?? '';
  if (!ct.startsWith('application/json')) return new URLSearchParams(raw);
  let o: unknown;
  try {
    o = JSON.parse(raw || '{}');
  } catch {
    throw new HttpError(400, 'invalid_request', 'body is not valid JSON');
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o) || Object.values(o).some((v) => typeof v !== 'string'))
    throw new HttpError(400, 'invalid_request', 'body must be a JSON object of strings (grant_type, client_id, client_secret)');
  return new URLSearchParams(o as Record<string, string>);
}

/** Client id and secret: HTTP basic auth wins over the body's client_id/client_secret. */
function clientCredentials(req: IncomingMessage, params: URLSearchParams): { id: string | null; secret: string | null } {
  const basic = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '');
  if (!basic) return { id: params.get('client_id'), secret: params.get('client_secret') };
  // RFC 6749 2.3.1: id and secret are form-urlencoded inside basic auth; a bad encoding is a bad client.
  const dec = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const i = dec.indexOf(':');
  try {
    return { id: i < 0 ? null : decodeURIComponent(dec.slice(0, i)), secret: i < 0 ? null : decodeURIComponent(dec.slice(i + 1)) };
  } catch {
    return { id: null, secret: null };
  }
}

export class TokenIssuer {
  private readonly tokens = new Map<string, { clientId: string; expires: number }>();

  constructor(private readonly o: AuthOptions) {}

  /** The OAuth client behind the request's bearer token, or a 401. */
  authClient(req: IncomingMessage): string {
    const h = req.headers.authorization;
    const m = h ? /^Bearer +([\x21-\x7e]+) *$/i.exec(h) : null;
    if (!m) throw new HttpError(401, 'unauthorized', 'missing bearer token: POST /oauth/token first', { 'WWW-Authenticate': 'Bearer realm="mcp"' });
    const t = this.tokens.get(m[1]!);
    if (!t) throw new HttpError(401, 'invalid_token', 'unknown bearer token', { 'WWW-Authenticate': 'Bearer realm="mcp", error="invalid_token"' });
    if (t.expires < Date.now()) {
      this.tokens.delete(m[1]!);
      throw new HttpError(401, 'invalid_token', 'bearer token expired', { 'WWW-Authenticate': 'Bearer realm="mcp", error="invalid_token"' });
    }
    return t.clientId;
  }

  /** POST /oauth/token */
  async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { clientId, clientSecret, tokenTtlMs, maxBody, faults } = this.o;
    const raw = await readBody(req, maxBody);
    if (faults.hit('token_5xx')) throw new HttpError(503, 'unavailable', 'token service unavailable (injected)', { 'Retry-After': '1' });
    const params = tokenParams(req, raw);
    const { id, secret } = clientCredentials(req, params);
    if (params.get('grant_type') !== 'client_credentials') {
      send(res, 400, { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' });
      return;
    }
    if (!id || !secret || !safeEq(id, clientId) || !safeEq(secret, clientSecret)) {
      send(res, 401, { error: 'invalid_client', error_description: 'unknown client or wrong secret' }, { 'WWW-Authenticate': 'Basic realm="mcp"' });
      return;
    }
    const t = randomBytes(24).toString('base64url');
    this.tokens.set(t, { clientId: id, expires: Date.now() + tokenTtlMs });
    this.o.onIssued();
    send(res, 200, { access_token: t, token_type: 'Bearer', expires_in: Math.floor(tokenTtlMs / 1000), scope: 'provisioning' });
  }
}
