// The remediation policy: a pure function from (alert, policy, facts) to a
// decision, so every rule is unit-testable without I/O. Rules, in order (the
// first that matches decides; its reason is audited):
//   1. resolved          a resolved alert never provisions (cancels a pending approval)
//   2. not_remediable    no label remediation="auto"
//   3. no_site           no site label (or not a site name)
//   4. already_resolved  this episode was already seen resolved (out-of-order delivery)
//   5. duplicate         an action already exists for this episode
//                        (episode = fingerprint + startsAt; covers Alertmanager's
//                        at-least-once re-sends, HA pairs and repeat_interval)
//   6. kill_switch       the kill switch is on
//   7. site_busy         another action on this site has not finished
//   8. cooldown          the site had an action less than cooldown ago
//   9. rate_limited      rate_limit_actions actions already sent in rate_limit_window
//                        or waiting for approval (an approval holds its slot)
//  10. site_unknown      the exporter does not report the site
//  11. max_modules       the site would exceed min(max_cmd_modules, the site's own maximum)
// A replayed recording (exporter --replay) is never provisioned: dry_run, reason replay (before 11).
// Nor is a site fed by a network interface (kernel ifaces=): dry_run, reason interface.
// then: dry_run (recorded, never sent), await_approval, or act.
// Rules 6..11 (checkLimits) are checked again, atomically, when an Admin approves.
// Skips 6..11 are transient: the episode stays open, so a later delivery of
// the same episode (repeat_interval) is decided again. Skips 1..5 are final.
import { createHash } from 'node:crypto';

export interface Policy {
  dry_run: boolean;
  approval_required: boolean;
  cooldown_seconds: number;
  max_cmd_modules: number;
  rate_limit_actions: number;
  rate_limit_window_seconds: number;
  modules_per_action: number;
  approval_timeout_seconds: number;
  /** Per-site overrides of cooldown_seconds and max_cmd_modules. */
  sites: Record<string, { cooldown_seconds?: number; max_cmd_modules?: number }>;
}

export interface KillSwitch {
  enabled: boolean;
  reason?: string;
  by?: string;
  at?: string;
}

