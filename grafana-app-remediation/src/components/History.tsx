// History: every action, newest first, filterable (site, result, state, mode,
// time range; kept in the URL), paged with nextBeforeId, each row linking to
// the alert's generatorURL and the site dashboard, expandable to the audit trail.
import { css } from '@emotion/css';
import type { GrafanaTheme2, SelectableValue } from '@grafana/data';
import { Button, Field, IconButton, Input, LoadingPlaceholder, Select, Stack, useStyles2 } from '@grafana/ui';
import React, { useEffect, useState } from 'react';
import { useEnv, useLoad } from '../env.js';
import { ACTION_CSV, capacityChange, EMPTY_FILTER, formatTime, siteProblem, TIME_RANGES, toActionFilter, toCsv, type HistoryFilter, type TimeRange } from '../logic.js';
import { ACTION_MODES, ACTION_RESULTS, ACTION_STATES, type Action } from '../types.js';
import { AlertLink, CsvButton, ErrorAlert, JobLink, OutcomeBadge, SiteLink, tableStyles } from './common.js';
import { testIds } from '../testIds.js';

const opts = <T extends string>(values: readonly T[], all: string): Array<SelectableValue<T | ''>> => [
  { label: all, value: '' },
  ...values.map((v) => ({ label: v.replace(/_/g, ' '), value: v })),
];

