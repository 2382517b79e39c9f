// The service's own /metrics: a private prom-client registry, no default
// process collectors (their nodejs_active_handles_total gauge fails
// `promtool check metrics`), text format only.
import client from 'prom-client';

export function createMetrics() {
  const registry = new client.Registry();
  const mk = <T>(m: T) => m;
  const webhooks = mk(new client.Counter({ name: 'optifiber_remediation_webhooks_total', help: 'Webhook requests by result (accepted, unauthorized, invalid, too_large, unavailable: not stored, the database did not answer).', labelNames: ['result'], registers: [registry] }));
  const alerts = mk(new client.Counter({ name: 'optifiber_remediation_alerts_total', help: 'Alerts received in accepted webhooks, by status.', labelNames: ['status'], registers: [registry] }));
  const decisions = mk(new client.Counter({ name: 'optifiber_remediation_decisions_total', help: 'Policy decisions by decision and reason.', labelNames: ['decision', 'reason'], registers: [registry] }));
  const actions = mk(new client.Counter({ name: 'optifiber_remediation_actions_total', help: 'Finished actions by result.', labelNames: ['result'], registers: [registry] }));
  const queueDepth = mk(new client.Gauge({ name: 'optifiber_remediation_queue_depth', help: 'Webhook deliveries persisted but not yet decided.', registers: [registry] }));
  const inFlight = mk(new client.Gauge({ name: 'optifiber_remediation_actions_in_flight', help: 'Actions between decision and their final result.', registers: [registry] }));
  const unknown = mk(new client.Gauge({ name: 'optifiber_remediation_actions_unknown', help: 'Actions whose outcome is unknown (a request may have reached the MCP), being reconciled; their sites stay busy.', registers: [registry] }));
  const pending = mk(new client.Gauge({ name: 'optifiber_remediation_pending_approvals', help: 'Actions waiting for an Admin.', registers: [registry] }));
  const killSwitch = mk(new client.Gauge({ name: 'optifiber_remediation_kill_switch', help: '1 when the kill switch is on.', registers: [registry] }));
  const dryRun = mk(new client.Gauge({ name: 'optifiber_remediation_dry_run', help: '1 when the policy is in dry-run mode.', registers: [registry] }));
  const approval = mk(new client.Gauge({ name: 'optifiber_remediation_approval_required', help: '1 when actions wait for an Admin.', registers: [registry] }));
  const mcpLatency = mk(
    new client.Histogram({
      name: 'optifiber_remediation_mcp_request_duration_seconds',
      help: 'MCP HTTP request latency by operation (token, create, poll) and outcome (HTTP status, timeout, error).',
      labelNames: ['operation', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  );
  const webhookToMcp = mk(
    new client.Histogram({
      name: 'optifiber_remediation_webhook_to_mcp_seconds',
      help: 'From receiving the webhook to sending the first MCP job request (automatic actions).',
      buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  );
  const commitBatch = mk(new client.Histogram({ name: 'optifiber_remediation_db_commit_duration_seconds', help: 'Duration of one commit: SQLite, one group-commit transaction (fsync included); PostgreSQL, one transaction.', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25], registers: [registry] }));
  return { registry, webhooks, alerts, decisions, actions, queueDepth, inFlight, pending, unknown, killSwitch, dryRun, approval, mcpLatency, webhookToMcp, commitBatch };
}
export type Metrics = ReturnType<typeof createMetrics>;
