import {
  auditFilterParams,
  csvField,
  EMPTY_AUDIT_FILTER,
  mcpJobUrl,
  parseAuditFilter,
  toAuditQuery,
  toCsv,
  actionOutcome, capacityChange, EMPTY_FILTER, filterParams, formatAge, formatDuration, pageFromPath, parseFilter, policyPatch, safeExternalUrl,
  settingsPayload, settingsProblems, siteDashboardUrl, siteProblem, splitHealthError, toActionFilter, toForm, validateForm,
} from '../src/logic.js';
import { PLUGIN_BASE_URL, PLUGIN_ID } from '../src/constants.js';
import { atLeast, capabilities, effectiveRole } from '../src/roles.js';
import { action, POLICY } from './fixtures.js';

describe('links', () => {
  test('site dashboard (uid optifiber-site, var-site), under a Grafana sub path', () => {
    expect(siteDashboardUrl('paris-1')).toBe('/d/optifiber-site?var-site=paris-1');
    expect(siteDashboardUrl('a b&c', '/grafana/')).toBe('/grafana/d/optifiber-site?var-site=a%20b%26c');
  });
  test('generatorURL only as an absolute http(s) link', () => {
    expect(safeExternalUrl('http://127.0.0.1:9090/graph?g0.expr=up')).toBe('http://127.0.0.1:9090/graph?g0.expr=up');
    expect(safeExternalUrl('javascript:alert(1)')).toBeUndefined();
    expect(safeExternalUrl('/relative')).toBeUndefined();
    expect(safeExternalUrl(null)).toBeUndefined();
  });
});

describe('history filters', () => {
  test('parsed from and written to the URL; unknown values ignored', () => {
    const f = parseFilter(new URLSearchParams('site=paris-1&result=failed&state=bogus&mode=auto&range=24h&x=1'));
    expect(f).toEqual({ site: 'paris-1', result: 'failed', state: '', mode: 'auto', range: '24h' });
    expect(filterParams(f).toString()).toBe('site=paris-1&result=failed&mode=auto&range=24h');
    expect(filterParams(EMPTY_FILTER).toString()).toBe('');
    expect(parseFilter(new URLSearchParams('site=not%20a%20site')).site).toBe('');
  });
  test('to the API filter: since from the range, a page size, paging', () => {
    const now = Date.parse('2026-11-21T12:00:00Z');
    expect(toActionFilter({ ...EMPTY_FILTER, range: '1h', site: ' lyon-2 ' }, now, 40)).toEqual({ limit: 50, site: 'lyon-2', since: '2026-11-21T11:00:00.000Z', beforeId: 40 });
    expect(toActionFilter({ ...EMPTY_FILTER, range: 'all', result: 'dry_run' }, now)).toEqual({ limit: 50, result: 'dry_run' });
  });
  test('site names are checked like the service does', () => {
    expect(siteProblem('')).toBeUndefined();
    expect(siteProblem('paris-1')).toBeUndefined();
    expect(siteProblem('no spaces')).toMatch(/1-31 characters/);
    expect(siteProblem('x'.repeat(32))).toMatch(/1-31/);
  });
});

describe('action presentation', () => {
  test('outcome text and tone by state and result', () => {
    expect(actionOutcome({ state: 'done', result: 'succeeded' })).toEqual({ text: 'succeeded', tone: 'green' });
    expect(actionOutcome({ state: 'done', result: 'failed' })).toEqual({ text: 'failed', tone: 'red' });
    expect(actionOutcome({ state: 'done', result: 'dry_run' })).toEqual({ text: 'dry run', tone: 'purple' });
    expect(actionOutcome({ state: 'pending_approval', result: null })).toEqual({ text: 'awaiting approval', tone: 'orange' });
    expect(actionOutcome({ state: 'job_succeeded', result: null })).toEqual({ text: 'in progress (job succeeded)', tone: 'blue' });
  });
  test('capacity change', () => {
    expect(capacityChange(action())).toBe('4 → 5 CMD');
    expect(capacityChange(action({ after: null }))).toBe('4 → 5? CMD');
    expect(capacityChange(action({ baseline: null, after: null, count: 2 }))).toBe('+2 CMD');
  });
  test('durations, ages, health errors', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(900)).toBe('15m');
    expect(formatDuration(3700)).toBe('1h 1m');
    expect(formatDuration(2 * 86400 + 3600)).toBe('2d 1h');
    expect(formatDuration(-1)).toBe('-');
    const now = Date.parse('2026-11-21T12:00:00Z');
    expect(formatAge('2026-11-21T11:59:30Z', now)).toBe('30s ago');
    expect(formatAge('2026-11-21T13:00:00Z', now)).toBe('in 1h');
    expect(formatAge(null, now)).toBe('-');
    expect(splitHealthError('2026-11-21T18:00:00.000Z MCP 503: unavailable')).toEqual({ at: '2026-11-21T18:00:00.000Z', message: 'MCP 503: unavailable' });
    expect(splitHealthError(undefined)).toEqual({});
  });
});

