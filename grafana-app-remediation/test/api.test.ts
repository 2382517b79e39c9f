import { ApiError, actionsQuery, fetchFetcher, RemediationApi, REQUIRED_ROLE, toApiError } from '../src/api.js';
import { PROXY_BASE } from '../src/constants.js';
import { fakeService, overview, POLICY, routeOf } from './fixtures.js';

describe('RemediationApi: every call through a plugin.json route, chosen by the role it needs', () => {
  test('reads go through the viewer route, policy writes through editor, approvals and the kill switch through admin', async () => {
    const { fetcher, calls } = fakeService({
      'GET /overview': overview(), 'GET /actions': { actions: [], nextBeforeId: null }, 'GET /actions/3': { action: {}, audit: [] },
      'GET /approvals': { approvals: [] }, 'GET /policies': { policy: POLICY }, 'GET /kill-switch': { enabled: false },
      'PUT /policies': { policy: POLICY }, 'POST /actions/3/approve': { status: 'approved' }, 'POST /actions/3/reject': { status: 'rejected' },
      'PUT /kill-switch': { enabled: true }, 'GET /whoami': { user: 'u', role: 'Admin', can: {} },
    });
    const api = new RemediationApi(fetcher);
    await api.overview();
    await api.actions({ site: 'paris-1' });
    await api.action(3);
    await api.approvals();
    await api.policies();
    await api.killSwitch();
    await api.putPolicies({ cooldown_seconds: 60 });
    await api.approve(3, 'ok');
    await api.reject(3);
    await api.setKillSwitch(true, 'drill');
    await api.whoami('Admin');
    expect(calls.map((c) => [c.method, routeOf(c.url)])).toEqual([
      ['GET', 'viewer'], ['GET', 'viewer'], ['GET', 'viewer'], ['GET', 'viewer'], ['GET', 'viewer'], ['GET', 'viewer'],
      ['PUT', 'editor'], ['POST', 'admin'], ['POST', 'admin'], ['PUT', 'admin'], ['GET', 'admin'],
    ]);
    expect(calls.every((c) => c.url.startsWith(`${PROXY_BASE}/`))).toBe(true);
    expect(PROXY_BASE).toBe('/api/plugin-proxy/optifiber-remediation-app');
    expect(calls[6]!.data).toEqual({ cooldown_seconds: 60 });
    expect(calls[7]!.data).toEqual({ comment: 'ok' });
    expect(calls[8]!.data).toEqual({});
    expect(calls[9]!.data).toEqual({ enabled: true, reason: 'drill' });
    expect(REQUIRED_ROLE).toEqual({ read: 'Viewer', putPolicies: 'Editor', putThreshold: 'Editor', approve: 'Admin', reject: 'Admin', setKillSwitch: 'Admin' });
  });

  test('no call carries a token or a role header: the route adds them', async () => {
    const seen: unknown[] = [];
    const api = new RemediationApi(async (req) => (seen.push(req), { status: 200, data: {} }));
    await api.setKillSwitch(false);
    expect(Object.keys(seen[0] as object).sort()).toEqual(['data', 'method', 'url']);
  });

  test('actionsQuery encodes filters and paging', () => {
    expect(actionsQuery({})).toBe('');
    expect(actionsQuery({ site: 'paris-1', result: 'failed', state: 'done', mode: 'auto', since: '2026-11-21T00:00:00.000Z', limit: 50, beforeId: 10 })).toBe(
      '?site=paris-1&result=failed&state=done&mode=auto&since=2026-11-21T00%3A00%3A00.000Z&limit=50&before_id=10',
    );
  });

  test('errors: the service body, Grafana proxy messages, bad gateway and network failures become ApiError', async () => {
    const svc = toApiError({ status: 403, data: { status: 'error', errorType: 'forbidden', error: 'PUT /api/v1/kill-switch needs the Admin role; you have Editor' } }, 'engage kill switch');
    expect(svc).toBeInstanceOf(ApiError);
    expect(svc.forbidden).toBe(true);
    expect(svc.message).toBe('engage kill switch: PUT /api/v1/kill-switch needs the Admin role; you have Editor');
    expect(svc.errorType).toBe('forbidden');
    expect(toApiError({ status: 403, data: { message: 'plugin proxy route access denied' } }, 'x').message).toBe('x: plugin proxy route access denied');
    expect(toApiError({ status: 502, data: { message: 'Bad Gateway' } }, 'x').message).toMatch(/could not reach the remediation service/);
    expect(toApiError({ status: 401, data: { error: 'invalid bearer token' } }, 'x').message).toMatch(/invalid bearer token \(the service refused the token/);
    const bad = toApiError({ status: 400, data: { error: 'invalid policy', problems: ['cooldown_seconds: expected an integer', 7] } }, 'save');
    expect(bad.problems).toEqual(['cooldown_seconds: expected an integer']);
    expect(toApiError({ status: 500, data: '' }, 'x').message).toBe('x: HTTP 500');
    const api = new RemediationApi(async () => { throw new Error('connection refused'); });
    await expect(api.overview()).rejects.toMatchObject({ status: 0, message: 'overview: connection refused' });
    const api2 = new RemediationApi(async () => ({ status: 409, data: { status: 'error', errorType: 'conflict', error: 'action 3 is not pending' } }));
    await expect(api2.approve(3)).rejects.toMatchObject({ status: 409, message: 'approve action 3: action 3 is not pending' });
  });

  test('fetchFetcher: JSON in and out, same-origin credentials, text bodies kept', async () => {
    const seen: Array<[string, RequestInit]> = [];
    const fake = (async (url: string, init: RequestInit) => {
      seen.push([url, init]);
      return { status: url.endsWith('text') ? 502 : 200, text: async () => (url.endsWith('text') ? 'Bad Gateway' : '{"a":1}') } as Response;
    }) as unknown as typeof fetch;
    const f = fetchFetcher(fake);
    expect(await f({ method: 'PUT', url: '/x', data: { b: 2 } })).toEqual({ status: 200, data: { a: 1 } });
    expect(seen[0]![1]).toMatchObject({ method: 'PUT', body: '{"b":2}', credentials: 'same-origin' });
    expect(await f({ method: 'GET', url: '/text' })).toEqual({ status: 502, data: 'Bad Gateway' });
    expect(seen[1]![1].body).toBeUndefined();
  });
});