export function History({ filter, onFilterChange }: { filter: HistoryFilter; onFilterChange: (f: HistoryFilter) => void }) {
  const env = useEnv();
  const t = useStyles2(tableStyles);
  const s = useStyles2(styles);
  const [siteText, setSiteText] = useState(filter.site);
  useEffect(() => setSiteText(filter.site), [filter.site]);
  const [extra, setExtra] = useState<{ rows: Action[]; next: number | null; loading: boolean; error?: Error }>({ rows: [], next: null, loading: false });
  const key = JSON.stringify(filter);
  const page = useLoad(() => env.api.actions(toActionFilter(filter, env.now())), [env.api, key]);
  useEffect(() => setExtra({ rows: [], next: null, loading: false }), [key]);
  const [open, setOpen] = useState<number | null>(null);
  // the MCP's base URL (for job links) as the service knows it
  const overview = useLoad(() => env.api.overview(), [env.api]);
  const mcpUrl = overview.data?.health.mcp.url;

  const sp = siteProblem(siteText);
  const applySite = () => {
    if (!sp && siteText.trim() !== filter.site) onFilterChange({ ...filter, site: siteText.trim() });
  };
  const rows = [...(page.data?.actions ?? []), ...extra.rows];
  const next = extra.rows.length ? extra.next : (page.data?.nextBeforeId ?? null);
  const more = async () => {
    if (next === null) return;
    setExtra((e) => ({ ...e, loading: true }));
    try {
      const p = await env.api.actions(toActionFilter(filter, env.now(), next));
      setExtra((e) => ({ rows: [...e.rows, ...p.actions], next: p.nextBeforeId, loading: false }));
    } catch (err) {
      setExtra((e) => ({ ...e, loading: false, error: err instanceof Error ? err : new Error(String(err)) }));
    }
  };

  return (
    <div data-testid={testIds.app.page('history')}>
      <Stack gap={1} wrap="wrap" alignItems="flex-end">
        <Field label="Site" invalid={!!sp} error={sp} className={s.field}>
          <Input
            id="history-site"
            data-testid={testIds.history.filterSite}
            width={20}
            placeholder="all sites"
            value={siteText}
            onChange={(e) => setSiteText(e.currentTarget.value)}
            onBlur={applySite}
            onKeyDown={(e) => e.key === 'Enter' && applySite()}
          />
        </Field>
        <Field label="Result" className={s.field}>
          <Select inputId="history-result" width={18} options={opts(ACTION_RESULTS, 'any result')} value={filter.result} onChange={(v) => onFilterChange({ ...filter, result: v.value ?? '' })} />
        </Field>
        <Field label="State" className={s.field}>
          <Select inputId="history-state" width={20} options={opts(ACTION_STATES, 'any state')} value={filter.state} onChange={(v) => onFilterChange({ ...filter, state: v.value ?? '' })} />
        </Field>
        <Field label="Mode" className={s.field}>
          <Select inputId="history-mode" width={16} options={opts(ACTION_MODES, 'any mode')} value={filter.mode} onChange={(v) => onFilterChange({ ...filter, mode: v.value ?? '' })} />
        </Field>
        <Field label="Created" className={s.field}>
          <Select<TimeRange>
            inputId="history-range"
            width={18}
            options={TIME_RANGES.map((r) => ({ label: r.label, value: r.value }))}
            value={filter.range}
            onChange={(v) => onFilterChange({ ...filter, range: v.value ?? EMPTY_FILTER.range })}
          />
        </Field>
        <Field label="Clear filters" className={s.field}>
          <Button variant="secondary" icon="times" data-testid={testIds.history.filterClear} onClick={() => onFilterChange(EMPTY_FILTER)}>
            Clear
          </Button>
        </Field>
        <Field label="Rows shown" className={s.field}>
          <CsvButton testId={testIds.history.csv} name="optifiber-remediation-actions.csv" csv={() => toCsv(rows, ACTION_CSV)} />
        </Field>
      </Stack>

      {page.error && <ErrorAlert title="Could not load the history" error={page.error} />}
      {!page.data && page.loading && <LoadingPlaceholder text="Loading history..." />}
      {page.data && rows.length === 0 && (
        <p className={t.muted} data-testid={testIds.history.empty}>
          No action matches these filters.
        </p>
      )}
      {rows.length > 0 && (
        <table className={t.table} data-testid={testIds.history.table}>
          <thead>
            <tr>
              <th><span className={s.srOnly}>Audit trail</span></th>
              <th>#</th>
              <th>Created</th>
              <th>Site</th>
              <th>Alert</th>
              <th>Mode</th>
              <th>Outcome</th>
              <th>Capacity</th>
              <th>MCP job</th>
              <th>Approved by</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <React.Fragment key={a.id}>
                <tr data-testid={testIds.history.row} data-id={a.id} data-site={a.site} data-result={a.result ?? ''} data-state={a.state}>
                  <td>
                    <IconButton
                      name={open === a.id ? 'angle-down' : 'angle-right'}
                      aria-label={open === a.id ? `Hide the audit trail of action ${a.id}` : `Show the audit trail of action ${a.id}`}
                      data-testid={testIds.history.expand}
                      onClick={() => setOpen(open === a.id ? null : a.id)}
                    />
                  </td>
                  <td>{a.id}</td>
                  <td className={t.mono}>{formatTime(a.createdAt)}</td>
                  <td>
                    <SiteLink site={a.site} subUrl={env.subUrl} />
                  </td>
                  <td>
                    <AlertLink action={a} />
                  </td>
                  <td>{a.mode.replace('_', ' ')}</td>
                  <td>
                    <OutcomeBadge action={a} />
                  </td>
                  <td>{capacityChange(a)}</td>
                  <td className={t.mono}>
                    <JobLink jobId={a.jobId} mcpUrl={mcpUrl} title={a.idempotencyKey ? `Idempotency key ${a.idempotencyKey}` : undefined} />
                  </td>
                  <td>{a.approvedBy ?? ''}</td>
                  <td className={t.muted}>{a.reason ?? ''}</td>
                </tr>
                {open === a.id && (
                  <tr>
                    <td />
                    <td colSpan={10}>
                      <AuditTrail id={a.id} />
                    </td>
                  </tr>
                )}
              </React.Fragment>
            ))}
          </tbody>
        </table>
      )}
      {extra.error && <ErrorAlert title="Could not load more" error={extra.error} />}
      {next !== null && (
        <Button className={s.more} variant="secondary" data-testid={testIds.history.loadMore} disabled={extra.loading} onClick={more}>
          {extra.loading ? 'Loading...' : 'Load older actions'}
        </Button>
      )}
    </div>
  );
}

function AuditTrail({ id }: { id: number }) {
  const env = useEnv();
  const t = useStyles2(tableStyles);
  const r = useLoad(() => env.api.action(id), [env.api, id]);
  if (r.error) return <ErrorAlert title="Could not load the audit trail" error={r.error} />;
  if (!r.data) return <LoadingPlaceholder text="Loading audit trail..." />;
  return (
    <table className={t.table} data-testid={testIds.history.auditTrail}>
      <thead>
        <tr>
          <th>Time</th>
          <th>Kind</th>
          <th>Decision</th>
          <th>Reason</th>
          <th>Actor</th>
        </tr>
      </thead>
      <tbody>
        {r.data.audit.map((e) => (
          <tr key={e.id} data-testid={testIds.history.auditEntry}>
            <td className={t.mono}>{formatTime(e.ts)}</td>
            <td>{e.kind}</td>
            <td>{e.decision ?? ''}</td>
            <td>{e.reason ?? ''}</td>
            <td>{e.actor ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const styles = (theme: GrafanaTheme2) => ({
  field: css({ marginBottom: theme.spacing(2) }),
  more: css({ marginTop: theme.spacing(2) }),
  srOnly: css({ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0,0,0,0)', whiteSpace: 'nowrap' }),
});