describe('policy form', () => {
  test('round trip: an untouched form is valid and changes nothing', () => {
    const r = validateForm(toForm(POLICY));
    expect(r.problems).toEqual({});
    expect(r.policy).toEqual(POLICY);
    expect(policyPatch(POLICY, r.policy!)).toEqual({});
  });
  test('the patch has only the changed keys (sites as a whole)', () => {
    const f = toForm(POLICY);
    f.numbers.cooldown_seconds = '600';
    f.dry_run = true;
    f.sites.push({ site: 'oslo-5', cooldown_seconds: '', max_cmd_modules: '8' });
    const r = validateForm(f);
    expect(policyPatch(POLICY, r.policy!)).toEqual({ dry_run: true, cooldown_seconds: 600, sites: { 'berlin-3': { cooldown_seconds: 1800 }, 'oslo-5': { max_cmd_modules: 8 } } });
  });
  test("the service's bounds, whole numbers, site rows", () => {
    const f = toForm(POLICY);
    f.numbers.modules_per_action = '9';
    f.numbers.max_cmd_modules = '0';
    f.numbers.cooldown_seconds = '1.5';
    f.numbers.rate_limit_actions = '';
    f.sites = [
      { site: 'bad site', cooldown_seconds: '10', max_cmd_modules: '' },
      { site: 'lyon-2', cooldown_seconds: '', max_cmd_modules: '65' },
      { site: 'lyon-2', cooldown_seconds: '5', max_cmd_modules: '' },
      { site: 'oslo-5', cooldown_seconds: '', max_cmd_modules: '' },
    ];
    const r = validateForm(f);
    expect(r.policy).toBeUndefined();
    expect(r.problems).toEqual({
      modules_per_action: 'Must be between 1 and 8',
      max_cmd_modules: 'Must be between 1 and 64',
      cooldown_seconds: 'Enter a whole number 0..2592000',
      rate_limit_actions: 'Enter a whole number 1..100000',
      'sites.0.site': expect.stringMatching(/Site name/),
      'sites.1.max_cmd_modules': 'Must be between 1 and 64',
      'sites.2.site': 'lyon-2 is listed twice',
      'sites.3.cooldown_seconds': 'Set a cooldown or a maximum (or remove the row)',
    });
  });
});

describe('configuration page logic', () => {
  test('URL and token checks; the token is required only until configured', () => {
    expect(settingsProblems({ serviceUrl: 'http://127.0.0.1:9887', token: '', tokenConfigured: true })).toEqual({});
    expect(settingsProblems({ serviceUrl: '', token: '', tokenConfigured: false })).toEqual({ serviceUrl: 'The service URL is required', token: expect.stringMatching(/required/) });
    expect(settingsProblems({ serviceUrl: 'ftp://x', token: 't', tokenConfigured: false }).serviceUrl).toMatch(/http\(s\)/);
    expect(settingsProblems({ serviceUrl: 'http://h:1/api/v1', token: 't', tokenConfigured: false }).serviceUrl).toMatch(/base URL only/);
    expect(settingsProblems({ serviceUrl: 'http://h:1', token: 'a b', tokenConfigured: false }).token).toMatch(/spaces/);
  });
  test('payload: jsonData.serviceUrl; secureJsonData only when a new token was typed', () => {
    expect(settingsPayload({ serviceUrl: ' http://h:9887/ ', token: '', tokenConfigured: true }, { other: 1 })).toEqual({ enabled: true, pinned: true, jsonData: { other: 1, serviceUrl: 'http://h:9887' } });
    expect(settingsPayload({ serviceUrl: 'http://h:9887', token: ' s3cret ', tokenConfigured: true })).toEqual({ enabled: true, pinned: true, jsonData: { serviceUrl: 'http://h:9887' }, secureJsonData: { serviceToken: 's3cret' } });
  });
});

