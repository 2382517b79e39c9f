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
//   WebConfigWatcher   re-reads the file (and the certificate, key, CA and
//       token files it names) when any of them changed, checked before each
//       TLS handshake (as exporter-toolkit's GetConfigForClient) and on
//       SIGHUP; a bad new version is refused and the last good one kept.
//   WebConfigError
//
// OptiFiber extensions to the format (docs/security.md): bearer_tokens
// (named tokens with scopes) and basic_auth_scopes (scopes of basic-auth
// users; default read). See http/credentials.ts.
//
// bcrypt: bcryptjs (pure JavaScript). It needs no native build (node-gyp,
// prebuilt binaries) and so also runs in the QEMU initramfs with only the
// node binary; it verifies the $2a$/$2b$/$2y$ hashes that htpasswd and Go's
// x/crypto/bcrypt (exporter-toolkit) produce. It runs in a worker thread at
// the lowest priority, never on the event loop; successful credentials are
// cached, unknown users cost a dummy check, costs above 12 are refused and
// failures are limited per client address (http/credentials.ts).
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import YAML from 'yaml';
import { sendError } from '../api/errors.js';
import { readSecretFile } from '../config/secret.js';
import { ConfigError } from '../config/loader.js';
import { Authenticator, BCRYPT_MAX_COST, SCOPES, type AuthenticatorOptions, type BearerCredential, type Scope } from './credentials.js';

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
  /** basic_auth_scopes: username -> scopes (users not listed: read). */
  basicAuthScopes: Map<string, Scope[]>;
  /** bearer_tokens: named tokens with scopes. */
  bearerTokens: BearerCredential[];
  headers: Record<string, string>;
  warnings: string[];
  /** Every file this config was built from (itself when loaded from a file, certificates, token files): watched for changes. */
  files: string[];
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
  const cfg = parseWebConfig(text, path.dirname(path.resolve(file)), file);
  cfg.files.unshift(path.resolve(file));
  return cfg;
}

