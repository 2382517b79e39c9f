// Fixtures shaped like the service's answers (docs/remediation-api.md) and a
// recording Fetcher that answers by method + path.
import type { Fetcher, HttpRequest, HttpResponse } from '../src/api.js';
import { PLUGIN_ID, PROXY_BASE } from '../src/constants.js';
import type { Action, Overview, Policy } from '../src/types.js';
import { DEFAULT_POLICY } from '../service/src/policy.js';

/** The service's default policy in approval mode, with one per-site override. */
export const POLICY: Policy = { ...DEFAULT_POLICY, approval_required: true, sites: { 'berlin-3': { cooldown_seconds: 1800 } } };

export function action(o: Partial<Action> = {}): Action {
  return {
    id: 1, site: 'paris-1', alertname: 'OptiFiberCapacityForecastHigh', fingerprint: 'aaaa', startsAt: '2026-11-21T18:00:00Z',
    generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=x', labels: { site: 'paris-1', remediation: 'auto' }, annotations: {}, mode: 'auto', count: 1,
    state: 'done', result: 'succeeded', reason: 'capacity verified: 4 -> 5', idempotencyKey: 'optifiber-rem-1', jobId: 'job-1', jobState: 'succeeded', mcpAttempts: 1,
    baseline: { cmdModules: 4 }, after: { cmdModules: 5 }, createdAt: '2026-11-21T18:00:01Z', updatedAt: null, submittedAt: null, finishedAt: null,
    approvedBy: null, approvedAt: null, expiresAt: null, ...o,
  };
}

export const PENDING = action({ id: 7, site: 'berlin-3', mode: 'approval', state: 'pending_approval', result: null, reason: null, jobId: null, baseline: null, after: null, expiresAt: '2026-11-21T19:00:00Z' });

export function overview(o: Partial<Overview> = {}): Overview {
  return {
    health: { status: 'ok', uptimeSeconds: 3700, queueDepth: 0, actionsInFlight: 0, mcp: { url: 'http://127.0.0.1:9889', lastOk: '2026-11-21T18:00:02Z' }, exporter: { url: 'http://127.0.0.1:9886', lastOk: '2026-11-21T18:00:02Z' } },
    killSwitch: { enabled: false },
    policy: POLICY,
    pendingApprovals: [PENDING],
    recentActions: [PENDING, action()],
    last24h: { actionsByResult: { succeeded: 1 }, skipsByReason: { duplicate: 2 } },
    ...o,
  };
}

type Handler = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** Answers by "METHOD /path-after-/api/v1" (query string stripped); records every request. */
export function fakeService(routes: Record<string, Handler | unknown>): { fetcher: Fetcher; calls: HttpRequest[] } {
  const calls: HttpRequest[] = [];
  const fetcher: Fetcher = async (req) => {
    calls.push(req);
    const m = new RegExp(`^${PROXY_BASE}/(viewer|editor|admin)/api/v1(/[^?]*)`).exec(req.url);
    const key = m ? `${req.method} ${m[2]}` : `${req.method} ${req.url}`;
    const h = routes[key];
    if (h === undefined) return { status: 404, data: { status: 'error', errorType: 'not_found', error: `no fixture for ${key}` } };
    return typeof h === 'function' ? (h as Handler)(req) : { status: 200, data: h };
  };
  return { fetcher, calls };
}

export const routeOf = (url: string) => new RegExp(`/${PLUGIN_ID}/(viewer|editor|admin)/`).exec(url)?.[1];