describe('roles and navigation', () => {
  test("the design's matrix", () => {
    const none = { read: false, editThresholds: false, changeMode: false, raiseLimits: false, editPolicies: false, approve: false, killSwitch: false };
    expect(capabilities('Viewer')).toEqual({ ...none, read: true });
    expect(capabilities('Editor')).toEqual({ ...none, read: true, editThresholds: true, editPolicies: true });
    expect(capabilities('Admin')).toEqual({ read: true, editThresholds: true, changeMode: true, raiseLimits: true, editPolicies: true, approve: true, killSwitch: true });
    expect(capabilities(undefined)).toEqual(none);
    expect(atLeast('Editor', 'Viewer')).toBe(true);
    expect(atLeast('Editor', 'Admin')).toBe(false);
  });
  test("Grafana org role -> route role ('None' gets nothing)", () => {
    expect(effectiveRole('Editor')).toBe('Editor');
    expect(effectiveRole('Admin')).toBe('Admin');
    expect(effectiveRole('None')).toBeUndefined();
    expect(effectiveRole(undefined)).toBeUndefined();
  });
  test('page from the path', () => {
    expect(pageFromPath(`${PLUGIN_BASE_URL}/history`, PLUGIN_ID)).toBe('history');
    expect(pageFromPath(`${PLUGIN_BASE_URL}/policies/x`, PLUGIN_ID)).toBe('policies');
    expect(pageFromPath(PLUGIN_BASE_URL, PLUGIN_ID)).toBe('overview');
    expect(pageFromPath(`${PLUGIN_BASE_URL}/nope`, PLUGIN_ID)).toBe('overview');
  });
});

describe('CSV export, MCP job links, audit filters', () => {
  test('CSV: RFC 4180 quoting, and spreadsheet formulas neutralised', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"\nbye')).toBe('"say ""hi""\nbye"');
    expect(csvField('=HYPERLINK("http://evil")')).toBe('"\'=HYPERLINK(""http://evil"")"');
    expect(csvField('-1+2')).toBe("'-1+2");
    expect(csvField(null)).toBe('');
    expect(csvField({ a: 1 })).toBe('"{""a"":1}"');
    expect(toCsv([{ x: 1, y: 'a,b' }], [{ name: 'x', value: (r) => r.x }, { name: 'y', value: (r) => r.y }])).toBe('x,y\r\n1,"a,b"\r\n');
  });
  test('MCP job link: the MCP\'s job resource, http(s) only, id encoded', () => {
    expect(mcpJobUrl('http://127.0.0.1:9890/', 'job 1')).toBe('http://127.0.0.1:9890/api/v1/provisioning/jobs/job%201');
    expect(mcpJobUrl('javascript:alert(1)//', 'j')).toBeUndefined();
    expect(mcpJobUrl(undefined, 'j')).toBeUndefined();
    expect(mcpJobUrl('http://m', null)).toBeUndefined();
  });
  test('audit filter: from and to the URL, unknown values dropped, time range to since', () => {
    const f = parseAuditFilter(new URLSearchParams('site=Dallas&kind=policy&range=24h'));
    expect(f).toEqual({ site: 'Dallas', kind: 'policy', range: '24h' });
    expect(auditFilterParams(f).toString()).toBe('site=Dallas&kind=policy&range=24h');
    expect(parseAuditFilter(new URLSearchParams('site=a%20b&kind=%27or1&range=1y'))).toEqual(EMPTY_AUDIT_FILTER);
    expect(toAuditQuery(f, Date.UTC(2026, 0, 2))).toEqual({ limit: 50, site: 'Dallas', kind: 'policy', since: '2026-01-01T00:00:00.000Z' });
  });
});
