// What the REST API shows of the stored rows: camelCase, JSON columns parsed.
// Column names stay in the store; the API's names are part of its contract
// (docs/remediation-openapi.yaml).
import type { ActionRow, AuditRow } from '../store.js';

const json = (s: string | null) => (s ? (JSON.parse(s) as unknown) : null);

export function publicAction(a: ActionRow) {
  return {
    id: a.id,
    site: a.site,
    alertname: a.alertname,
    fingerprint: a.fingerprint,
    startsAt: a.starts_at,
    generatorURL: a.generator_url,
    labels: json(a.labels),
    annotations: json(a.annotations),
    mode: a.mode,
    count: a.count,
    state: a.state,
    result: a.result,
    reason: a.reason,
    idempotencyKey: a.idempotency_key,
    jobId: a.job_id,
    jobState: a.job_state,
    mcpAttempts: a.mcp_attempts,
    baseline: json(a.baseline),
    after: json(a.after),
    createdAt: a.created_at,
    updatedAt: a.updated_at,
    submittedAt: a.submitted_at,
    finishedAt: a.finished_at,
    approvedBy: a.approved_by,
    approvedAt: a.approved_at,
    expiresAt: a.expires_at,
  };
}

export function publicAudit(r: AuditRow) {
  return { id: r.id, ts: r.ts, kind: r.kind, actionId: r.action_id, site: r.site, alertname: r.alertname, fingerprint: r.fingerprint, startsAt: r.starts_at, status: r.status, decision: r.decision, reason: r.reason, actor: r.actor, details: json(r.details) };
}