export interface AlertIn {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface SiteFacts {
  cmdModules: number;
  cmdModulesMax: number;
  capacityBps: number;
  moduleCapacityBps?: number;
  /** The exporter replays a recording: nothing can be provisioned (NaN counts when absent). */
  replay?: boolean;
  /** The site is fed by a network interface (kernel ifaces=): commands are refused there. */
  interface?: boolean;
}

export interface Facts {
  now: number;
  episodeResolved: boolean;
  episodeHasAction: boolean;
  siteBusy: boolean;
  /** ms epoch of the last action started on the site, if any. */
  lastSiteActionAt?: number;
  /** Actions sent in the rate-limit window plus pending approvals. */
  actionsInWindow: number;
  /** From the exporter; undefined = site not reported. */
  site?: SiteFacts;
}

export type Decision =
  | { decision: 'skip'; reason: SkipReason; detail: string; final: boolean }
  | { decision: 'act' | 'dry_run' | 'await_approval'; reason: string; detail: string; count: number };

export type SkipReason =
  | 'resolved'
  | 'not_remediable'
  | 'no_site'
  | 'already_resolved'
  | 'duplicate'
  | 'kill_switch'
  | 'site_busy'
  | 'cooldown'
  | 'rate_limited'
  | 'site_unknown'
  | 'max_modules';

export const SITE_RE = /^[A-Za-z0-9_.-]{1,31}$/;

export const DEFAULT_POLICY: Policy = {
  dry_run: false,
  approval_required: false,
  cooldown_seconds: 900,
  max_cmd_modules: 16,
  rate_limit_actions: 6,
  rate_limit_window_seconds: 3600,
  modules_per_action: 1,
  approval_timeout_seconds: 3600,
  sites: {},
};

/**
 * The episode of an alert: fingerprint + startsAt. Alertmanager prints the
 * fingerprint as lower-case hex, but the schema accepts either case; the same
 * fingerprint in another case is the same alert, so the key is lower-cased
 * (otherwise it would open a second episode and a second MCP job).
 */
export function episodeKey(a: { fingerprint: string; startsAt: string }): string {
  return `${a.fingerprint.toLowerCase()}|${normalizeTime(a.startsAt)}`;
}

/** startsAt as Alertmanager formats it can vary in sub-second digits; normalize to ms ISO. */
export function normalizeTime(t: string): string {
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : t;
}

/** The MCP Idempotency-Key of an episode: stable across retries, restarts and HA duplicates. */
export function idempotencyKey(episode: string): string {
  return `optifiber-rem-${createHash('sha256').update(episode).digest('hex').slice(0, 40)}`;
}

export function siteOf(a: AlertIn): string | undefined {
  const s = a.labels.site;
  return s !== undefined && SITE_RE.test(s) ? s : undefined;
}

export function effective(p: Policy, site: string): { cooldown_seconds: number; max_cmd_modules: number } {
  const o = p.sites[site] ?? {};
  return { cooldown_seconds: o.cooldown_seconds ?? p.cooldown_seconds, max_cmd_modules: o.max_cmd_modules ?? p.max_cmd_modules };
}

export type SkipDecision = Extract<Decision, { decision: 'skip' }>;
const skip = (reason: SkipReason, detail: string, final: boolean): SkipDecision => ({ decision: 'skip', reason, detail, final });

export function decide(a: AlertIn, p: Policy, ks: KillSwitch, f: Facts): Decision {
  if (a.status === 'resolved') return skip('resolved', 'the alert is resolved; a resolved alert never provisions', true);
  if (a.labels.remediation !== 'auto') return skip('not_remediable', `label remediation is ${a.labels.remediation === undefined ? 'absent' : JSON.stringify(a.labels.remediation)}, not "auto"`, true);
  const site = siteOf(a);
  if (!site) return skip('no_site', 'no valid site label', true);
  if (f.episodeResolved) return skip('already_resolved', 'this episode (fingerprint + startsAt) was already reported resolved', true);
  if (f.episodeHasAction) return skip('duplicate', 'an action already exists for this episode (fingerprint + startsAt)', true);
  const count = p.modules_per_action;
  const limited = checkLimits(site, count, p, ks, f);
  if (limited) return limited;
  const what = `add ${count} CMD module(s) to ${site} (${f.site!.cmdModules} -> ${f.site!.cmdModules + count})`;
  if (p.dry_run) return { decision: 'dry_run', reason: 'dry_run', detail: `dry run: would ${what}`, count };
  if (p.approval_required) return { decision: 'await_approval', reason: 'approval_required', detail: `waiting for an Admin to approve: ${what}`, count };
  return { decision: 'act', reason: 'policy_passed', detail: what, count };
}

/**
 * Rules 6..11, the limits: checked when an alert is decided AND again when an
 * Admin approves (the facts then leave the approved action itself out).
 * Returns the skip (or the replay's dry run: nothing can be provisioned on a
 * recording), or undefined when every limit passes.
 */
export function checkLimits(site: string, count: number, p: Policy, ks: KillSwitch, f: Omit<Facts, 'episodeResolved' | 'episodeHasAction'>): Decision | undefined {
  if (ks.enabled) return skip('kill_switch', `kill switch is on${ks.by ? ` (by ${ks.by}` + (ks.reason ? `: ${ks.reason})` : ')') : ''}`, false);
  if (f.siteBusy) return skip('site_busy', `another action on ${site} has not finished`, false);
  const eff = effective(p, site);
  if (f.lastSiteActionAt !== undefined && f.now - f.lastSiteActionAt < eff.cooldown_seconds * 1000) {
    const left = Math.ceil((eff.cooldown_seconds * 1000 - (f.now - f.lastSiteActionAt)) / 1000);
    return skip('cooldown', `${site} is in its ${eff.cooldown_seconds} s cooldown (${left} s left)`, false);
  }
  if (f.actionsInWindow >= p.rate_limit_actions)
    return skip('rate_limited', `${f.actionsInWindow} actions sent in the last ${p.rate_limit_window_seconds} s or waiting for approval (limit ${p.rate_limit_actions})`, false);
  if (!f.site) return skip('site_unknown', `the exporter does not report site ${site}`, false);
  if (f.site.replay) {
    const n = p.modules_per_action;
    return { decision: 'dry_run', reason: 'replay', detail: `dry run: the exporter replays a recording, cmd_add cannot apply to it (would add ${n} CMD module(s) to ${site})`, count: n };
  }
  if (f.site.interface) {
    const n = p.modules_per_action;
    return { decision: 'dry_run', reason: 'interface', detail: `dry run: ${site} is fed by a network interface, cmd_add cannot apply to it (would add ${n} CMD module(s))`, count: n };
  }
  const cap = Math.min(eff.max_cmd_modules, f.site.cmdModulesMax);
  if (f.site.cmdModules + count > cap)
    return skip('max_modules', `${site} has ${f.site.cmdModules} CMD modules; adding ${count} would exceed ${cap} (policy ${eff.max_cmd_modules}, site maximum ${f.site.cmdModulesMax})`, false);
  return undefined;
}

/** Validates a full policy document (PUT /api/v1/policies); returns problems. */
export function validatePolicy(v: unknown): { policy?: Policy; problems: string[] } {
  const problems: string[] = [];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { problems: ['body must be a JSON object'] };
  const o = v as Record<string, unknown>;
  const known = Object.keys(DEFAULT_POLICY);
  for (const k of Object.keys(o)) if (!known.includes(k)) problems.push(`${k}: unknown policy key (known: ${known.join(', ')})`);
  const intIn = (k: string, x: unknown, min: number, max: number) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) problems.push(`${k}: expected an integer ${min}..${max}, got ${JSON.stringify(x)}`);
  };
  const boolean = (k: string, x: unknown) => {
    if (typeof x !== 'boolean') problems.push(`${k}: expected true or false, got ${JSON.stringify(x)}`);
  };
  const p = { ...DEFAULT_POLICY, ...o } as Policy;
  boolean('dry_run', p.dry_run);
  boolean('approval_required', p.approval_required);
  intIn('cooldown_seconds', p.cooldown_seconds, 0, 30 * 86400);
  intIn('max_cmd_modules', p.max_cmd_modules, 1, 64);
  intIn('rate_limit_actions', p.rate_limit_actions, 1, 100_000);
  intIn('rate_limit_window_seconds', p.rate_limit_window_seconds, 1, 30 * 86400);
  intIn('modules_per_action', p.modules_per_action, 1, 8);
  intIn('approval_timeout_seconds', p.approval_timeout_seconds, 1, 30 * 86400);
  if (p.sites === null || typeof p.sites !== 'object' || Array.isArray(p.sites)) problems.push('sites: expected an object keyed by site name');
  else
    for (const [s, ov] of Object.entries(p.sites)) {
      if (!SITE_RE.test(s)) problems.push(`sites.${s.slice(0, 40)}: not a site name`);
      if (ov === null || typeof ov !== 'object' || Array.isArray(ov)) {
        problems.push(`sites.${s}: expected {cooldown_seconds?, max_cmd_modules?}`);
        continue;
      }
      for (const k of Object.keys(ov)) if (k !== 'cooldown_seconds' && k !== 'max_cmd_modules') problems.push(`sites.${s}.${k}: unknown key (cooldown_seconds, max_cmd_modules)`);
      if (ov.cooldown_seconds !== undefined) intIn(`sites.${s}.cooldown_seconds`, ov.cooldown_seconds, 0, 30 * 86400);
      if (ov.max_cmd_modules !== undefined) intIn(`sites.${s}.max_cmd_modules`, ov.max_cmd_modules, 1, 64);
    }
  return problems.length ? { problems } : { policy: p, problems };
}
