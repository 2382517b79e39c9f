// Audit: every decision, action step, approval, policy, threshold and
// kill-switch change the service recorded, newest first; filterable (site,
// kind, time range; kept in the URL), paged, exportable as CSV.
import { css } from '@emotion/css';
import type { GrafanaTheme2, SelectableValue } from '@grafana/data';
import { Button, Field, Input, LoadingPlaceholder, Select, Stack, useStyles2 } from '@grafana/ui';
import React, { useEffect, useState } from 'react';
import { useEnv, useLoad } from '../env.js';
import { AUDIT_CSV, AUDIT_KINDS, EMPTY_AUDIT_FILTER, formatTime, siteProblem, TIME_RANGES, toAuditQuery, toCsv, type AuditFilterForm, type TimeRange } from '../logic.js';
import type { AuditEntry } from '../types.js';
import { CsvButton, ErrorAlert, SiteLink, tableStyles } from './common.js';
import { testIds } from '../testIds.js';

const KIND_OPTIONS: Array<SelectableValue<string>> = [{ label: 'any kind', value: '' }, ...AUDIT_KINDS.map((k) => ({ label: k.replace('_', ' '), value: k }))];

export function Audit({ filter, onFilterChange }: { filter: AuditFilterForm; onFilterChange: (f: AuditFilterForm) => void }) {
  const env = useEnv();
  const t = useStyles2(tableStyles);
  const s = useStyles2(styles);
  const [siteText, setSiteText] = useState(filter.site);
  useEffect(() => setSiteText(filter.site), [filter.site]);
  const key = JSON.stringify(filter);
  const page = useLoad(() => env.api.audit(toAuditQuery(filter, env.now())), [env.api, key]);
  const [extra, setExtra] = useState<{ rows: AuditEntry[]; next: number | null; loading: boolean; error?: Error }>({ rows: [], next: null, loading: false });
  useEffect(() => setExtra({ rows: [], next: null, loading: false }), [key]);
  const rows = [...(page.data?.audit ?? []), ...extra.rows];
  const next = extra.rows.length ? extra.next : (page.data?.nextBeforeId ?? null);
  const sp = siteProblem(siteText);
  const applySite = () => {
    if (!sp && siteText.trim() !== filter.site) onFilterChange({ ...filter, site: siteText.trim() });
  };
  const more = async () => {
    if (next === null) return;
    setExtra((e) => ({ ...e, loading: true }));
    try {
      const p = await env.api.audit(toAuditQuery(filter, env.now(), next));
      setExtra((e) => ({ rows: [...e.rows, ...p.audit], next: p.nextBeforeId, loading: false }));
    } catch (err) {
      setExtra((e) => ({ ...e, loading: false, error: err instanceof Error ? err : new Error(String(err)) }));
    }
  };

  return (
    <div data-testid={testIds.app.page('audit')}>
      <Stack gap={1} wrap="wrap" alignItems="flex-end">
        <Field label="Site" invalid={!!sp} error={sp} className={s.field}>
          <Input id="audit-site" data-testid={testIds.audit.filterSite} width={20} placeholder="all sites" value={siteText}
            onChange={(e) => setSiteText(e.currentTarget.value)} onBlur={applySite} onKeyDown={(e) => e.key === 'Enter' && applySite()} />
        </Field>
        <Field label="Kind" className={s.field}>
          <Select inputId="audit-kind" width={18} options={KIND_OPTIONS} value={filter.kind} onChange={(v) => onFilterChange({ ...filter, kind: v.value ?? '' })} />
        </Field>
        <Field label="Recorded" className={s.field}>
          <Select<TimeRange> inputId="audit-range" width={18} options={TIME_RANGES.map((r) => ({ label: r.label, value: r.value }))} value={filter.range}
            onChange={(v) => onFilterChange({ ...filter, range: v.value ?? EMPTY_AUDIT_FILTER.range })} />
        </Field>
        <Field label="Rows shown" className={s.field}>
          <CsvButton testId={testIds.audit.csv} name="optifiber-remediation-audit.csv" csv={() => toCsv(rows, AUDIT_CSV)} />
        </Field>
      </Stack>
      {page.error && <ErrorAlert title="Could not load the audit log" error={page.error} />}
      {!page.data && page.loading && <LoadingPlaceholder text="Loading the audit log..." />}
      {page.data && rows.length === 0 && <p className={t.muted} data-testid={testIds.audit.empty}>No audit entry matches these filters.</p>}
      {rows.length > 0 && (
        <table className={t.table} data-testid={testIds.audit.table}>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Kind</th>
              <th scope="col">Action</th>
              <th scope="col">Site</th>
              <th scope="col">Decision</th>
              <th scope="col">Reason</th>
              <th scope="col">Who</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
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
      {extra.error && <ErrorAlert title="Could not load more" error={extra.error} />}
      {next !== null && (
        <Button className={s.more} variant="secondary" data-testid={testIds.audit.loadMore} disabled={extra.loading} onClick={more}>
          {extra.loading ? 'Loading...' : 'Load older entries'}
        </Button>
      )}
    </div>
  );
}

const styles = (theme: GrafanaTheme2) => ({
  field: css({ marginBottom: theme.spacing(2) }),
  more: css({ marginTop: theme.spacing(2) }),
  details: css({ maxWidth: 360, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }),
});
