// Page logic without React: history filters and links, action outcome labels,
// the policy form (validation with the service's bounds, minimal PUT patches).
import type { Action, ActionFilter, ActionMode, ActionResult, ActionState, AuditEntry, AuditQuery, Policy, ThresholdChange } from './types.js';
import { ACTION_MODES, ACTION_RESULTS, ACTION_STATES } from './types.js';

/** The service's site-name rule (service/src/policy.ts SITE_RE). */
export const SITE_RE = /^[A-Za-z0-9_.-]{1,31}$/;
export const SITE_DASHBOARD_UID = 'optifiber-site';

/** The site dashboard for one site, under Grafana's sub path if any. */
export function siteDashboardUrl(site: string, subUrl = ''): string {
  return `${subUrl.replace(/\/+$/, '')}/d/${SITE_DASHBOARD_UID}?var-site=${encodeURIComponent(site)}`;
}

/** An alert's generatorURL as a link target, only when it is an absolute http(s) URL (never javascript: etc.). */
export function safeExternalUrl(u: string | null | undefined): string | undefined {
  if (!u) return undefined;
  try {
    const p = new URL(u);
    return p.protocol === 'http:' || p.protocol === 'https:' ? p.toString() : undefined;
  } catch {
    return undefined;
  }
}

// ---- history filters --------------------------------------------------------

export type TimeRange = '1h' | '24h' | '7d' | '30d' | 'all';
export const TIME_RANGES: ReadonlyArray<{ value: TimeRange; label: string; ms?: number }> = [
  { value: '1h', label: 'Last hour', ms: 3_600_000 },
  { value: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { value: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
  { value: 'all', label: 'All time' },
];

export interface HistoryFilter {
  site: string;
  result: ActionResult | '';
  state: ActionState | '';
  mode: ActionMode | '';
  range: TimeRange;
}
export const EMPTY_FILTER: HistoryFilter = { site: '', result: '', state: '', mode: '', range: '7d' };
export const PAGE_SIZE = 50;

const oneOf = <T extends string>(v: string | null, values: readonly T[]): T | '' => (v && (values as readonly string[]).includes(v) ? (v as T) : '');

/** Filter from the page URL (?site=&result=&state=&mode=&range=), unknown values ignored. */
export function parseFilter(params: URLSearchParams): HistoryFilter {
  const range = TIME_RANGES.find((r) => r.value === params.get('range'))?.value ?? EMPTY_FILTER.range;
  const site = params.get('site') ?? '';
  return {
    site: SITE_RE.test(site) ? site : '',
    result: oneOf(params.get('result'), ACTION_RESULTS),
    state: oneOf(params.get('state'), ACTION_STATES),
    mode: oneOf(params.get('mode'), ACTION_MODES),
    range,
  };
}

/** URL parameters for a filter (defaults left out), to keep a filtered view shareable. */
export function filterParams(f: HistoryFilter): URLSearchParams {
  const p = new URLSearchParams();
  if (f.site) p.set('site', f.site);
  if (f.result) p.set('result', f.result);
  if (f.state) p.set('state', f.state);
  if (f.mode) p.set('mode', f.mode);
  if (f.range !== EMPTY_FILTER.range) p.set('range', f.range);
  return p;
}

/** Problem with the site field, if any (checked before asking the service, which answers 400). */
export function siteProblem(site: string): string | undefined {
  const s = site.trim();
  return s && !SITE_RE.test(s) ? 'A site name is 1-31 characters of letters, digits, "_", "." or "-"' : undefined;
}

export function toActionFilter(f: HistoryFilter, now: number, beforeId?: number): ActionFilter {
  const out: ActionFilter = { limit: PAGE_SIZE };
  const site = f.site.trim();
  if (site) out.site = site;
  if (f.result) out.result = f.result;
  if (f.state) out.state = f.state;
  if (f.mode) out.mode = f.mode;
  const ms = TIME_RANGES.find((r) => r.value === f.range)?.ms;
  if (ms) out.since = new Date(now - ms).toISOString();
  if (beforeId !== undefined) out.beforeId = beforeId;
  return out;
}

// ---- action presentation ----------------------------------------------------

export type Tone = 'green' | 'red' | 'orange' | 'blue' | 'purple' | 'gray';
export interface Outcome {
  text: string;
  tone: Tone;
}

const RESULT_TONE: Record<ActionResult, Tone> = {
  succeeded: 'green',
  failed: 'red',
  unverified: 'orange',
  dry_run: 'purple',
  rejected: 'gray',
  cancelled: 'gray',
  expired: 'gray',
  skipped: 'gray',
  aborted: 'orange',
};

export function actionOutcome(a: Pick<Action, 'state' | 'result'>): Outcome {
  if (a.state === 'done') return a.result ? { text: a.result.replace('_', ' '), tone: RESULT_TONE[a.result] } : { text: 'done', tone: 'gray' };
  if (a.state === 'pending_approval') return { text: 'awaiting approval', tone: 'orange' };
  return { text: `in progress (${a.state.replace('_', ' ')})`, tone: 'blue' };
}

/** "4 → 5 CMD" from the baseline and verified capacity (or the planned count while in flight). */
export function capacityChange(a: Pick<Action, 'baseline' | 'after' | 'count'>): string {
  const b = a.baseline?.cmdModules;
  const after = a.after?.cmdModules;
  if (b !== undefined && after !== undefined) return `${b} → ${after} CMD`;
  if (b !== undefined) return `${b} → ${b + a.count}? CMD`;
  return `+${a.count} CMD`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds === 0) return '0s';
  const parts: string[] = [];
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s && !d) parts.push(`${s}s`);
  return parts.slice(0, 2).join(' ');
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : iso;
}

