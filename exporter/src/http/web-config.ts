// --web.config.file: the Prometheus exporter-toolkit web configuration
// (https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md),
// so SREs configure TLS and basic auth exactly as for node_exporter.
//
// Exports (what the HTTP server uses):
//   loadWebConfig(path: string): WebConfig
//       Reads, parses and validates the YAML synchronously at start-up; throws
//       WebConfigError with a message naming the file and the key. Relative
//       cert/key/CA paths are resolved against the config file's directory
//       (as exporter-toolkit does). Certificates and keys are loaded and
//       checked here (tls.createSecureContext), so a bad pair fails at start.
//   parseWebConfig(text: string, baseDir: string, source?: string): WebConfig
//   WebConfig.tls?: https.ServerOptions   pass to https.createServer(tls, app);
//       undefined = plain HTTP. minVersion is TLSv1.2 or TLSv1.3, never lower.
//   webConfigMiddleware(cfg: WebConfig, opts?): RequestHandler
//       mount FIRST (before /metrics and the routers): sets the configured
//       http_server_config.headers, enforces client-certificate policies
//       Node cannot express (VerifyClientCertIfGiven, RequireAnyClientCert)
//       and, when basic_auth_users is non-empty, basic auth on every path
//       except opts.unauthenticatedPaths (default none; exporter-toolkit
//       protects everything, /-/healthy included). Sets res.locals.user.
//   basicAuthMiddleware(users: Map<string,string>, opts?): RequestHandler
//   createWebServer(cfg: WebConfig, app): http.Server | https.Server
//   WebConfigError
//
// bcrypt: bcryptjs (pure JavaScript). It needs no native build (node-gyp,
// prebuilt binaries) and so also runs in the QEMU initramfs with only the
// node binary; it verifies the $2a$/$2b$/$2y$ hashes that htpasswd and Go's
// x/crypto/bcrypt (exporter-toolkit) produce. It is ~2-3x slower than the
// native module, which matters little because a successful credential is
// cached (by a SHA-256 of user, password and configured hash), so bcrypt
// runs once per credential, not once per scrape. Unknown users are checked
// against a dummy hash so response time does not reveal which users exist,
// and concurrent bcrypt checks are capped so a flood of wrong passwords
// cannot pin both cores.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import bcrypt from 'bcryptjs';
import YAML from 'yaml';
import { sendError } from '../api/errors.js';

export class WebConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebConfigError';
  }
}

export type ClientAuthType = 'NoClientCert' | 'RequestClientCert' | 'RequireAnyClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';
const CLIENT_AUTH: readonly ClientAuthType[] = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'];

const TLS_VERSIONS: Record<string, tls.SecureVersion | null> = { TLS10: null, TLS11: null, TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

// Go cipher-suite names (what exporter-toolkit accepts) -> OpenSSL names. TLS 1.3 suites are not configurable (as in Go).
const CIPHERS: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
};
const CURVES: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };
// exporter-toolkit allows exactly these response headers.
const HEADERS: Record<string, (v: string) => string | undefined> = {
  'Content-Security-Policy': () => undefined,
  'X-Frame-Options': (v) => (/^(deny|sameorigin)$/i.test(v) ? undefined : 'must be deny or sameorigin'),
  'X-Content-Type-Options': (v) => (v.toLowerCase() === 'nosniff' ? undefined : 'must be nosniff'),
  'X-XSS-Protection': () => undefined,
  'Strict-Transport-Security': () => undefined,
};
const BCRYPT_HASH = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