export function parseWebConfig(text: string, baseDir: string, source = '<web config>'): WebConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text, { uniqueKeys: true, maxAliasCount: 16 });
  } catch (e) {
    throw new WebConfigError(`web config ${source}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const p = new WebConfigParser(source, baseDir);
  if (doc === null || doc === undefined) doc = {};
  if (!isObj(doc)) p.fail('(top level)', 'expected a mapping');
  const top = doc as Obj;
  p.onlyKeys(top, '', ['tls_server_config', 'http_server_config', 'basic_auth_users', 'basic_auth_scopes', 'bearer_tokens', 'rate_limit']);
  const present = (v: unknown): v is NonNullable<unknown> => v !== undefined && v !== null;
  if (present(top.tls_server_config)) p.tls(p.mapping('tls_server_config', top.tls_server_config, 'expected a mapping'));
  if (present(top.http_server_config)) p.http(p.mapping('http_server_config', top.http_server_config, 'expected a mapping'));
  if (present(top.basic_auth_users)) p.basicAuthUsers(p.mapping('basic_auth_users', top.basic_auth_users, 'expected a mapping of username to bcrypt hash'));
  if (present(top.basic_auth_scopes)) p.basicAuthScopes(p.mapping('basic_auth_scopes', top.basic_auth_scopes, 'expected a mapping of username to a list of scopes'));
  if (present(top.bearer_tokens)) p.bearerTokens(p.mapping('bearer_tokens', top.bearer_tokens, 'expected a mapping of name to {token_file, scopes}'));
  const cfg = p.cfg;
  // --- rate_limit (exporter-toolkit >= 0.14) ---------------------------------
  if (present(top.rate_limit)) {
    cfg.warnings.push('rate_limit: not implemented by this exporter; ignored (the control API has its own limit)');
  }
  if (!cfg.tls && (cfg.basicAuthUsers.size > 0 || cfg.bearerTokens.length > 0)) cfg.warnings.push('credentials without tls_server_config: passwords and tokens travel in clear text');
  return cfg;
}

/** One parse of a web config: the result being built and the checks every section uses, each error naming its key. */
class WebConfigParser {
  readonly cfg: WebConfig;
  constructor(
    private readonly source: string,
    private readonly baseDir: string,
  ) {
    this.cfg = { source, clientAuth: 'NoClientCert', basicAuthUsers: new Map(), basicAuthScopes: new Map(), bearerTokens: [], headers: {}, warnings: [], files: [] };
  }

  fail(key: string, msg: string): never {
    throw new WebConfigError(`web config ${this.source}: ${key}: ${msg}`);
  }

  mapping(key: string, v: unknown, msg: string): Obj {
    if (!isObj(v)) this.fail(key, msg);
    return v as Obj;
  }

  onlyKeys(o: Obj, where: string, allowed: string[]): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(where ? `${where}.${k}` : k, `unknown key (allowed: ${allowed.join(', ')})`);
  }

  readFile(key: string, p: unknown): Buffer {
    if (typeof p !== 'string' || p === '') this.fail(key, 'expected a file path');
    const full = path.resolve(this.baseDir, p as string);
    this.cfg.files.push(full);
    try {
      return readFileSync(full);
    } catch (e) {
      return this.fail(key, `cannot read ${full} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  str(key: string, v: unknown): string {
    return typeof v === 'string' ? v : this.fail(key, `expected a string, got ${v === null ? 'null' : typeof v}`);
  }

  scopeList(key: string, v: unknown): Scope[] {
    if (!Array.isArray(v) || v.length === 0) this.fail(key, `expected a non-empty list of scopes (${SCOPES.join(', ')})`);
    const out = new Set<Scope>();
    (v as unknown[]).forEach((x, i) => {
      const s = this.str(`${key}[${i}]`, x);
      if (!(SCOPES as readonly string[]).includes(s)) this.fail(`${key}[${i}]`, `unknown scope "${s.slice(0, 32)}" (${SCOPES.join(', ')})`);
      out.add(s as Scope);
    });
    return [...out];
  }

  /** tls_server_config. */
  tls(tc: Obj): void {
    this.onlyKeys(tc, 'tls_server_config', [
      'cert_file', 'key_file', 'cert', 'key', 'client_auth_type', 'client_ca_file', 'client_ca', 'client_allowed_sans',
      'min_version', 'max_version', 'cipher_suites', 'prefer_server_cipher_suites', 'curve_preferences',
    ]);
    for (const k of ['client_allowed_sans', 'client_ca']) if (tc[k] !== undefined) this.fail(`tls_server_config.${k}`, 'not supported by this exporter; use client_ca_file');
    const hasFile = tc.cert_file !== undefined || tc.key_file !== undefined;
    const hasInline = tc.cert !== undefined || tc.key !== undefined;
    if (hasFile && hasInline) this.fail('tls_server_config', 'give cert_file/key_file or cert/key, not both');
    let cert: Buffer;
    let key: Buffer;
    if (hasInline) {
      if (tc.cert === undefined || tc.key === undefined) this.fail('tls_server_config', 'cert and key must both be set');
      cert = Buffer.from(this.str('tls_server_config.cert', tc.cert));
      key = Buffer.from(this.str('tls_server_config.key', tc.key));
    } else {
      if (tc.cert_file === undefined) this.fail('tls_server_config.cert_file', 'required when tls_server_config is present');
      if (tc.key_file === undefined) this.fail('tls_server_config.key_file', 'required when tls_server_config is present');
      cert = this.readFile('tls_server_config.cert_file', tc.cert_file);
      key = this.readFile('tls_server_config.key_file', tc.key_file);
    }
    const version = (k: string, dflt: tls.SecureVersion): tls.SecureVersion => {
      const v = tc[k];
      if (v === undefined || v === null || v === '') return dflt;
      const s = this.str(`tls_server_config.${k}`, v);
      if (!(s in TLS_VERSIONS)) this.fail(`tls_server_config.${k}`, `unknown TLS version "${s}" (TLS12 or TLS13)`);
      const mapped = TLS_VERSIONS[s];
      if (!mapped) this.fail(`tls_server_config.${k}`, `${s} is not allowed: this exporter requires TLS 1.2 or later (TLS12 or TLS13)`);
      return mapped!;
    };
    const minVersion = version('min_version', 'TLSv1.2');
    const maxVersion = version('max_version', 'TLSv1.3');
    if (minVersion === 'TLSv1.3' && maxVersion === 'TLSv1.2') this.fail('tls_server_config', 'min_version TLS13 is above max_version TLS12');
    const opts: https.ServerOptions = { cert, key, minVersion, maxVersion };
    if (tc.cipher_suites !== undefined && tc.cipher_suites !== null) {
      if (!Array.isArray(tc.cipher_suites) || tc.cipher_suites.length === 0) this.fail('tls_server_config.cipher_suites', 'expected a non-empty list');
      opts.ciphers = (tc.cipher_suites as unknown[])
        .map((c, i) => {
          const s = this.str(`tls_server_config.cipher_suites[${i}]`, c);
          return CIPHERS[s] ?? this.fail(`tls_server_config.cipher_suites[${i}]`, `unsupported cipher suite "${s}" (supported: ${Object.keys(CIPHERS).join(', ')})`);
        })
        .join(':');
    }
    if (tc.prefer_server_cipher_suites !== undefined) {
      if (typeof tc.prefer_server_cipher_suites !== 'boolean') this.fail('tls_server_config.prefer_server_cipher_suites', 'expected true or false');
      opts.honorCipherOrder = tc.prefer_server_cipher_suites as boolean;
    }
    if (tc.curve_preferences !== undefined && tc.curve_preferences !== null) {
      if (!Array.isArray(tc.curve_preferences) || tc.curve_preferences.length === 0) this.fail('tls_server_config.curve_preferences', 'expected a non-empty list');
      opts.ecdhCurve = (tc.curve_preferences as unknown[])
        .map((c, i) => {
          const s = this.str(`tls_server_config.curve_preferences[${i}]`, c);
          return CURVES[s] ?? this.fail(`tls_server_config.curve_preferences[${i}]`, `unknown curve "${s}" (${Object.keys(CURVES).join(', ')})`);
        })
        .join(':');
    }
    const cat = tc.client_auth_type === undefined || tc.client_auth_type === null || tc.client_auth_type === '' ? undefined : this.str('tls_server_config.client_auth_type', tc.client_auth_type);
    if (cat !== undefined && !CLIENT_AUTH.includes(cat as ClientAuthType)) this.fail('tls_server_config.client_auth_type', `unknown value "${cat}" (${CLIENT_AUTH.join(', ')})`);
    const caFile = tc.client_ca_file === undefined || tc.client_ca_file === null || tc.client_ca_file === '' ? undefined : tc.client_ca_file;
    // exporter-toolkit: a CA without a policy means RequireAndVerifyClientCert.
    const clientAuth: ClientAuthType = (cat as ClientAuthType | undefined) ?? (caFile !== undefined ? 'RequireAndVerifyClientCert' : 'NoClientCert');
    const verifies = clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert';
    if (verifies && caFile === undefined) this.fail('tls_server_config.client_ca_file', `required with client_auth_type ${clientAuth}`);
    if (!verifies && caFile !== undefined) this.fail('tls_server_config.client_ca_file', `set, but client_auth_type ${clientAuth} does not verify client certificates`);
    if (caFile !== undefined) opts.ca = this.readFile('tls_server_config.client_ca_file', caFile);
    if (clientAuth !== 'NoClientCert') {
      opts.requestCert = true;
      // Node can only reject unverified certs outright; the "if given"/"any" policies are enforced per request.
      opts.rejectUnauthorized = clientAuth === 'RequireAndVerifyClientCert';
    }
    this.cfg.clientAuth = clientAuth;
    try {
      tls.createSecureContext({ cert: opts.cert, key: opts.key, ca: opts.ca, minVersion, maxVersion, ciphers: opts.ciphers, ecdhCurve: opts.ecdhCurve });
    } catch (e) {
      this.fail('tls_server_config', `certificate/key/CA rejected by OpenSSL: ${(e as Error).message}`);
    }
    this.cfg.tls = opts;
  }

  /** http_server_config. */
  http(hc: Obj): void {
    this.onlyKeys(hc, 'http_server_config', ['http2', 'headers']);
    if (hc.http2 !== undefined) {
      if (typeof hc.http2 !== 'boolean') this.fail('http_server_config.http2', 'expected true or false');
      if (hc.http2 === true) this.cfg.warnings.push('http_server_config.http2: HTTP/2 is not served by this exporter; HTTP/1.1 is used');
    }
    if (hc.headers !== undefined && hc.headers !== null) {
      if (!isObj(hc.headers)) this.fail('http_server_config.headers', 'expected a mapping');
      for (const [k, v] of Object.entries(hc.headers as Obj)) {
        const check = HEADERS[k];
        if (!check) this.fail(`http_server_config.headers.${k}`, `header not allowed (allowed: ${Object.keys(HEADERS).join(', ')})`);
        const s = this.str(`http_server_config.headers.${k}`, v);
        if (/[\r\n]/.test(s)) this.fail(`http_server_config.headers.${k}`, 'value contains a line break');
        const err = check!(s);
        if (err) this.fail(`http_server_config.headers.${k}`, err);
        this.cfg.headers[k] = s;
      }
    }
  }

  /** basic_auth_users. */
  basicAuthUsers(b: Obj): void {
    for (const [user, hash] of Object.entries(b as Obj)) {
      if (user === '' || user.includes(':') || /[\x00-\x1f]/.test(user)) this.fail(`basic_auth_users.${user}`, 'usernames must be non-empty without ":" or control characters');
      // Never echo the hash (it is a secret-equivalent for offline cracking).
      if (typeof hash !== 'string' || !BCRYPT_HASH.test(hash)) this.fail(`basic_auth_users.${user}`, 'expected a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters), e.g. from `htpasswd -nBC 10 "" | tr -d \':\\n\'`');
      const cost = Number(BCRYPT_HASH.exec(hash as string)![1]);
      if (cost < 4 || cost > BCRYPT_MAX_COST) this.fail(`basic_auth_users.${user}`, `bcrypt cost ${cost} outside 4..${BCRYPT_MAX_COST} (higher costs let a stream of wrong passwords occupy a core; docs/security.md)`);
      if (cost < 10) this.cfg.warnings.push(`basic_auth_users.${user}: bcrypt cost ${cost} is low; use 10 or more`);
      this.cfg.basicAuthUsers.set(user, hash as string);
    }
  }

  /** basic_auth_scopes (OptiFiber). */
  basicAuthScopes(bs: Obj): void {
    for (const [user, v] of Object.entries(bs as Obj)) {
      if (!this.cfg.basicAuthUsers.has(user)) this.fail(`basic_auth_scopes.${user}`, 'not a user of basic_auth_users');
      this.cfg.basicAuthScopes.set(user, this.scopeList(`basic_auth_scopes.${user}`, v));
    }
  }

  /** bearer_tokens (OptiFiber). */
  bearerTokens(bt: Obj): void {
    const seen = new Set<string>();
    for (const [name, v] of Object.entries(bt as Obj)) {
      const key = `bearer_tokens.${name}`;
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) this.fail(key, 'names are 1..64 characters of A-Z a-z 0-9 _ . -');
      if (this.cfg.basicAuthUsers.has(name)) this.fail(key, 'the same name is a basic_auth_users user: identities must be unique in the audit trail');
      if (!isObj(v)) this.fail(key, 'expected a mapping with token_file and scopes');
      this.onlyKeys(v as Obj, key, ['token_file', 'scopes']);
      const tf = (v as Obj).token_file;
      if (typeof tf !== 'string' || tf === '') this.fail(`${key}.token_file`, 'expected a file path');
      const full = path.resolve(this.baseDir, tf as string);
      this.cfg.files.push(full);
      let token: string;
      try {
        const r = readSecretFile(full, `${key}.token_file`, 16);
        token = r.secret;
        this.cfg.warnings.push(...r.warnings);
      } catch (e) {
        return this.fail(`${key}.token_file`, e instanceof ConfigError ? e.problems.join('; ') : (e as Error).message);
      }
      if (seen.has(token)) this.fail(key, 'the same token is given to another name');
      seen.add(token);
      this.cfg.bearerTokens.push({ name, token, scopes: this.scopeList(`${key}.scopes`, (v as Obj).scopes) });
    }
  }
}