export function formatAge(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const s = Math.round((now - t) / 1000);
  return s >= 0 ? `${formatDuration(Math.max(s, 1))} ago` : `in ${formatDuration(-s)}`;
}

/** "2026-11-21T18:00:00Z boom" (the service's lastError format) -> { at, message }. */
export function splitHealthError(e: string | undefined): { at?: string; message?: string } {
  if (!e) return {};
  const m = /^(\d{4}-\d\d-\d\dT\S+)\s+(.*)$/s.exec(e);
  return m ? { at: m[1], message: m[2] } : { message: e };
}

// ---- policy form ------------------------------------------------------------

export type NumericKey = 'cooldown_seconds' | 'max_cmd_modules' | 'rate_limit_actions' | 'rate_limit_window_seconds' | 'modules_per_action' | 'approval_timeout_seconds';

/** The service's bounds (service/src/policy.ts validatePolicy). */
export const POLICY_FIELDS: ReadonlyArray<{ key: NumericKey; label: string; min: number; max: number; unit: 'seconds' | 'modules' | 'actions'; description: string }> = [
  { key: 'cooldown_seconds', label: 'Cooldown per site', min: 0, max: 30 * 86400, unit: 'seconds', description: 'Minimum time between two actions on the same site.' },
  { key: 'max_cmd_modules', label: 'Maximum CMD modules per site', min: 1, max: 64, unit: 'modules', description: "Never provision beyond this many modules (also capped by the site's own maximum)." },
  { key: 'modules_per_action', label: 'Modules per action', min: 1, max: 8, unit: 'modules', description: 'CMD modules added by one action.' },
  { key: 'rate_limit_actions', label: 'Global rate limit', min: 1, max: 100_000, unit: 'actions', description: 'At most this many actions in the rate-limit window, all sites together.' },
  { key: 'rate_limit_window_seconds', label: 'Rate-limit window', min: 1, max: 30 * 86400, unit: 'seconds', description: 'The window of the global rate limit.' },
  { key: 'approval_timeout_seconds', label: 'Approval timeout', min: 1, max: 30 * 86400, unit: 'seconds', description: 'A pending approval expires after this long.' },
];

export interface SiteOverrideRow {
  site: string;
  cooldown_seconds: string;
  max_cmd_modules: string;
}

export interface PolicyForm {
  dry_run: boolean;
  approval_required: boolean;
  numbers: Record<NumericKey, string>;
  sites: SiteOverrideRow[];
}