export interface WebConfig {
  source: string;
  tls?: https.ServerOptions;
  clientAuth: ClientAuthType;
  /** username -> bcrypt hash */
  basicAuthUsers: Map<string, string>;
  headers: Record<string, string>;
  warnings: string[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new WebConfigError(`web config ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseWebConfig(text, path.dirname(path.resolve(file)), file);
}

export function parseWebConfig(text: string, baseDir: string, source = '<web config>'): WebConfig {
  const fail = (key: string, msg: string): never => {
    throw new WebConfigError(`web config ${source}: ${key}: ${msg}`);
  };
  let doc: unknown;
  try {
    doc = YAML.parse(text, { uniqueKeys: true, maxAliasCount: 16 });
  } catch (e) {
    throw new WebConfigError(`web config ${source}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isObj(doc)) fail('(top level)', 'expected a mapping');
  const top = doc as Obj;
  const onlyKeys = (o: Obj, where: string, allowed: string[]) => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(where ? `${where}.${k}` : k, `unknown key (allowed: ${allowed.join(', ')})`);
  };
  onlyKeys(top, '', ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit']);
  const warnings: string[] = [];
  const cfg: WebConfig = { source, clientAuth: 'NoClientCert', basicAuthUsers: new Map(), headers: {}, warnings };
  const readFile = (key: string, p: unknown): Buffer => {
    if (typeof p !== 'string' || p === '') fail(key, 'expected a file path');
    const full = path.resolve(baseDir, p as string);
    try {
      return readFileSync(full);
    } catch (e) {
      return fail(key, `cannot read ${full} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const str = (key: string, v: unknown): string => (typeof v === 'string' ? v : fail(key, `expected a string, got ${v === null ? 'null' : typeof v}`));

  // --- tls_server_config ---------------------------------------------------
  const t = top.tls_server_config;
  if (t !== undefined && t !== null) {
    if (!isObj(t)) fail('tls_server_config', 'expected a mapping');
    const tc = t as Obj;
    onlyKeys(tc, 'tls_server_config', [
      'cert_file', 'key_file', 'cert', 'key', 'client_auth_type', 'client_ca_file', 'client_ca', 'client_allowed_sans',
      'min_version', 'max_version', 'cipher_suites', 'prefer_server_cipher_suites', 'curve_preferences',
    ]);
    for (const k of ['client_allowed_sans', 'client_ca']) if (tc[k] !== undefined) fail(`tls_server_config.${k}`, 'not supported by this exporter; use client_ca_file');
    const hasFile = tc.cert_file !== undefined || tc.key_file !== undefined;
    const hasInline = tc.cert !== undefined || tc.key !== undefined;
    if (hasFile && hasInline) fail('tls_server_config', 'give cert_file/key_file or cert/key, not both');
    let cert: Buffer;
    let key: Buffer;
    if (hasInline) {
      if (tc.cert === undefined || tc.key === undefined) fail('tls_server_config', 'cert and key must both be set');
      cert = Buffer.from(str('tls_server_config.cert', tc.cert));
      key = Buffer.from(str('tls_server_config.key', tc.key));
    } else {
      if (tc.cert_file === undefined) fail('tls_server_config.cert_file', 'required when tls_server_config is present');
      if (tc.key_file === undefined) fail('tls_server_config.key_file', 'required when tls_server_config is present');
      cert = readFile('tls_server_config.cert_file', tc.cert_file);
      key = readFile('tls_server_config.key_file', tc.key_file);
    }
    const version = (k: string, dflt: tls.SecureVersion): tls.SecureVersion => {
      const v = tc[k];
      if (v === undefined || v === null || v === '') return dflt;
      const s = str(`tls_server_config.${k}`, v);
      if (!(s in TLS_VERSIONS)) fail(`tls_server_config.${k}`, `unknown TLS version "${s}" (TLS12 or TLS13)`);
      const mapped = TLS_VERSIONS[s];
      if (!mapped) fail(`tls_server_config.${k}`, `${s} is not allowed: this exporter requires TLS 1.2 or later (TLS12 or TLS13)`);
      return mapped!;
    };
    const minVersion = version('min_version', 'TLSv1.2');
    const maxVersion = version('max_version', 'TLSv1.3');
    if (minVersion === 'TLSv1.3' && maxVersion === 'TLSv1.2') fail('tls_server_config', 'min_version TLS13 is above max_version TLS12');
    const opts: https.ServerOptions = { cert, key, minVersion, maxVersion };
    if (tc.cipher_suites !== undefined && tc.cipher_suites !== null) {
      if (!Array.isArray(tc.cipher_suites) || tc.cipher_suites.length === 0) fail('tls_server_config.cipher_suites', 'expected a non-empty list');
      opts.ciphers = (tc.cipher_suites as unknown[])
        .map((c, i) => {
          const s = str(`tls_server_config.cipher_suites[${i}]`, c);
          return CIPHERS[s] ?? fail(`tls_server_config.cipher_suites[${i}]`, `unsupported cipher suite "${s}" (supported: ${Object.keys(CIPHERS).join(', ')})`);
        })
        .join(':');
    }
    if (tc.prefer_server_cipher_suites !== undefined) {
      if (typeof tc.prefer_server_cipher_suites !== 'boolean') fail('tls_server_config.prefer_server_cipher_suites', 'expected true or false');
      opts.honorCipherOrder = tc.prefer_server_cipher_suites as boolean;
    }
    if (tc.curve_preferences !== undefined && tc.curve_preferences !== null) {
      if (!Array.isArray(tc.curve_preferences) || tc.curve_preferences.length === 0) fail('tls_server_config.curve_preferences', 'expected a non-empty list');
      opts.ecdhCurve = (tc.curve_preferences as unknown[])
        .map((c, i) => {
          const s = str(`tls_server_config.curve_preferences[${i}]`, c);
          return CURVES[s] ?? fail(`tls_server_config.curve_preferences[${i}]`, `unknown curve "${s}" (${Object.keys(CURVES).join(', ')})`);
        })
        .join(':');
    }
    const cat = tc.client_auth_type === undefined || tc.client_auth_type === null || tc.client_auth_type === '' ? undefined : str('tls_server_config.client_auth_type', tc.client_auth_type);
    if (cat !== undefined && !CLIENT_AUTH.includes(cat as ClientAuthType)) fail('tls_server_config.client_auth_type', `unknown value "${cat}" (${CLIENT_AUTH.join(', ')})`);
    const caFile = tc.client_ca_file === undefined || tc.client_ca_file === null || tc.client_ca_file === '' ? undefined : tc.client_ca_file;
    // exporter-toolkit: a CA without a policy means RequireAndVerifyClientCert.
    const clientAuth: ClientAuthType = (cat as ClientAuthType | undefined) ?? (caFile !== undefined ? 'RequireAndVerifyClientCert' : 'NoClientCert');
    const verifies = clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert';
    if (verifies && caFile === undefined) fail('tls_server_config.client_ca_file', `required with client_auth_type ${clientAuth}`);
    if (!verifies && caFile !== undefined) fail('tls_server_config.client_ca_file', `set, but client_auth_type ${clientAuth} does not verify client certificates`);
    if (caFile !== undefined) opts.ca = readFile('tls_server_config.client_ca_file', caFile);
    if (clientAuth !== 'NoClientCert') {
      opts.requestCert = true;
      // Node can only reject unverified certs outright; the "if given"/"any" policies are enforced per request.
      opts.rejectUnauthorized = clientAuth === 'RequireAndVerifyClientCert';
    }
    cfg.clientAuth = clientAuth;
    try {
      tls.createSecureContext({ cert: opts.cert, key: opts.key, ca: opts.ca, minVersion, maxVersion, ciphers: opts.ciphers, ecdhCurve: opts.ecdhCurve });
    } catch (e) {
      fail('tls_server_config', `certificate/key/CA rejected by OpenSSL: ${(e as Error).message}`);
    }
    cfg.tls = opts;
  }

  // --- http_server_config ----------------------------------------------------
  const h = top.http_server_config;
  if (h !== undefined && h !== null) {
    if (!isObj(h)) fail('http_server_config', 'expected a mapping');
    const hc = h as Obj;
    onlyKeys(hc, 'http_server_config', ['http2', 'headers']);
    if (hc.http2 !== undefined) {
      if (typeof hc.http2 !== 'boolean') fail('http_server_config.http2', 'expected true or false');
      if (hc.http2 === true) warnings.push('http_server_config.http2: HTTP/2 is not served by this exporter; HTTP/1.1 is used');
    }
    if (hc.headers !== undefined && hc.headers !== null) {
      if (!isObj(hc.headers)) fail('http_server_config.headers', 'expected a mapping');
      for (const [k, v] of Object.entries(hc.headers as Obj)) {
        const check = HEADERS[k];
        if (!check) fail(`http_server_config.headers.${k}`, `header not allowed (allowed: ${Object.keys(HEADERS).join(', ')})`);
        const s = str(`http_server_config.headers.${k}`, v);
        if (/[\r\n]/.test(s)) fail(`http_server_config.headers.${k}`, 'value contains a line break');
        const err = check!(s);
        if (err) fail(`http_server_config.headers.${k}`, err);
        cfg.headers[k] = s;
      }
    }
  }

  // --- basic_auth_users -------------------------------------------------------
  const b = top.basic_auth_users;
  if (b !== undefined && b !== null) {
    if (!isObj(b)) fail('basic_auth_users', 'expected a mapping of username to bcrypt hash');
    for (const [user, hash] of Object.entries(b as Obj)) {
      if (user === '' || user.includes(':') || /[\x00-\x1f]/.test(user)) fail(`basic_auth_users.${user}`, 'usernames must be non-empty without ":" or control characters');
      // Never echo the hash (it is a secret-equivalent for offline cracking).
      if (typeof hash !== 'string' || !BCRYPT_HASH.test(hash)) fail(`basic_auth_users.${user}`, 'expected a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters), e.g. from `htpasswd -nBC 10 "" | tr -d \':\\n\'`');
      const cost = Number(BCRYPT_HASH.exec(hash as string)![1]);
      if (cost < 4 || cost > 31) fail(`basic_auth_users.${user}`, `bcrypt cost ${cost} outside 4..31`);
      if (cost < 10) warnings.push(`basic_auth_users.${user}: bcrypt cost ${cost} is low; use 10 or more`);
      cfg.basicAuthUsers.set(user, hash as string);
    }
  }

  // --- rate_limit (exporter-toolkit >= 0.14) ---------------------------------
  if (top.rate_limit !== undefined && top.rate_limit !== null) {
    warnings.push('rate_limit: not implemented by this exporter; ignored (the control API has its own limit)');
  }
  if (!cfg.tls && cfg.basicAuthUsers.size > 0) warnings.push('basic_auth_users without tls_server_config: passwords travel in clear text');
  return cfg;
}

export interface BasicAuthOptions {
  realm?: string;
  /** Successful credentials remembered (by SHA-256). Default 1024. */
  cacheSize?: number;
  /** bcrypt checks running at once; more get 503. Default 4. */
  maxConcurrentChecks?: number;
  /** Paths served without credentials (exact match). Default none. */
  unauthenticatedPaths?: string[];
}

// A valid hash nobody knows the password of (cost 10): unknown users cost the same as known ones.
const DUMMY_HASH = '$2b$10$7gnVg2fiiO3Az46Zqm2p.etqfQQcaYTAMCrldRv.dC.PMZkZuxhJG';

export function basicAuthMiddleware(users: Map<string, string>, opts: BasicAuthOptions = {}): RequestHandler {
  const realm = opts.realm ?? 'optifiber';
  const cacheSize = opts.cacheSize ?? 1024;
  const maxChecks = opts.maxConcurrentChecks ?? 4;
  const open = new Set(opts.unauthenticatedPaths ?? []);
  const cache = new Map<string, string>(); // sha256(user \0 password \0 hash) -> user
  let inFlight = 0;
  const challenge = (res: Response, msg: string) =>
    sendError(res, 401, msg, { 'WWW-Authenticate': `Basic realm="${realm}", charset="UTF-8"` });

  return (req: Request, res: Response, next: NextFunction) => {
    if (open.has(req.path)) {
      next();
      return;
    }
    const header = req.get('Authorization');
    const m = header ? /^Basic[ ]+([A-Za-z0-9+/=]+)[ ]*$/i.exec(header) : null;
    if (!m) {
      challenge(res, 'authentication required');
      return;
    }
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      challenge(res, 'authentication required');
      return;
    }
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = users.get(user);
    const key = createHash('sha256').update(user).update('\0').update(password).update('\0').update(hash ?? '').digest('base64');
    const cachedUser = hash !== undefined ? cache.get(key) : undefined;
    if (cachedUser !== undefined) {
      // Keys are SHA-256 digests of the secret, so the Map lookup leaks nothing
      // useful; compare the user name in constant time anyway.
      const a = Buffer.from(cachedUser);
      const b = Buffer.from(user);
      if (a.length === b.length && timingSafeEqual(a, b)) {
        res.locals.user = user;
        next();
        return;
      }
    }
    if (inFlight >= maxChecks) {
      sendError(res, 503, 'too many authentication attempts in progress; retry later', { 'Retry-After': '1' });
      return;
    }
    inFlight++;
    bcrypt
      .compare(password, hash ?? DUMMY_HASH)
      .then((ok) => {
        inFlight--;
        if (ok && hash !== undefined) {
          if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
          cache.set(key, user);
          res.locals.user = user;
          next();
        } else {
          challenge(res, 'invalid username or password');
        }
      })
      .catch(() => {
        inFlight--;
        sendError(res, 500, 'internal error');
      });
  };
}

