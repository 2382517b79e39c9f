// Overview: service health, kill switch and policy at a glance, pending
// approvals (Admins approve or reject), the 10 most recent actions.
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Alert, Badge, Button, ConfirmModal, Icon, Input, LinkButton, LoadingPlaceholder, Stack, useStyles2 } from '@grafana/ui';
import React, { useEffect, useState } from 'react';
import { ROUTE_FOR_ROLE } from '../api.js';
import { PROXY_BASE } from '../constants.js';
import { useEnv, useLoad } from '../env.js';
import { capacityChange, formatAge, formatDuration, formatTime, splitHealthError } from '../logic.js';
import { whyNot } from '../roles.js';
import type { Action, DependencyHealth, Overview as OverviewDoc } from '../types.js';
import { ErrorAlert, OutcomeBadge, SiteAlertCells, TableHead, tableStyles } from './common.js';
import { testIds } from '../testIds.js';

export function Overview() {
  const env = useEnv();
  const { api, refreshMs } = env;
  const ov = useLoad(() => api.overview(), [api]);
  const t = useStyles2(tableStyles);
  useEffect(() => {
    if (!refreshMs) return;
    const h = setInterval(ov.reload, refreshMs);
    return () => clearInterval(h);
  }, [refreshMs, ov.reload]);

  if (!ov.data && ov.loading) return <LoadingPlaceholder text="Loading overview..." />;
  if (!ov.data) return <ErrorAlert title="The remediation service is not reachable" error={ov.error!} />;
  const d = ov.data;
  const now = env.now();
  return (
    <div data-testid={testIds.app.page('overview')}>
      {ov.error && <ErrorAlert title="Refresh failed (showing the last answer)" error={ov.error} />}
      {d.killSwitch.enabled && (
        <Alert data-testid={testIds.overview.killSwitchBanner} severity="error" title="Kill switch is ON: no new remediation actions or approvals">
          {d.killSwitch.reason ? `Reason: ${d.killSwitch.reason}. ` : ''}
          {d.killSwitch.by ? `Engaged by ${d.killSwitch.by} ${formatAge(d.killSwitch.at, now)}.` : ''}
        </Alert>
      )}
      <HealthCards d={d} now={now} />
      <section className={t.section}>
        <h3 className={t.heading}>
          Pending approvals <Badge text={String(d.pendingApprovals.length)} color={d.pendingApprovals.length ? 'orange' : 'darkgrey'} />
        </h3>
        <Approvals actions={d.pendingApprovals} onChanged={ov.reload} killSwitch={d.killSwitch.enabled} />
      </section>

      <RecentActions actions={d.recentActions} now={now} onRefresh={ov.reload} />
    </div>
  );
}

/** Service, MCP, exporter, mode and the last 24 hours, one card each. */
function HealthCards({ d, now }: { d: OverviewDoc; now: number }) {
  const s = useStyles2(styles);
  return (
    <div className={s.cards}>
      <div className={s.card} data-testid={testIds.overview.healthService}>
        <div className={s.cardTitle}>Service</div>
        <Badge text={d.health.status === 'ok' ? 'healthy' : d.health.status} color={d.health.status === 'ok' ? 'green' : 'red'} icon="heart" />
        <div className={s.kv}>Up {formatDuration(d.health.uptimeSeconds)}</div>
        <div className={s.kv} data-testid={testIds.overview.queueDepth}>Queue depth {d.health.queueDepth}</div>
        <div className={s.kv}>Actions in flight {d.health.actionsInFlight}</div>
      </div>
      <DependencyCard name="WaveServer MCP" testId={testIds.overview.healthMcp} h={d.health.mcp} now={now} />
      <DependencyCard name="Exporter" testId={testIds.overview.healthExporter} h={d.health.exporter} now={now} />
      <div className={s.card} data-testid={testIds.overview.healthPolicy}>
        <div className={s.cardTitle}>Mode</div>
        <Stack gap={0.5} wrap="wrap">
          <Badge data-testid={testIds.overview.killSwitchState} text={d.killSwitch.enabled ? 'kill switch ON' : 'kill switch off'} color={d.killSwitch.enabled ? 'red' : 'green'} />
          {d.policy.dry_run && <Badge text="dry run" color="purple" />}
          <Badge text={d.policy.approval_required ? 'approval required' : 'automatic'} color={d.policy.approval_required ? 'orange' : 'blue'} />
        </Stack>
        <div className={s.kv}>Cooldown {formatDuration(d.policy.cooldown_seconds)}, max {d.policy.max_cmd_modules} CMD/site</div>
        <div className={s.kv}>
          {d.policy.rate_limit_actions} actions per {formatDuration(d.policy.rate_limit_window_seconds)}
        </div>
      </div>
      <div className={s.card} data-testid={testIds.overview.health24h}>
        <div className={s.cardTitle}>Last 24 hours</div>
        {Object.keys(d.last24h.actionsByResult).length === 0 && <div className={s.kv}>No finished actions</div>}
        {Object.entries(d.last24h.actionsByResult).map(([k, v]) => (
          <div className={s.kv} key={k}>
            {k.replace('_', ' ')}: <b>{v}</b>
          </div>
        ))}
        {Object.entries(d.last24h.skipsByReason).map(([k, v]) => (
          <div className={s.kv} key={`skip-${k}`} title="Alerts the policy decided not to act on">
            skipped ({k.replace('_', ' ')}): <b>{v}</b>
          </div>
        ))}
      </div>
    </div>
  );
}