export function toForm(p: Policy): PolicyForm {
  const numbers = Object.fromEntries(POLICY_FIELDS.map((f) => [f.key, String(p[f.key])])) as Record<NumericKey, string>;
  const sites = Object.entries(p.sites ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([site, o]) => ({ site, cooldown_seconds: o.cooldown_seconds === undefined ? '' : String(o.cooldown_seconds), max_cmd_modules: o.max_cmd_modules === undefined ? '' : String(o.max_cmd_modules) }));
  return { dry_run: p.dry_run, approval_required: p.approval_required, numbers, sites };
}

function intIn(v: string, min: number, max: number): number | string {
  const s = v.trim();
  if (!/^-?\d+$/.test(s)) return `Enter a whole number ${min}..${max}`;
  const n = Number(s);
  return n < min || n > max ? `Must be between ${min} and ${max}` : n;
}

export interface FormResult {
  /** The complete policy the form describes, when valid. */
  policy?: Policy;
  /** Field -> problem ("cooldown_seconds", "sites.2.site", ...). */
  problems: Record<string, string>;
}

export function validateForm(f: PolicyForm): FormResult {
  const problems: Record<string, string> = {};
  const out: Partial<Policy> = { dry_run: f.dry_run, approval_required: f.approval_required };
  const sites: Policy['sites'] = {};
  for (const def of POLICY_FIELDS) {
    const v = intIn(f.numbers[def.key], def.min, def.max);
    if (typeof v === 'string') problems[def.key] = v;
    else out[def.key] = v;
  }
  const seen = new Set<string>();
  f.sites.forEach((row, i) => {
    const site = row.site.trim();
    if (!SITE_RE.test(site)) problems[`sites.${i}.site`] = 'Site name: 1-31 characters of letters, digits, "_", "." or "-"';
    else if (seen.has(site)) problems[`sites.${i}.site`] = `${site} is listed twice`;
    seen.add(site);
    const o: { cooldown_seconds?: number; max_cmd_modules?: number } = {};
    if (row.cooldown_seconds.trim() !== '') {
      const v = intIn(row.cooldown_seconds, 0, 30 * 86400);
      if (typeof v === 'string') problems[`sites.${i}.cooldown_seconds`] = v;
      else o.cooldown_seconds = v;
    }
    if (row.max_cmd_modules.trim() !== '') {
      const v = intIn(row.max_cmd_modules, 1, 64);
      if (typeof v === 'string') problems[`sites.${i}.max_cmd_modules`] = v;
      else o.max_cmd_modules = v;
    }
    if (o.cooldown_seconds === undefined && o.max_cmd_modules === undefined && !problems[`sites.${i}.cooldown_seconds`] && !problems[`sites.${i}.max_cmd_modules`])
      problems[`sites.${i}.cooldown_seconds`] = 'Set a cooldown or a maximum (or remove the row)';
    sites[site] = o;
  });
  out.sites = sites;
  return Object.keys(problems).length ? { problems } : { policy: out as Policy, problems };
}

/** Only the keys that changed (the service merges a partial PUT onto the stored policy). */
export function policyPatch(before: Policy, after: Policy): Partial<Policy> {
  const patch: Partial<Policy> = {};
  for (const k of Object.keys(after) as Array<keyof Policy>) {
    if (JSON.stringify(canonical(before[k])) !== JSON.stringify(canonical(after[k]))) (patch as Record<string, unknown>)[k] = after[k];
  }
  return patch;
}

function canonical(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
}

/** Human summary of a patch for the confirmation/success message. */
export function describePatch(p: Partial<Policy>): string {
  const keys = Object.keys(p);
  return keys.length ? `changed ${keys.join(', ')}` : 'no changes';
}

// ---- app navigation ---------------------------------------------------------

// Grafana draws the app's navigation from plugin.json `includes` (pages with
// addToNav); this is only the page id -> component side, checked against
// plugin.json by test/plugin.test.ts.
export type PageId = 'overview' | 'history' | 'policies' | 'settings' | 'audit';
export const PAGES: ReadonlyArray<{ id: PageId; title: string }> = [
  { id: 'overview', title: 'Overview' },
  { id: 'history', title: 'History' },
  { id: 'policies', title: 'Policies' },
  { id: 'settings', title: 'Settings' },
  { id: 'audit', title: 'Audit' },
];

