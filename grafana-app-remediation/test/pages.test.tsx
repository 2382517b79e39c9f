// The pages in jsdom with a fake service: what each role sees and can do, and
// which plugin route each action uses.
import { locationService } from '@grafana/runtime';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import React from 'react';
import { RemediationApi, type HttpRequest } from '../src/api.js';
import { PLUGIN_BASE_URL, PLUGIN_ID } from '../src/constants.js';
import { RemediationApp } from '../src/components/App.js';
import { AppConfigForm } from '../src/components/AppConfig.js';
import type { AppEnv } from '../src/env.js';
import type { Role } from '../src/types.js';
import { action, fakeService, overview, PENDING, POLICY, routeOf } from './fixtures.js';
import { testIds } from '../src/testIds.js';

const NOW = Date.parse('2026-11-21T18:30:00Z');
const isDisabled = (el: Element) => (el as HTMLButtonElement | HTMLInputElement).disabled;

function setup(role: Role, page: string, extra: Record<string, unknown> = {}) {
  const svc = fakeService({
    'GET /whoami': { user: role.toLowerCase(), role, can: {} },
    'GET /overview': overview(),
    'GET /policies': { policy: POLICY, updatedAt: '2026-11-21T18:00:00Z', updatedBy: 'devops' },
    'GET /kill-switch': { enabled: false },
    'GET /actions': { actions: [PENDING, action(), action({ id: 2, site: 'lyon-2', result: 'failed', reason: 'MCP job failed', after: null })], nextBeforeId: null },
    'GET /actions/1': { action: action(), audit: [{ id: 1, ts: '2026-11-21T18:00:01Z', kind: 'decision', decision: 'act', reason: 'policy_passed', actor: 'policy' }] },
    ...extra,
  });
  const env: AppEnv = { api: new RemediationApi(svc.fetcher), role, subUrl: '', now: () => NOW };
  act(() => locationService.push(`${PLUGIN_BASE_URL}/${page}`));
  render(<RemediationApp env={env} />);
  return svc;
}
const routesUsed = (calls: HttpRequest[], method: string) => calls.filter((c) => c.method === method).map((c) => routeOf(c.url));

