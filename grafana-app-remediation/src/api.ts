// Typed client of the remediation service, used by every page. It never talks
// to the service directly: each call goes to Grafana's plugin proxy,
//   /api/plugin-proxy/<plugin id>/<viewer|editor|admin>/api/v1/...  (PROXY_BASE)
// where the app's plugin.json route (chosen by the role the call needs) adds
// the bearer token from secureJsonData and the X-OptiFiber-Role header after
// Grafana has checked the route's reqRole. No token ever reaches the browser.
// The transport is injected (Fetcher): Grafana's backendSrv in the plugin,
// window.fetch in the browser harness, a test double in unit tests.
import { PROXY_BASE } from './constants.js';
import type { ActionFilter, ActionPage, Action, AuditEntry, AuditPage, AuditQuery, KillSwitch, Overview, Policy, PolicyDoc, Role, ThresholdChange, ThresholdsDoc, Whoami } from './types.js';


export type RoutePath = 'viewer' | 'editor' | 'admin';
export const ROUTE_FOR_ROLE: Record<Role, RoutePath> = { Viewer: 'viewer', Editor: 'editor', Admin: 'admin' };

export type Method = 'GET' | 'POST' | 'PUT';
export interface HttpRequest {
  method: Method;
  url: string;
  data?: unknown;
}
export interface HttpResponse {
  status: number;
  data: unknown;
}
/** Performs one HTTP request; resolves for every HTTP status, rejects only on network failure. */
export type Fetcher = (req: HttpRequest) => Promise<HttpResponse>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorType?: string,
    readonly problems: string[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /** Refused because of the user's role (Grafana's reqRole or the service's own check). */
  get forbidden(): boolean {
    return this.status === 403;
  }
}

/** Turns a non-2xx answer (the service's {status:"error",errorType,error} or Grafana's {message}) into an ApiError. */
export function toApiError(res: HttpResponse, what: string): ApiError {
  const d = (res.data ?? {}) as { error?: unknown; errorType?: unknown; message?: unknown; problems?: unknown };
  const msg = typeof d.error === 'string' ? d.error : typeof d.message === 'string' ? d.message : typeof res.data === 'string' && res.data ? res.data.slice(0, 300) : `HTTP ${res.status}`;
  const problems = Array.isArray(d.problems) ? d.problems.filter((p): p is string => typeof p === 'string') : [];
  const hint =
    res.status === 502 || res.status === 0
      ? ' (Grafana could not reach the remediation service: check the service URL on the configuration page)'
      : res.status === 401
        ? ' (the service refused the token: check the token on the configuration page)'
        : '';
  return new ApiError(res.status, `${what}: ${msg}${hint}`, typeof d.errorType === 'string' ? d.errorType : undefined, problems);
}

/** Which plugin route (and so which role) each call needs: the design's permission matrix. */
export const REQUIRED_ROLE = {
  read: 'Viewer',
  putPolicies: 'Editor',
  putThreshold: 'Editor',
  approve: 'Admin',
  reject: 'Admin',
  setKillSwitch: 'Admin',
} as const satisfies Record<string, Role>;