/** /a/<plugin id>/<page>[/...] -> page id (overview by default). */
export function pageFromPath(pathname: string, pluginId: string): PageId {
  const m = new RegExp(`/a/${pluginId}/([^/?#]+)`).exec(pathname);
  const id = m?.[1];
  return PAGES.some((p) => p.id === id) ? (id as PageId) : 'overview';
}

// ---- threshold form ------------------------------------------------------------

export interface ThresholdForm { scope: string; threshold: string; value: string; reason: string }

/** The change the form describes, or its problems by field (the service checks again and says why). */
export function thresholdChange(f: ThresholdForm, defs: ReadonlyArray<{ key: string; label: string; min: number; max: number; unit: string }>): { change?: ThresholdChange; problems: Partial<Record<keyof ThresholdForm, string>> } {
  const problems: Partial<Record<keyof ThresholdForm, string>> = {};
  const scope = f.scope.trim();
  if (scope !== 'fleet' && !SITE_RE.test(scope)) problems.scope = 'Write fleet, or a site name (1-31 letters, digits, "_", "." or "-")';
  const def = defs.find((d) => d.key === f.threshold);
  if (!def) problems.threshold = 'Choose a threshold';
  const v = f.value.trim();
  let value: number | null = null;
  if (v !== '') {
    value = Number(v);
    if (!Number.isFinite(value)) problems.value = 'Enter a number, or leave empty to remove the value';
    else if (def && (value < def.min || value > def.max)) problems.value = `${def.label} must be between ${def.min} and ${def.max} ${def.unit}`;
  }
  if (f.reason.trim().length < 3) problems.reason = 'Say why (at least 3 characters): it goes to the audit log';
  return Object.keys(problems).length ? { problems } : { change: { scope, threshold: f.threshold, value, reason: f.reason.trim() }, problems };
}

// ---- MCP jobs ------------------------------------------------------------------

/** The MCP's own record of a provisioning job (GET /api/v1/provisioning/jobs/{id}), http(s) only. */
export function mcpJobUrl(mcpBase: string | undefined, jobId: string | null): string | undefined {
  if (!mcpBase || !jobId) return undefined;
  return safeExternalUrl(`${mcpBase.replace(/\/+$/, '')}/api/v1/provisioning/jobs/${encodeURIComponent(jobId)}`);
}

// ---- CSV export ---------------------------------------------------------------

/** RFC 4180 field; cells a spreadsheet would run as a formula (=, +, -, @) get a leading quote. */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv<T>(rows: readonly T[], columns: ReadonlyArray<{ name: string; value: (r: T) => unknown }>): string {
  return [columns.map((c) => csvField(c.name)).join(','), ...rows.map((r) => columns.map((c) => csvField(c.value(r))).join(','))].join('\r\n') + '\r\n';
}

export const ACTION_CSV: ReadonlyArray<{ name: string; value: (a: Action) => unknown }> = [
  { name: 'id', value: (a) => a.id },
  { name: 'created_at', value: (a) => a.createdAt },
  { name: 'site', value: (a) => a.site },
  { name: 'alertname', value: (a) => a.alertname },
  { name: 'mode', value: (a) => a.mode },
  { name: 'state', value: (a) => a.state },
  { name: 'result', value: (a) => a.result },
  { name: 'cmd_before', value: (a) => a.baseline?.cmdModules },
  { name: 'cmd_after', value: (a) => a.after?.cmdModules },
  { name: 'job_id', value: (a) => a.jobId },
  { name: 'approved_by', value: (a) => a.approvedBy },
  { name: 'reason', value: (a) => a.reason },
  { name: 'finished_at', value: (a) => a.finishedAt },
];

