// The REST API's authentication (Grafana's plugin-proxy token + the role the
// plugin route sets + the user Grafana names) and its role-matrix guard
// (roles.ts is the one definition of who may do what).
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { can, capabilities, ROLES, type Permission, type Role } from '../roles.js';
import { HttpError } from './errors.js';

export const ROLE_HEADER = 'X-OptiFiber-Role';
export const USER_HEADER = 'X-Grafana-User';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Proxy token, then role; sets res.locals.role, and res.locals.user when the user header names one. */
export function apiAuth(proxyToken: string | undefined): RequestHandler {
  const proxyDigest = proxyToken ? digest(proxyToken) : undefined;
  return (req, res, next) => {
    if (!proxyDigest) throw new HttpError(403, 'the REST API is disabled: start the service with --api.proxy-token-file=FILE (config api.proxy_token_file) and put the same token in the app plugin configuration');
    const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(req.get('Authorization') ?? '');
    if (!m) throw new HttpError(401, 'missing bearer token: the API is called through Grafana\'s plugin proxy, which adds it', { 'WWW-Authenticate': 'Bearer realm="optifiber-remediation-api"' });
    if (!timingSafeEqual(digest(m[1]!), proxyDigest)) throw new HttpError(401, 'invalid bearer token', { 'WWW-Authenticate': 'Bearer realm="optifiber-remediation-api", error="invalid_token"' });
    const role = req.get(ROLE_HEADER);
    if (!role || !(ROLES as readonly string[]).includes(role)) throw new HttpError(403, `header ${ROLE_HEADER} must be one of ${ROLES.join(', ')} (set by the plugin route, see docs/remediation-api.md)`);
    res.locals.role = role as Role;
    // The audit names a person: a write without a (valid) user name is
    // refused, never attributed to a made-up "grafana-<role>".
    const user = req.get(USER_HEADER) ?? '';
    const named = user.length > 0 && user.length <= 200 && /^[\x21-\x7e][\x20-\x7e]*$/.test(user);
    if (named) res.locals.user = user;
    next();
  };
}

/** A route's guard: the permission, and for a write a named user (checked after the role, so a low role hears about its role first). */
export type Need = (p: Permission) => (req: Request, res: Response, next: NextFunction) => void;

export const need: Need = (p) => (req, res, next) => {
  if (!can(res.locals.role as Role, p)) throw new HttpError(403, `${req.method} ${req.baseUrl}${req.path} needs the ${ROLES.find((r) => can(r, p))} role; you have ${res.locals.role as string}`);
  if (req.method !== 'GET' && req.method !== 'HEAD' && !res.locals.user)
    throw new HttpError(403, `${req.method} ${req.baseUrl}${req.path} changes state and needs a named user: header ${USER_HEADER} (Grafana sends it with [dataproxy] send_user_header = true)`);
  next();
};

/** GET /whoami: the caller's user, role and capabilities (the app hides what the role cannot do). */
export function registerWhoami(api: Router): void {
  api.get('/whoami', (_req, res) => {
    const role = res.locals.role as Role;
    // editPolicies: the older name of editThresholds, kept for the app's current UI.
    res.json({ user: res.locals.user ?? null, role, can: { ...capabilities(role), editPolicies: can(role, 'editThresholds') } });
  });
}