export interface BasicAuthOptions {
  realm?: string;
  /** Successful credentials remembered (by SHA-256). Default 1024. */
  cacheSize?: number;
  /** Paths served without credentials (exact match). Default none. */
  unauthenticatedPaths?: string[];
  /** Requests the middleware leaves to a later handler (the control route authenticates for its own scope). */
  skip?: (req: Request) => boolean;
  /** The current authenticator (swapped by WebConfigWatcher); default one built from the config. */
  authenticator?: () => Authenticator;
  /** The current config (WebConfigWatcher), for the headers and client-certificate policy. */
  liveConfig?: () => WebConfig;
}

/** The Authenticator of a web config (extra bearer credentials, e.g. --control.token-file, added). */
/** True when some credential of the web config holds the control scope (it can change the network). */
export function grantsControl(cfg: WebConfig): boolean {
  return cfg.bearerTokens.some((b) => b.scopes.includes('control')) || [...cfg.basicAuthScopes.values()].some((s) => s.includes('control'));
}

export function authenticatorFor(cfg: WebConfig | undefined, extra: BearerCredential[] = [], onFailure?: AuthenticatorOptions['onFailure']): Authenticator {
  const readRequired = !!cfg && (cfg.basicAuthUsers.size > 0 || cfg.bearerTokens.length > 0);
  return new Authenticator({
    basicUsers: cfg?.basicAuthUsers ?? new Map(),
    basicScopes: cfg?.basicAuthScopes ?? new Map(),
    bearer: [...(cfg?.bearerTokens ?? []), ...extra],
    readRequired,
    ...(onFailure ? { onFailure } : {}),
  });
}