export const AUDIT_CSV: ReadonlyArray<{ name: string; value: (e: AuditEntry) => unknown }> = [
  { name: 'id', value: (e) => e.id },
  { name: 'ts', value: (e) => e.ts },
  { name: 'kind', value: (e) => e.kind },
  { name: 'action_id', value: (e) => e.actionId },
  { name: 'site', value: (e) => e.site },
  { name: 'decision', value: (e) => e.decision },
  { name: 'reason', value: (e) => e.reason },
  { name: 'actor', value: (e) => e.actor },
  { name: 'details', value: (e) => e.details },
];

// ---- audit filters -----------------------------------------------------------

/** What the audit log records (service: decisions, action steps, approvals, policy, kill switch, thresholds). */
export const AUDIT_KINDS = ['decision', 'step', 'approval', 'policy', 'kill_switch', 'threshold'] as const;
export interface AuditFilterForm {
  site: string;
  kind: string;
  range: TimeRange;
}
export const EMPTY_AUDIT_FILTER: AuditFilterForm = { site: '', kind: '', range: '7d' };

export function parseAuditFilter(params: URLSearchParams): AuditFilterForm {
  const site = params.get('site') ?? '';
  const kind = params.get('kind') ?? '';
  return {
    site: SITE_RE.test(site) ? site : '',
    kind: /^[A-Za-z0-9_.-]{1,64}$/.test(kind) ? kind : '',
    range: TIME_RANGES.find((r) => r.value === params.get('range'))?.value ?? EMPTY_AUDIT_FILTER.range,
  };
}

export function auditFilterParams(f: AuditFilterForm): URLSearchParams {
  const p = new URLSearchParams();
  if (f.site) p.set('site', f.site);
  if (f.kind) p.set('kind', f.kind);
  if (f.range !== EMPTY_AUDIT_FILTER.range) p.set('range', f.range);
  return p;
}

export function toAuditQuery(f: AuditFilterForm, now: number, beforeId?: number): AuditQuery {
  const out: AuditQuery = { limit: PAGE_SIZE };
  if (f.site.trim()) out.site = f.site.trim();
  if (f.kind) out.kind = f.kind;
  const ms = TIME_RANGES.find((r) => r.value === f.range)?.ms;
  if (ms) out.since = new Date(now - ms).toISOString();
  if (beforeId !== undefined) out.beforeId = beforeId;
  return out;
}

// ---- configuration page -----------------------------------------------------

export interface SettingsDraft {
  serviceUrl: string;
  /** New token typed by the admin ('' = keep the stored one). */
  token: string;
  /** Grafana reports the stored secret only as secureJsonFields.serviceToken = true. */
  tokenConfigured: boolean;
}

export function settingsProblems(d: SettingsDraft): { serviceUrl?: string; token?: string } {
  const out: { serviceUrl?: string; token?: string } = {};
  const u = d.serviceUrl.trim();
  let parsed: URL | undefined;
  try {
    parsed = new URL(u);
  } catch {
    /* invalid */
  }
  if (!u) out.serviceUrl = 'The service URL is required';
  else if (!parsed || !/^https?:$/.test(parsed.protocol) || !parsed.host) out.serviceUrl = 'Enter an http(s) URL such as http://127.0.0.1:9887';
  else if (parsed.pathname !== '/' || parsed.search || parsed.hash) out.serviceUrl = 'Enter the base URL only (the routes add /api/v1/...)';
  if (!d.tokenConfigured && !d.token.trim()) out.token = "The token is required (the service's api.proxy_token_file)";
  else if (d.token && /\s/.test(d.token.trim())) out.token = 'The token must not contain spaces';
  return out;
}

/** Body of POST /api/plugins/<id>/settings: the token only when a new one was typed. */
export function settingsPayload(d: SettingsDraft, jsonData: Record<string, unknown> = {}): { enabled: true; pinned: true; jsonData: Record<string, unknown>; secureJsonData?: { serviceToken: string } } {
  const serviceUrl = d.serviceUrl.trim().replace(/\/+$/, '');
  return { enabled: true, pinned: true, jsonData: { ...jsonData, serviceUrl }, ...(d.token.trim() ? { secureJsonData: { serviceToken: d.token.trim() } } : {}) };
}
