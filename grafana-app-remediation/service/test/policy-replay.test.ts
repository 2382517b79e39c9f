// A replayed recording (exporter --replay) is never provisioned: the policy
// records a dry run with reason "replay", whatever the policy's own mode.
import { DEFAULT_POLICY, decide, type AlertIn, type Facts } from '../src/policy.js';

const alert: AlertIn = {
  status: 'firing',
  labels: { alertname: 'OptiFiberCapacityForecastHigh', site: 'uk-backbone', remediation: 'auto' },
  annotations: {},
  startsAt: '2026-12-06T10:00:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: '',
  fingerprint: 'f00d',
};
const facts = (site: Facts['site']): Facts => ({ now: Date.parse('2026-12-06T10:00:01Z'), episodeResolved: false, episodeHasAction: false, siteBusy: false, actionsInWindow: 0, ...(site ? { site } : {}) });

test('a replayed site dry-runs with reason replay, even with module fields absent (NaN)', () => {
  const d = decide(alert, DEFAULT_POLICY, { enabled: false }, facts({ cmdModules: NaN, cmdModulesMax: NaN, capacityBps: NaN, replay: true }));
  expect(d).toMatchObject({ decision: 'dry_run', reason: 'replay', count: 1 });
  expect(d.detail).toMatch(/replays a recording/);
});

test('the same alert on a live site acts', () => {
  const d = decide(alert, DEFAULT_POLICY, { enabled: false }, facts({ cmdModules: 2, cmdModulesMax: 16, capacityBps: 8e11 }));
  expect(d).toMatchObject({ decision: 'act', reason: 'policy_passed' });
});

test('rules before it still win: kill switch, not remediable', () => {
  expect(decide(alert, DEFAULT_POLICY, { enabled: true }, facts({ cmdModules: NaN, cmdModulesMax: NaN, capacityBps: NaN, replay: true }))).toMatchObject({ decision: 'skip', reason: 'kill_switch' });
  const plain = { ...alert, labels: { ...alert.labels, remediation: 'none' } };
  expect(decide(plain, DEFAULT_POLICY, { enabled: false }, facts({ cmdModules: 1, cmdModulesMax: 16, capacityBps: 1, replay: true }))).toMatchObject({ decision: 'skip', reason: 'not_remediable' });
});

test('a site fed by a network interface dry-runs with reason interface, module fields absent (NaN)', () => {
  const d = decide(alert, DEFAULT_POLICY, { enabled: false }, facts({ cmdModules: NaN, cmdModulesMax: NaN, capacityBps: NaN, interface: true }));
  expect(d).toMatchObject({ decision: 'dry_run', reason: 'interface', count: 1 });
  expect(d.detail).toMatch(/network interface/);
  expect(decide(alert, DEFAULT_POLICY, { enabled: true }, facts({ cmdModules: NaN, cmdModulesMax: NaN, capacityBps: NaN, interface: true }))).toMatchObject({ decision: 'skip', reason: 'kill_switch' });
});
