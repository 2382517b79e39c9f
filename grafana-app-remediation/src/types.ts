// Shapes of the remediation service's REST API (docs/remediation-api.md,
// docs/remediation-openapi.yaml) as the app plugin uses them. The policy and
// kill-switch shapes are the service's own (type-only import: erased from
// the bundle).
import type { KillSwitch, Policy } from '../service/src/policy.js';

export type { KillSwitch, Policy };

export type Role = 'Viewer' | 'Editor' | 'Admin';
export const ROLES: readonly Role[] = ['Viewer', 'Editor', 'Admin'];

export type ActionState = 'pending_approval' | 'ready' | 'baseline' | 'submitted' | 'job_succeeded' | 'done';
export const ACTION_STATES: readonly ActionState[] = ['pending_approval', 'ready', 'baseline', 'submitted', 'job_succeeded', 'done'];
export type ActionResult = 'succeeded' | 'failed' | 'unverified' | 'dry_run' | 'rejected' | 'cancelled' | 'expired' | 'skipped' | 'aborted';
export const ACTION_RESULTS: readonly ActionResult[] = ['succeeded', 'failed', 'unverified', 'dry_run', 'rejected', 'cancelled', 'expired', 'skipped', 'aborted'];
export type ActionMode = 'auto' | 'approval' | 'dry_run';
export const ACTION_MODES: readonly ActionMode[] = ['auto', 'approval', 'dry_run'];

export interface Capacity {
  cmdModules: number;
  cmdModulesMax?: number;
  capacityBps?: number;
  moduleCapacityBps?: number;
  readAt?: string;
}

export interface Action {
  id: number;
  site: string;
  alertname: string | null;
  fingerprint: string;
  startsAt: string;
  generatorURL: string | null;
  labels: Record<string, string> | null;
  annotations: Record<string, string> | null;
  mode: ActionMode;
  count: number;
  state: ActionState;
  result: ActionResult | null;
  reason: string | null;
  idempotencyKey: string | null;
  jobId: string | null;
  jobState: string | null;
  mcpAttempts: number | null;
  baseline: Capacity | null;
  after: Capacity | null;
  createdAt: string;
  updatedAt: string | null;
  submittedAt: string | null;
  finishedAt: string | null;
  approvedBy: string | null;
  approvedAt: string | null;
  expiresAt: string | null;
}

export interface AuditEntry {
  id: number;
  ts: string;
  kind: string;
  actionId: number | null;
  site: string | null;
  alertname: string | null;
  fingerprint: string | null;
  startsAt: string | null;
  status: string | null;
  decision: string | null;
  reason: string | null;
  actor: string | null;
  details: unknown;
}

export interface AuditQuery {
  site?: string;
  kind?: string;
  decision?: string;
  since?: string;
  until?: string;
  limit?: number;
  beforeId?: number;
}

export interface AuditPage {
  audit: AuditEntry[];
  nextBeforeId: number | null;
}

export interface ThresholdDefinition { key: string; metric: string; label: string; unit: string; min: number; max: number; help: string }
export type ThresholdValues = Record<string, number>;
export interface ThresholdsDoc {
  definitions: ThresholdDefinition[];
  fleet: ThresholdValues;
  sites: Record<string, ThresholdValues>;
  updatedAt: string | null;
  updatedBy: string | null;
}
export interface ThresholdChange { scope: string; threshold: string; value: number | null; reason: string }

export interface PolicyDoc {
  policy: Policy;
  updatedAt: string | null;
  updatedBy: string | null;
}

export interface Whoami {
  user: string;
  role: Role;
  can: Capabilities;
}

/** The service's role matrix (service/src/roles.ts, docs/remediation-api.md). */
export interface Capabilities {
  read: boolean;
  /** Tighten limits and edit thresholds (Editor). */
  editThresholds: boolean;
  /** dry_run, approval_required (Admin). */
  changeMode: boolean;
  /** Loosen any limit (Admin). */
  raiseLimits: boolean;
  /** = editThresholds (older name). */
  editPolicies: boolean;
  approve: boolean;
  killSwitch: boolean;
}

export interface DependencyHealth {
  url: string;
  lastOk?: string;
  lastError?: string;
}

export interface Overview {
  health: {
    status: string;
    uptimeSeconds: number;
    queueDepth: number;
    actionsInFlight: number;
    mcp: DependencyHealth;
    exporter: DependencyHealth;
  };
  killSwitch: KillSwitch;
  policy: Policy;
  pendingApprovals: Action[];
  recentActions: Action[];
  last24h: { actionsByResult: Record<string, number>; skipsByReason: Record<string, number> };
}

export interface ActionPage {
  actions: Action[];
  nextBeforeId: number | null;
}

export interface ActionFilter {
  site?: string;
  result?: ActionResult;
  state?: ActionState;
  mode?: ActionMode;
  since?: string;
  until?: string;
  limit?: number;
  beforeId?: number;
}

/** The app's jsonData (secrets live in secureJsonData.serviceToken, write-only). */
export interface AppSettings {
  serviceUrl?: string;
}
