// The design's permission matrix, used to hide/disable what a role cannot do.
// The service enforces the same matrix (403), this only keeps the UI honest.
import type { Capabilities, Role } from './types.js';

const RANK: Record<Role, number> = { Viewer: 0, Editor: 1, Admin: 2 };

export function capabilities(role: Role | undefined): Capabilities {
  const r = role ? RANK[role] : -1;
  return { read: r >= 0, editThresholds: r >= RANK.Editor, changeMode: r >= RANK.Admin, raiseLimits: r >= RANK.Admin, approve: r >= RANK.Admin, killSwitch: r >= RANK.Admin, editPolicies: r >= RANK.Editor };
}

export function atLeast(role: Role | undefined, min: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[min];
}

/**
 * Grafana org role -> the role the plugin routes grant; undefined = no access ("None").
 * Grafana checks a route's reqRole against the ORG role only
 * (signedInUser.GetOrgRole().Includes(reqRole)): a server admin whose org role is
 * Viewer gets the viewer route only, so the UI uses the org role too.
 */
export function effectiveRole(orgRole: string | undefined): Role | undefined {
  return orgRole === 'Admin' || orgRole === 'Editor' || orgRole === 'Viewer' ? orgRole : undefined;
}

export function whyNot(need: Role, role: Role | undefined): string {
  return `Needs the ${need} role${role ? ` (you are ${role})` : ''}`;
}