export function actionsQuery(f: ActionFilter): string {
  const q = new URLSearchParams();
  if (f.site) q.set('site', f.site);
  if (f.result) q.set('result', f.result);
  if (f.state) q.set('state', f.state);
  if (f.mode) q.set('mode', f.mode);
  if (f.since) q.set('since', f.since);
  if (f.until) q.set('until', f.until);
  if (f.limit !== undefined) q.set('limit', String(f.limit));
  if (f.beforeId !== undefined) q.set('before_id', String(f.beforeId));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function auditQuery(f: AuditQuery): string {
  const q = new URLSearchParams();
  for (const k of ['site', 'kind', 'decision', 'since', 'until'] as const) if (f[k]) q.set(k, f[k]!);
  if (f.limit !== undefined) q.set('limit', String(f.limit));
  if (f.beforeId !== undefined) q.set('before_id', String(f.beforeId));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export class RemediationApi {
  constructor(
    private readonly fetcher: Fetcher,
    private readonly base: string = PROXY_BASE,
  ) {}

  url(route: RoutePath, path: string): string {
    return `${this.base}/${route}/api/v1${path}`;
  }

  private async call<T>(role: Role, method: Method, path: string, what: string, data?: unknown): Promise<T> {
    let res: HttpResponse;
    try {
      res = await this.fetcher({ method, url: this.url(ROUTE_FOR_ROLE[role], path), ...(data !== undefined ? { data } : {}) });
    } catch (e) {
      throw new ApiError(0, `${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (res.status < 200 || res.status >= 300) throw toApiError(res, what);
    return res.data as T;
  }

  /** Who the service thinks we are, through the route of `role` (the highest the user may use). */
  whoami(role: Role = 'Viewer'): Promise<Whoami> {
    return this.call(role, 'GET', '/whoami', 'whoami');
  }
  overview(): Promise<Overview> {
    return this.call('Viewer', 'GET', '/overview', 'overview');
  }
  actions(filter: ActionFilter = {}): Promise<ActionPage> {
    return this.call('Viewer', 'GET', `/actions${actionsQuery(filter)}`, 'actions');
  }
  action(id: number): Promise<{ action: Action; audit: AuditEntry[] }> {
    return this.call('Viewer', 'GET', `/actions/${encodeURIComponent(String(id))}`, `action ${id}`);
  }
  /** Every decision, action step, approval, policy, threshold and kill-switch change, newest first. */
  audit(q: AuditQuery = {}): Promise<AuditPage> {
    return this.call('Viewer', 'GET', `/audit${auditQuery(q)}`, 'audit');
  }
  approvals(): Promise<{ approvals: Action[] }> {
    return this.call('Viewer', 'GET', '/approvals', 'approvals');
  }
  approve(id: number, comment?: string): Promise<{ status: string; action: Action | null }> {
    return this.call(REQUIRED_ROLE.approve, 'POST', `/actions/${id}/approve`, `approve action ${id}`, comment ? { comment } : {});
  }
  reject(id: number, comment?: string): Promise<{ status: string; action: Action | null }> {
    return this.call(REQUIRED_ROLE.reject, 'POST', `/actions/${id}/reject`, `reject action ${id}`, comment ? { comment } : {});
  }
  policies(): Promise<PolicyDoc> {
    return this.call('Viewer', 'GET', '/policies', 'policies');
  }
  /** Partial document: keys left out keep their stored value. */
  putPolicies(patch: Partial<Policy>): Promise<PolicyDoc> {
    return this.call(REQUIRED_ROLE.putPolicies, 'PUT', '/policies', 'save policy', patch);
  }
  thresholds(): Promise<ThresholdsDoc> {
    return this.call('Viewer', 'GET', '/thresholds', 'thresholds');
  }
  /** One change (fleet default or a site's override; value null removes it), with its reason. */
  putThreshold(c: ThresholdChange): Promise<ThresholdsDoc> {
    return this.call(REQUIRED_ROLE.putThreshold, 'PUT', '/thresholds', 'save threshold', c);
  }
  killSwitch(): Promise<KillSwitch> {
    return this.call('Viewer', 'GET', '/kill-switch', 'kill switch');
  }
  setKillSwitch(enabled: boolean, reason?: string): Promise<KillSwitch> {
    return this.call(REQUIRED_ROLE.setKillSwitch, 'PUT', '/kill-switch', enabled ? 'engage kill switch' : 'release kill switch', reason ? { enabled, reason } : { enabled });
  }
}

/** A Fetcher over window.fetch (same-origin, JSON), for the harness and for tests. */
export function fetchFetcher(fetchImpl: typeof fetch = (...a) => fetch(...a), origin = ''): Fetcher {
  return async ({ method, url, data }) => {
    const r = await fetchImpl(origin + url, {
      method,
      headers: data !== undefined ? { 'Content-Type': 'application/json', Accept: 'application/json' } : { Accept: 'application/json' },
      ...(data !== undefined ? { body: JSON.stringify(data) } : {}),
      credentials: 'same-origin',
    });
    const text = await r.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* keep the text */
    }
    return { status: r.status, data: body };
  };
}
