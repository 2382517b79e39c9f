// Audit: every decision, action step, approval, policy, threshold and
// kill-switch change the service recorded, newest first; filterable (site,
// kind, time range; kept in the URL), paged, exportable as CSV.
import { css } from '@emotion/css';
import type { GrafanaTheme2, SelectableValue } from '@grafana/data';
import { Field, LoadingPlaceholder, Select, Stack, useStyles2 } from '@grafana/ui';
import React from 'react';
import { useEnv, usePaged } from '../env.js';
import { AUDIT_CSV, AUDIT_KINDS, EMPTY_AUDIT_FILTER, formatTime, TIME_RANGES, toAuditQuery, toCsv, type AuditFilterForm, type TimeRange } from '../logic.js';
import type { AuditEntry } from '../types.js';
import { CsvButton, ErrorAlert, MoreButton, SiteFilter, SiteLink, TableHead, tableStyles } from './common.js';
import { testIds } from '../testIds.js';

const KIND_OPTIONS: Array<SelectableValue<string>> = [{ label: 'any kind', value: '' }, ...AUDIT_KINDS.map((k) => ({ label: k.replace('_', ' '), value: k }))];

export function Audit({ filter, onFilterChange }: { filter: AuditFilterForm; onFilterChange: (f: AuditFilterForm) => void }) {
  const env = useEnv();
  const t = useStyles2(tableStyles);
  const s = useStyles2(styles);
  const paged = usePaged<AuditEntry>(
    (beforeId) => env.api.audit(toAuditQuery(filter, env.now(), beforeId)).then((p) => ({ items: p.audit, next: p.nextBeforeId })),
    [env.api, JSON.stringify(filter)],
  );
  const { first: page, rows } = paged;

  return (
    <div data-testid={testIds.app.page('audit')}>
      <Stack gap={1} wrap="wrap" alignItems="flex-end">
        <SiteFilter id="audit-site" testId={testIds.audit.filterSite} site={filter.site} onApply={(site) => onFilterChange({ ...filter, site })} />
        <Field label="Kind" className={t.field}>
          <Select inputId="audit-kind" width={18} options={KIND_OPTIONS} value={filter.kind} onChange={(v) => onFilterChange({ ...filter, kind: v.value ?? '' })} />
        </Field>
        <Field label="Recorded" className={t.field}>
          <Select<TimeRange> inputId="audit-range" width={18} options={TIME_RANGES.map((r) => ({ label: r.label, value: r.value }))} value={filter.range}
            onChange={(v) => onFilterChange({ ...filter, range: v.value ?? EMPTY_AUDIT_FILTER.range })} />
        </Field>
        <Field label="Rows shown" className={t.field}>
          <CsvButton testId={testIds.audit.csv} name="optifiber-remediation-audit.csv" csv={() => toCsv(rows, AUDIT_CSV)} />
        </Field>
      </Stack>
      {page.error && <ErrorAlert title="Could not load the audit log" error={page.error} />}
      {!page.data && page.loading && <LoadingPlaceholder text="Loading the audit log..." />}
      {page.data && rows.length === 0 && <p className={t.muted} data-testid={testIds.audit.empty}>No audit entry matches these filters.</p>}
      {rows.length > 0 && (
        <table className={t.table} data-testid={testIds.audit.table}>
          <TableHead scope="col" columns={['Time', 'Kind', 'Action', 'Site', 'Decision', 'Reason', 'Who', 'Details']} />
          <tbody>
            {rows.map((e) => (
              <tr key={e.id} data-testid={testIds.audit.row} data-kind={e.kind} data-site={e.site ?? ''}>
                <td className={t.mono}>{formatTime(e.ts)}</td>
                <td>{e.kind.replace('_', ' ')}</td>
                <td>{e.actionId ?? ''}</td>
                <td>{e.site ? <SiteLink site={e.site} subUrl={env.subUrl} /> : ''}</td>
                <td>{e.decision ?? e.status ?? ''}</td>
                <td className={t.muted}>{e.reason ?? ''}</td>
                <td>{e.actor ?? ''}</td>
                <td className={`${t.mono} ${s.details}`} title={e.details ? JSON.stringify(e.details) : ''}>{e.details ? JSON.stringify(e.details) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MoreButton paged={paged} testId={testIds.audit.loadMore} label="Load older entries" />
    </div>
  );
}

const styles = (theme: GrafanaTheme2) => ({
  details: css({ maxWidth: 360, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }),
});