export function webConfigMiddleware(cfg: WebConfig, opts: BasicAuthOptions = {}): RequestHandler {
  const auth = cfg.basicAuthUsers.size > 0 ? basicAuthMiddleware(cfg.basicAuthUsers, opts) : undefined;
  const headers = Object.entries(cfg.headers);
  return (req, res, next) => {
    for (const [k, v] of headers) res.setHeader(k, v);
    if (cfg.tls && (cfg.clientAuth === 'VerifyClientCertIfGiven' || cfg.clientAuth === 'RequireAnyClientCert')) {
      const sock = req.socket as tls.TLSSocket;
      const peer = typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate() : undefined;
      const given = !!peer && Object.keys(peer).length > 0;
      if (cfg.clientAuth === 'RequireAnyClientCert' && !given) {
        sendError(res, 403, 'a client certificate is required');
        return;
      }
      if (cfg.clientAuth === 'VerifyClientCertIfGiven' && given && !sock.authorized) {
        sendError(res, 403, 'client certificate not trusted');
        return;
      }
    }
    if (auth) auth(req, res, next);
    else next();
  };
}

/** http or https server for `app` according to the web config (not yet listening). */
export function createWebServer(cfg: WebConfig, app: Express | http.RequestListener): http.Server | https.Server {
  return cfg.tls ? https.createServer(cfg.tls, app as http.RequestListener) : http.createServer(app as http.RequestListener);
}