/** Authentication for the read scope on every path (except opts.skip / unauthenticatedPaths); sets res.locals.user and .identity. */
export function readAuthMiddleware(current: () => Authenticator, opts: BasicAuthOptions = {}): RequestHandler {
  const open = new Set(opts.unauthenticatedPaths ?? []);
  return (req: Request, res: Response, next: NextFunction) => {
    const auth = current();
    if (!auth.readRequired || open.has(req.path) || opts.skip?.(req)) {
      next();
      return;
    }
    auth.authenticate(req, 'read').then(
      (r) => {
        if (!r.ok) {
          sendError(res, r.status, r.message, r.headers);
          return;
        }
        res.locals.user = r.identity.name;
        res.locals.identity = r.identity;
        next();
      },
      (e: unknown) => next(e),
    );
  };
}

export function basicAuthMiddleware(users: Map<string, string>, opts: BasicAuthOptions = {}): RequestHandler {
  const auth = new Authenticator({ basicUsers: users, ...(opts.realm ? { realm: opts.realm } : {}), ...(opts.cacheSize ? { cacheSize: opts.cacheSize } : {}) });
  return readAuthMiddleware(() => auth, opts);
}

export function webConfigMiddleware(cfg: WebConfig, opts: BasicAuthOptions = {}): RequestHandler {
  const fixed = opts.authenticator ? undefined : authenticatorFor(cfg);
  const current = opts.authenticator ?? (() => fixed!);
  const auth = readAuthMiddleware(current, opts);
  const live = () => opts.liveConfig?.() ?? cfg;
  return (req, res, next) => {
    const c = live();
    for (const [k, v] of Object.entries(c.headers)) res.setHeader(k, v);
    if (c.tls && (c.clientAuth === 'VerifyClientCertIfGiven' || c.clientAuth === 'RequireAnyClientCert')) {
      const sock = req.socket as tls.TLSSocket;
      const peer = typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate() : undefined;
      const given = !!peer && Object.keys(peer).length > 0;
      if (c.clientAuth === 'RequireAnyClientCert' && !given) {
        sendError(res, 403, 'a client certificate is required');
        return;
      }
      if (c.clientAuth === 'VerifyClientCertIfGiven' && given && !sock.authorized) {
        sendError(res, 403, 'client certificate not trusted');
        return;
      }
    }
    auth(req, res, next);
  };
}

