// History: every action, newest first, filterable (site, result, state, mode,
// time range; kept in the URL), paged with nextBeforeId, each row linking to
// the alert's generatorURL and the site dashboard, expandable to the audit trail.
import { css } from '@emotion/css';
import type { GrafanaTheme2, SelectableValue } from '@grafana/data';
import { Button, Field, IconButton, LoadingPlaceholder, Select, Stack, useStyles2 } from '@grafana/ui';
import React, { useEffect, useState } from 'react';
import { useEnv, useLoad, usePaged } from '../env.js';
import { ACTION_CSV, capacityChange, EMPTY_FILTER, formatTime, TIME_RANGES, toActionFilter, toCsv, type HistoryFilter, type TimeRange } from '../logic.js';
import { ACTION_MODES, ACTION_RESULTS, ACTION_STATES, type Action } from '../types.js';
import { CsvButton, ErrorAlert, JobLink, MoreButton, OutcomeBadge, SiteFilter, SiteAlertCells, TableHead, tableStyles } from './common.js';
import { testIds } from '../testIds.js';

const opts = <T extends string>(values: readonly T[], all: string): Array<SelectableValue<T | ''>> => [
  { label: all, value: '' },
  ...values.map((v) => ({ label: v.replace(/_/g, ' '), value: v })),
];

export function History({ filter, onFilterChange }: { filter: HistoryFilter; onFilterChange: (f: HistoryFilter) => void }) {
  const env = useEnv();
  const t = useStyles2(tableStyles);
  const paged = usePaged<Action>(
    (beforeId) => env.api.actions(toActionFilter(filter, env.now(), beforeId)).then((p) => ({ items: p.actions, next: p.nextBeforeId })),
    [env.api, JSON.stringify(filter)],
  );
  const { first: page, rows } = paged;
  // the MCP's base URL (for job links) as the service knows it
  const overview = useLoad(() => env.api.overview(), [env.api]);

  return (
    <div data-testid={testIds.app.page('history')}>
      <HistoryFilters filter={filter} onFilterChange={onFilterChange} rows={rows} />
      {page.error && <ErrorAlert title="Could not load the history" error={page.error} />}
      {!page.data && page.loading && <LoadingPlaceholder text="Loading history..." />}
      {page.data && rows.length === 0 && (
        <p className={t.muted} data-testid={testIds.history.empty}>
          No action matches these filters.
        </p>
      )}
      {rows.length > 0 && <HistoryTable rows={rows} mcpUrl={overview.data?.health.mcp.url} />}
      <MoreButton paged={paged} testId={testIds.history.loadMore} label="Load older actions" />
    </div>
  );
}

function HistoryFilters({ filter, onFilterChange, rows }: { filter: HistoryFilter; onFilterChange: (f: HistoryFilter) => void; rows: Action[] }) {
  const t = useStyles2(tableStyles);
  return (
    <Stack gap={1} wrap="wrap" alignItems="flex-end">
      <SiteFilter id="history-site" testId={testIds.history.filterSite} site={filter.site} onApply={(site) => onFilterChange({ ...filter, site })} />
      <Field label="Result" className={t.field}>
        <Select inputId="history-result" width={18} options={opts(ACTION_RESULTS, 'any result')} value={filter.result} onChange={(v) => onFilterChange({ ...filter, result: v.value ?? '' })} />
      </Field>
      <Field label="State" className={t.field}>
        <Select inputId="history-state" width={20} options={opts(ACTION_STATES, 'any state')} value={filter.state} onChange={(v) => onFilterChange({ ...filter, state: v.value ?? '' })} />
      </Field>
      <Field label="Mode" className={t.field}>
        <Select inputId="history-mode" width={16} options={opts(ACTION_MODES, 'any mode')} value={filter.mode} onChange={(v) => onFilterChange({ ...filter, mode: v.value ?? '' })} />
      </Field>
      <Field label="Created" className={t.field}>
        <Select<TimeRange>
          inputId="history-range"
          width={18}
          options={TIME_RANGES.map((r) => ({ label: r.label, value: r.value }))}
          value={filter.range}
          onChange={(v) => onFilterChange({ ...filter, range: v.value ?? EMPTY_FILTER.range })}
        />
      </Field>
      <Field label="Clear filters" className={t.field}>
        <Button variant="secondary" icon="times" data-testid={testIds.history.filterClear} onClick={() => onFilterChange(EMPTY_FILTER)}>
          Clear
        </Button>
      </Field>
      <Field label="Rows shown" className={t.field}>
        <CsvButton testId={testIds.history.csv} name="optifiber-remediation-actions.csv" csv={() => toCsv(rows, ACTION_CSV)} />
      </Field>
    </Stack>
  );
}

/** The actions, each expandable to its audit trail. */
function HistoryTable({ rows, mcpUrl }: { rows: Action[]; mcpUrl: string | undefined }) {
  const env = useEnv();
  const t = useStyles2(tableStyles);
  const s = useStyles2(styles);
  const [open, setOpen] = useState<number | null>(null);
  return (
    <table className={t.table} data-testid={testIds.history.table}>
      <TableHead columns={[<span key="trail" className={s.srOnly}>Audit trail</span>, '#', 'Created', 'Site', 'Alert', 'Mode', 'Outcome', 'Capacity', 'MCP job', 'Approved by', 'Reason']} />
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
              <SiteAlertCells action={a} subUrl={env.subUrl} />
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
      <TableHead columns={['Time', 'Kind', 'Decision', 'Reason', 'Actor']} />
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
  srOnly: css({ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0,0,0,0)', whiteSpace: 'nowrap' }),
});
