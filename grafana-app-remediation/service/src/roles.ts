// The role matrix of the design, defined once: the HTTP layer enforces it,
// GET /api/v1/whoami returns it (the app's Settings page shows and hides its
// controls from it) and docs/remediation-api.md documents it.
//
//   Viewer (NOC)      reads everything
//   Editor (DevOps)   + tightens limits and edits thresholds; never reaches the MCP
//   Admin             + approves/rejects (the only path to the MCP besides the
//                       automatic policy), changes the mode (dry_run,
//                       approval_required), loosens limits, flips the kill switch
//
// Every write needs a named user (X-Grafana-User): an audit entry that says
// "grafana-admin" names nobody, so such a request is refused.
import type { Policy } from './policy.js';

export const ROLES = ['Viewer', 'Editor', 'Admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  read: 'Viewer',
  editThresholds: 'Editor',
  changeMode: 'Admin',
  raiseLimits: 'Admin',
  approve: 'Admin',
  killSwitch: 'Admin',
} as const satisfies Record<string, Role>;
export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, p: Permission): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(PERMISSIONS[p]);
}

/** What each permission means, for whoami and the docs. */
export function capabilities(role: Role): Record<Permission, boolean> {
  return Object.fromEntries(Object.keys(PERMISSIONS).map((p) => [p, can(role, p as Permission)])) as Record<Permission, boolean>;
}

/**
 * The permission a policy change needs beyond editThresholds: changeMode when
 * dry_run or approval_required changes, raiseLimits when any limit gets looser
 * (a higher max or count, a shorter cooldown or window, a per-site override
 * removed or loosened). Returns the list of loosening changes, for the 403.
 */
export function policyChangeNeeds(before: Policy, after: Policy): { mode: string[]; loosened: string[] } {
  const mode = (['dry_run', 'approval_required'] as const).filter((k) => before[k] !== after[k]).map((k) => `${k} ${before[k]} -> ${after[k]}`);
  const loosened: string[] = [];
  const higher = (k: string, a: number, b: number) => b > a && loosened.push(`${k} ${a} -> ${b}`);
  const lower = (k: string, a: number, b: number) => b < a && loosened.push(`${k} ${a} -> ${b}`);
  higher('max_cmd_modules', before.max_cmd_modules, after.max_cmd_modules);
  higher('rate_limit_actions', before.rate_limit_actions, after.rate_limit_actions);
  higher('modules_per_action', before.modules_per_action, after.modules_per_action);
  lower('cooldown_seconds', before.cooldown_seconds, after.cooldown_seconds);
  lower('rate_limit_window_seconds', before.rate_limit_window_seconds, after.rate_limit_window_seconds);
  // Per-site values compared as effective values, so adding, changing or removing an override is covered.
  const sites = new Set([...Object.keys(before.sites), ...Object.keys(after.sites)]);
  for (const s of sites) {
    const b = before.sites[s] ?? {};
    const a = after.sites[s] ?? {};
    higher(`sites.${s}.max_cmd_modules`, b.max_cmd_modules ?? before.max_cmd_modules, a.max_cmd_modules ?? after.max_cmd_modules);
    lower(`sites.${s}.cooldown_seconds`, b.cooldown_seconds ?? before.cooldown_seconds, a.cooldown_seconds ?? after.cooldown_seconds);
  }
  return { mode, loosened };
}