describe('Overview', () => {
  test('Viewer: health, approvals and recent actions; Approve/Reject disabled; links to the site dashboard and the alert', async () => {
    const svc = setup('Viewer', 'overview');
    await screen.findByTestId(testIds.app.page('overview'));
    expect(screen.getByTestId(testIds.overview.healthService).textContent).toMatch(/healthy.*Up 1h 1m/);
    expect(screen.getByTestId(testIds.overview.health24h).textContent).toMatch(/succeeded: 1.*skipped \(duplicate\): 2/);
    const row = screen.getByTestId(testIds.overview.approval);
    expect(isDisabled(within(row).getByTestId(testIds.overview.approve))).toBe(true);
    expect(isDisabled(within(row).getByTestId(testIds.overview.reject))).toBe(true);
    expect(screen.getByTestId(testIds.overview.approveHint).textContent).toMatch(/Only Admins/);
    const recent = screen.getAllByTestId(testIds.overview.recentAction);
    expect(recent).toHaveLength(2);
    expect(within(recent[1]!).getByTestId(testIds.common.siteLink).getAttribute('href')).toBe('/d/optifiber-site?var-site=paris-1');
    expect(within(recent[1]!).getByTestId(testIds.common.alertLink).getAttribute('href')).toBe('http://127.0.0.1:9090/graph?g0.expr=x');
    expect(new Set(routesUsed(svc.calls, 'GET'))).toEqual(new Set(['viewer']));
  });

  test('Admin: approves with a comment through the admin route and reloads', async () => {
    const svc = setup('Admin', 'overview', { 'POST /actions/7/approve': { status: 'approved', action: null } });
    const row = await screen.findByTestId(testIds.overview.approval);
    const btn = within(row).getByTestId(testIds.overview.approve);
    expect(isDisabled(btn)).toBe(false);
    fireEvent.click(btn);
    fireEvent.change(await screen.findByTestId(testIds.overview.approvalComment), { target: { value: 'go' } });
    fireEvent.click(screen.getByTestId('data-testid Confirm Modal Danger Button'));
    expect((await screen.findByTestId(testIds.overview.approvalResult)).textContent).toMatch(/#7 on berlin-3 approved/);
    const post = svc.calls.find((c) => c.method === 'POST')!;
    expect([routeOf(post.url), post.data]).toEqual(['admin', { comment: 'go' }]);
    await waitFor(() => expect(svc.calls.filter((c) => c.url.endsWith('/overview')).length).toBe(2));
  });

  test('Admin: a refusal from the service is shown (409 kill switch)', async () => {
    setup('Admin', 'overview', { 'POST /actions/7/reject': () => ({ status: 409, data: { status: 'error', errorType: 'conflict', error: 'action 7 is not pending' } }) });
    fireEvent.click(within(await screen.findByTestId(testIds.overview.approval)).getByTestId(testIds.overview.reject));
    fireEvent.click(await screen.findByTestId('data-testid Confirm Modal Danger Button'));
    expect((await screen.findByTestId(testIds.common.error)).textContent).toMatch(/reject action 7: action 7 is not pending/);
  });

  test('kill switch on: banner and Approve disabled even for an Admin', async () => {
    setup('Admin', 'overview', { 'GET /overview': overview({ killSwitch: { enabled: true, reason: 'drill', by: 'admin', at: '2026-11-21T18:29:00Z' } }) });
    expect((await screen.findByTestId(testIds.overview.killSwitchBanner)).textContent).toMatch(/Reason: drill.*admin 1m ago/);
    expect(isDisabled(screen.getByTestId(testIds.overview.approve))).toBe(true);
    expect(isDisabled(screen.getByTestId(testIds.overview.reject))).toBe(false);
  });

  test('service down: an error with the way to the configuration', async () => {
    setup('Viewer', 'overview', { 'GET /overview': () => ({ status: 502, data: { message: 'Bad Gateway' } }), 'GET /whoami': () => ({ status: 502, data: { message: 'Bad Gateway' } }) });
    expect((await screen.findByTestId(testIds.app.notConnected)).textContent).toMatch(/could not reach the remediation service.*Open the app configuration/);
  });
});

describe('History', () => {
  test('rows with outcome, capacity and links; the result filter goes to the API and the URL; audit trail on expand', async () => {
    const svc = setup('Viewer', 'history');
    const rows = await screen.findAllByTestId(testIds.history.row);
    expect(rows).toHaveLength(3);
    expect(rows[2]!.textContent).toMatch(/lyon-2.*failed/);
    expect(svc.calls.find((c) => c.url.includes('/actions?'))!.url).toMatch(/\/viewer\/api\/v1\/actions\?since=2026-11-14T18%3A30%3A00.000Z&limit=50$/);
    fireEvent.click(within(rows[1]!).getByTestId(testIds.history.expand));
    expect((await screen.findByTestId(testIds.history.auditTrail)).textContent).toMatch(/decision.*act.*policy_passed/);
    act(() => locationService.push(`${PLUGIN_BASE_URL}/history?result=failed&site=lyon-2`));
    await waitFor(() => expect(svc.calls.some((c) => c.url.includes('site=lyon-2&result=failed'))).toBe(true));
    fireEvent.change(screen.getByTestId(testIds.history.filterSite), { target: { value: 'bad site' } });
    expect(document.body.contains(await screen.findByText(/1-31 characters/))).toBe(true);
    fireEvent.click(screen.getByTestId(testIds.history.filterClear));
    await waitFor(() => expect(locationService.getLocation().search).toBe(''));
  });
});

describe('Policies', () => {
  test('Viewer: read only, nothing to save, kill switch disabled', async () => {
    setup('Viewer', 'policies');
    expect(document.body.contains(await screen.findByTestId(testIds.policies.readonly))).toBe(true);
    expect(isDisabled(screen.getByTestId(testIds.policies.save))).toBe(true);
    expect(isDisabled(screen.getByTestId(testIds.policies.field('cooldown_seconds')))).toBe(true);
    expect(isDisabled(await screen.findByTestId(testIds.killSwitch.toggle))).toBe(true);
    expect(screen.queryByTestId(testIds.policies.addOverride)).toBeNull();
  });

  test('Editor: saves only the changed keys through the editor route; kill switch still disabled', async () => {
    const svc = setup('Editor', 'policies', { 'PUT /policies': (r: HttpRequest) => ({ status: 200, data: { policy: { ...POLICY, ...(r.data as object) }, updatedAt: '2026-11-21T18:30:00Z', updatedBy: 'devops' } }) });
    const cooldown = await screen.findByTestId(testIds.policies.field('cooldown_seconds'));
    expect(isDisabled(await screen.findByTestId(testIds.killSwitch.toggle))).toBe(true);
    fireEvent.change(cooldown, { target: { value: '600' } });
    fireEvent.click(screen.getByTestId(testIds.policies.field('dry_run')));
    expect(screen.getByTestId(testIds.policies.dirty).textContent).toBe('changed dry_run, cooldown_seconds');
    fireEvent.click(screen.getByTestId(testIds.policies.save));
    expect((await screen.findByTestId(testIds.policies.saved)).textContent).toMatch(/changed dry_run, cooldown_seconds/);
    const put = svc.calls.find((c) => c.method === 'PUT')!;
    expect([routeOf(put.url), put.data]).toEqual(['editor', { dry_run: true, cooldown_seconds: 600 }]);
  });

  test('Editor: invalid values block saving; the service 400 problems are listed', async () => {
    setup('Editor', 'policies', { 'PUT /policies': () => ({ status: 400, data: { status: 'error', errorType: 'bad_request', error: 'invalid policy', problems: ['sites.x: not a site name'] } }) });
    const n = await screen.findByTestId(testIds.policies.field('modules_per_action'));
    fireEvent.change(n, { target: { value: '9' } });
    expect(document.body.contains(screen.getByText('Must be between 1 and 8'))).toBe(true);
    expect(isDisabled(screen.getByTestId(testIds.policies.save))).toBe(true);
    fireEvent.change(n, { target: { value: '2' } });
    fireEvent.click(screen.getByTestId(testIds.policies.save));
    expect((await screen.findByTestId(testIds.common.error)).textContent).toMatch(/sites.x: not a site name/);
  });

  test('Admin: engages the kill switch with a reason through the admin route', async () => {
    const svc = setup('Admin', 'policies', { 'PUT /kill-switch': (r: HttpRequest) => ({ status: 200, data: { ...(r.data as object), by: 'admin', at: '2026-11-21T18:30:00Z' } }) });
    const toggle = await screen.findByTestId(testIds.killSwitch.toggle);
    expect(isDisabled(toggle)).toBe(false);
    fireEvent.change(screen.getByTestId(testIds.killSwitch.reason), { target: { value: 'drill' } });
    fireEvent.click(toggle);
    fireEvent.click(await screen.findByTestId('data-testid Confirm Modal Danger Button'));
    await waitFor(() => expect(screen.getByTestId(testIds.killSwitch.section).getAttribute('data-enabled')).toBe('true'));
    const put = svc.calls.find((c) => c.method === 'PUT')!;
    expect([routeOf(put.url), put.data]).toEqual(['admin', { enabled: true, reason: 'drill' }]);
  });
});

describe('Configuration page', () => {
  const meta = { id: PLUGIN_ID, jsonData: { serviceUrl: 'http://127.0.0.1:9887' }, secureJsonFields: { serviceToken: true } } as never;

  test('the stored token is shown as configured, never as a value; a new token goes to secureJsonData once', async () => {
    const calls: HttpRequest[] = [];
    const fetcher = async (r: HttpRequest) => {
      calls.push(r);
      if (r.method === 'GET') return { status: 200, data: { jsonData: { serviceUrl: 'http://127.0.0.1:9887' }, secureJsonFields: { serviceToken: true } } };
      return { status: 200, data: { message: 'ok' } };
    };
    render(<AppConfigForm meta={meta} fetcher={fetcher} role="Admin" />);
    const token = screen.getByPlaceholderText('proxy token') as HTMLInputElement;
    expect(token.value).toBe('configured');
    expect(isDisabled(token)).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Reset' }));
    fireEvent.change(screen.getByPlaceholderText('proxy token'), { target: { value: 'new-token-0123456789' } });
    fireEvent.click(screen.getByTestId(testIds.appConfig.save));
    expect((await screen.findByTestId(testIds.appConfig.status)).textContent).toMatch(/Settings saved/);
    expect(calls[0]).toEqual({ method: 'POST', url: '/api/plugins/optifiber-remediation-app/settings', data: { enabled: true, pinned: true, jsonData: { serviceUrl: 'http://127.0.0.1:9887' }, secureJsonData: { serviceToken: 'new-token-0123456789' } } });
    expect((screen.getByPlaceholderText('proxy token') as HTMLInputElement).value).toBe('configured');
    expect(document.body.innerHTML).not.toContain('new-token-0123456789');
  });

  test('Test connection uses the viewer route; non-admins cannot save', async () => {
    const calls: HttpRequest[] = [];
    const fetcher = async (r: HttpRequest) => (calls.push(r), { status: 200, data: { user: 'noc', role: 'Viewer', can: {} } });
    render(<AppConfigForm meta={meta} fetcher={fetcher} role="Editor" />);
    expect(isDisabled(screen.getByTestId(testIds.appConfig.save))).toBe(true);
    fireEvent.click(screen.getByTestId(testIds.appConfig.test));
    expect((await screen.findByTestId(testIds.appConfig.status)).textContent).toMatch(/Connected.*user noc, role Viewer/);
    expect(calls[0]!.url).toBe('/api/plugin-proxy/optifiber-remediation-app/viewer/api/v1/whoami');
  });
});