function RecentActions({ actions, now, onRefresh }: { actions: Action[]; now: number; onRefresh: () => void }) {
  const env = useEnv();
  const t = useStyles2(tableStyles);
  return (
    <section className={t.section}>
      <Stack justifyContent="space-between" alignItems="center">
        <h3 className={t.heading}>Recent actions</h3>
        <Stack gap={1}>
          <LinkButton size="sm" variant="secondary" icon="apps" href={`${env.subUrl}/d/optifiber-remediation`} data-testid={testIds.overview.remediationDashboard}>
            Remediation dashboard
          </LinkButton>
          {env.role && (
            // The service's API explorer, through the plugin proxy route of the user's role (the token never reaches the browser).
            <LinkButton size="sm" variant="secondary" icon="book-open" href={`${env.subUrl}${PROXY_BASE}/${ROUTE_FOR_ROLE[env.role]}/docs/`} target="_blank" data-testid={testIds.overview.apiExplorer}>
              API explorer
            </LinkButton>
          )}
          <Button size="sm" variant="secondary" icon="sync" onClick={onRefresh} data-testid={testIds.overview.refresh}>
            Refresh
          </Button>
        </Stack>
      </Stack>
      {actions.length === 0 ? (
        <p className={t.muted}>No actions yet.</p>
      ) : (
        <table className={t.table} data-testid={testIds.overview.recentActions}>
          <TableHead columns={['#', 'Created', 'Site', 'Alert', 'Outcome', 'Capacity', 'Reason']} />
          <tbody>
            {actions.map((a) => (
              <tr key={a.id} data-testid={testIds.overview.recentAction} data-id={a.id}>
                <td>{a.id}</td>
                <td title={formatTime(a.createdAt)}>{formatAge(a.createdAt, now)}</td>
                <SiteAlertCells action={a} subUrl={env.subUrl} />
                <td>
                  <OutcomeBadge action={a} />
                </td>
                <td>{capacityChange(a)}</td>
                <td className={t.muted}>{a.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function DependencyCard({ name, h, now, testId }: { name: string; h: DependencyHealth; now: number; testId: string }) {
  const s = useStyles2(styles);
  const err = splitHealthError(h.lastError);
  const failing = !!err.at && (!h.lastOk || Date.parse(err.at) > Date.parse(h.lastOk));
  return (
    <div className={s.card} data-testid={testId}>
      <div className={s.cardTitle}>{name}</div>
      <Badge text={failing ? 'failing' : h.lastOk ? 'ok' : 'not used yet'} color={failing ? 'red' : h.lastOk ? 'green' : 'darkgrey'} />
      <div className={s.kv} title={h.url}>
        {h.url}
      </div>
      <div className={s.kv}>Last ok {formatAge(h.lastOk, now)}</div>
      {err.message && (
        <div className={s.kv} title={err.message}>
          <Icon name="exclamation-triangle" /> {formatAge(err.at, now)}: {err.message.slice(0, 80)}
        </div>
      )}
    </div>
  );
}

function Approvals({ actions, onChanged, killSwitch }: { actions: Action[]; onChanged: () => void; killSwitch: boolean }) {
  const env = useEnv();
  const t = useStyles2(tableStyles);
  const [pending, setPending] = useState<Decision | null>(null);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const now = env.now();
  const result = done && <Alert data-testid={testIds.overview.approvalResult} severity="success" title={done} />;
  if (actions.length === 0)
    return (
      <>
        {result}
        <p className={t.muted} data-testid={testIds.overview.noApprovals}>
          Nothing is waiting for approval.
        </p>
      </>
    );
  const canApprove = env.can.approve;
  const disabledWhy = !canApprove ? whyNot('Admin', env.role) : killSwitch ? 'The kill switch is on' : undefined;
  const run = async () => {
    if (!pending) return;
    const { action, verb } = pending;
    setPending(null);
    setError(null);
    try {
      await (verb === 'approve' ? env.api.approve(action.id, comment || undefined) : env.api.reject(action.id, comment || undefined));
      setDone(`Action #${action.id} on ${action.site} ${verb === 'approve' ? 'approved' : 'rejected'}`);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setComment('');
      onChanged();
    }
  };
  return (
    <>
      {error && <ErrorAlert title="The service refused" error={error} />}
      {result}
      {!canApprove && (
        <p className={t.muted} data-testid={testIds.overview.approveHint}>
          <Icon name="lock" /> Only Admins approve or reject actions (you are {env.role ?? 'not signed in'}).
        </p>
      )}
      <table className={t.table} data-testid={testIds.overview.pendingApprovals}>
        <TableHead columns={['#', 'Site', 'Alert', 'Adds', 'Requested', 'Expires', '']} />
        <tbody>
          {actions.map((a) => (
            <tr key={a.id} data-testid={testIds.overview.approval} data-id={a.id} data-site={a.site}>
              <td>{a.id}</td>
              <SiteAlertCells action={a} subUrl={env.subUrl} />
              <td>{a.count} CMD</td>
              <td title={formatTime(a.createdAt)}>{formatAge(a.createdAt, now)}</td>
              <td title={formatTime(a.expiresAt)}>{formatAge(a.expiresAt, now)}</td>
              <td>
                <Stack gap={1}>
                  <span title={disabledWhy ?? 'Provision now'}>
                    <Button size="sm" icon="check" data-testid={testIds.overview.approve} disabled={!!disabledWhy} onClick={() => setPending({ action: a, verb: 'approve' })}>
                      Approve
                    </Button>
                  </span>
                  <Button title={canApprove ? 'Reject: it will not provision' : whyNot('Admin', env.role)} size="sm" variant="destructive" icon="times" data-testid={testIds.overview.reject} disabled={!canApprove} onClick={() => setPending({ action: a, verb: 'reject' })}>
                    Reject
                  </Button>
                </Stack>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <DecisionModal pending={pending} comment={comment} onComment={setComment} onConfirm={run} onDismiss={() => setPending(null)} />
    </>
  );
}

type Decision = { action: Action; verb: 'approve' | 'reject' };

/** Asks before an approval or a rejection, with an optional comment for the audit log. */
function DecisionModal({ pending, comment, onComment, onConfirm, onDismiss }: { pending: Decision | null; comment: string; onComment: (c: string) => void; onConfirm: () => void; onDismiss: () => void }) {
  return (
    <ConfirmModal
      isOpen={pending !== null}
      title={pending ? `${pending.verb === 'approve' ? 'Approve' : 'Reject'} action #${pending.action.id}` : ''}
      body={
        pending ? (
          <div>
            <p>
              {pending.verb === 'approve'
                ? `Add ${pending.action.count} CMD module(s) on ${pending.action.site} through the WaveServer MCP controller.`
                : `Reject the action on ${pending.action.site}; it will not provision.`}
            </p>
            <Input data-testid={testIds.overview.approvalComment} placeholder="Comment for the audit log (optional)" value={comment} onChange={(e) => onComment(e.currentTarget.value)} />
          </div>
        ) : null
      }
      confirmText={pending?.verb === 'approve' ? 'Approve' : 'Reject'}
      confirmVariant={pending?.verb === 'approve' ? 'primary' : 'destructive'}
      onConfirm={onConfirm}
      onDismiss={onDismiss}
    />
  );
}

const styles = (theme: GrafanaTheme2) => ({
  cards: css({ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(200px, 1fr))', gap: theme.spacing(1.5), marginBottom: theme.spacing(3) }),
  card: css({ background: theme.colors.background.secondary, border: `1px solid ${theme.colors.border.weak}`, borderRadius: theme.shape.radius.default, padding: theme.spacing(1.5), minWidth: 0 }),
  cardTitle: css({ fontWeight: theme.typography.fontWeightMedium, marginBottom: theme.spacing(1) }),
  kv: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize, marginTop: theme.spacing(0.5), overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }),
});