/** Identity of a file's current version (a change of any of these means: re-read). */
function fileStamp(files: string[]): string {
  return files
    .map((f) => {
      try {
        const st = statSync(f);
        return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

/**
 * Keeps the web config current without a restart (certificate rotation,
 * new users, revoked tokens): check() stats the config file and every file
 * it names, and when one changed, loads the file again. A new version that
 * fails validation, or that would switch TLS on or off (which needs a new
 * listener), is refused: the last good version stays in force and
 * lastReloadSuccessful is false until a good version is loaded.
 */
export class WebConfigWatcher {
  private cfg: WebConfig;
  private stamp: string;
  private auth: Authenticator;
  lastReloadSuccessful = true;
  lastReloadError: string | undefined;
  private server: http.Server | https.Server | undefined;
  reloads = 0;

  constructor(
    readonly file: string,
    initial: WebConfig,
    private readonly buildAuth: (cfg: WebConfig) => Authenticator,
    private readonly onChange: (cfg: WebConfig, err?: string) => void = () => {},
    /** A reason to refuse a new version that is valid but cannot be applied live, else undefined. */
    private readonly refuse: (next: WebConfig) => string | undefined = () => undefined,
  ) {
    this.cfg = initial;
    this.stamp = fileStamp(initial.files.length ? initial.files : [file]);
    this.auth = buildAuth(initial);
  }

  get config(): WebConfig {
    return this.cfg;
  }
  get authenticator(): Authenticator {
    return this.auth;
  }

  /** Re-read when a file changed; true when a new version was applied. */
  check(force = false): boolean {
    const stamp = fileStamp(this.cfg.files.length ? this.cfg.files : [this.file]);
    if (!force && stamp === this.stamp) return false;
    this.stamp = stamp;
    let next: WebConfig;
    try {
      next = loadWebConfig(this.file);
      if (!!next.tls !== !!this.cfg.tls) throw new WebConfigError(`web config ${this.file}: switching TLS ${next.tls ? 'on' : 'off'} needs a restart`);
      const refused = this.refuse(next);
      if (refused) throw new WebConfigError(`web config ${this.file}: ${refused}`);
    } catch (e) {
      this.lastReloadSuccessful = false;
      this.lastReloadError = (e as Error).message;
      this.onChange(this.cfg, this.lastReloadError);
      return false;
    }
    const old = this.auth;
    this.cfg = next;
    this.auth = this.buildAuth(next);
    if (next.tls && this.server && 'setSecureContext' in this.server) (this.server as https.Server).setSecureContext(next.tls);
    void old.close();
    this.lastReloadSuccessful = true;
    this.lastReloadError = undefined;
    this.reloads++;
    this.onChange(next);
    return true;
  }

  /** For an https server: re-check before every TLS handshake and install the new certificate for this very connection. */
  attach(server: http.Server | https.Server): void {
    this.server = server;
    server.prependListener('connection', () => void this.check());
  }

  close(): Promise<void> {
    return this.auth.close();
  }
}

/** http or https server for `app` according to the web config (not yet listening). */
export function createWebServer(cfg: WebConfig, app: Express | http.RequestListener): http.Server | https.Server {
  // connectionsCheckingInterval: headers/request timeouts are enforced within a second, not Node's default 30 s.
  return cfg.tls
    ? https.createServer({ ...cfg.tls, connectionsCheckingInterval: 1000 } as https.ServerOptions, app as http.RequestListener)
    : http.createServer({ connectionsCheckingInterval: 1000 }, app as http.RequestListener);
}
