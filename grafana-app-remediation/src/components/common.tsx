// Small shared pieces of the pages: outcome badge, site and alert links, errors.
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Alert, Badge, type BadgeColor, Button, Field, Input, TextLink, useStyles2 } from '@grafana/ui';
import React, { useEffect, useState } from 'react';
import type { Paged } from '../env.js';
import { ApiError } from '../api.js';
import { actionOutcome, mcpJobUrl, safeExternalUrl, siteDashboardUrl, siteProblem, type Tone } from '../logic.js';
import type { Action } from '../types.js';
import { testIds } from '../testIds.js';

const BADGE: Record<Tone, BadgeColor> = { green: 'green', red: 'red', orange: 'orange', blue: 'blue', purple: 'purple', gray: 'darkgrey' };

export function OutcomeBadge({ action }: { action: Pick<Action, 'state' | 'result'> }) {
  const o = actionOutcome(action);
  return <Badge data-testid={testIds.common.outcome} text={o.text} color={BADGE[o.tone]} />;
}

export function SiteLink({ site, subUrl }: { site: string; subUrl: string }) {
  return (
    <a data-testid={testIds.common.siteLink} href={siteDashboardUrl(site, subUrl)} title={`Open the ${site} site dashboard`} className={useStyles2(linkStyle)}>
      {site}
    </a>
  );
}

export function AlertLink({ action }: { action: Pick<Action, 'alertname' | 'generatorURL'> }) {
  const url = safeExternalUrl(action.generatorURL);
  const name = action.alertname ?? 'alert';
  if (!url) return <span>{name}</span>;
  return (
    <TextLink data-testid={testIds.common.alertLink} href={url} external inline={false} title="Open the alert's source (Prometheus generatorURL)">
      {name}
    </TextLink>
  );
}

/** An action row's Site and Alert cells: links to the site dashboard and to the alert's source. */
export function SiteAlertCells({ action, subUrl }: { action: Pick<Action, 'site' | 'alertname' | 'generatorURL'>; subUrl: string }) {
  return (
    <>
      <td>
        <SiteLink site={action.site} subUrl={subUrl} />
      </td>
      <td>
        <AlertLink action={action} />
      </td>
    </>
  );
}

/** The action's MCP job id, linked to the MCP's record of the job when the MCP's URL is known. */
export function JobLink({ jobId, mcpUrl, title }: { jobId: string | null; mcpUrl?: string; title?: string }) {
  const href = mcpJobUrl(mcpUrl, jobId);
  if (!jobId) return <span>-</span>;
  if (!href) return <span title={title}>{jobId}</span>;
  return (
    <TextLink data-testid={testIds.common.jobLink} href={href} external inline={false} title={title ?? 'Open the provisioning job at the MCP'}>
      {jobId}
    </TextLink>
  );
}

/** Downloads `csv` as a file (built in the browser from the rows on screen). */
export function CsvButton({ name, csv, testId }: { name: string; csv: () => string; testId: string }) {
  const download = () => {
    const url = URL.createObjectURL(new Blob([csv()], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <Button variant="secondary" icon="download-alt" data-testid={testId} onClick={download}>
      Export CSV
    </Button>
  );
}

/** A table's header row: one <th> per column (scope="col" where asked). */
export function TableHead({ columns, scope }: { columns: React.ReactNode[]; scope?: 'col' }) {
  return (
    <thead>
      <tr>
        {columns.map((c, i) => (
          <th key={i} scope={scope}>{c}</th>
        ))}
      </tr>
    </thead>
  );
}

/** The site filter of a list page: checked as typed, applied on Enter or leaving the field. */
export function SiteFilter({ id, testId, site, onApply }: { id: string; testId: string; site: string; onApply: (site: string) => void }) {
  const t = useStyles2(tableStyles);
  const [text, setText] = useState(site);
  useEffect(() => setText(site), [site]);
  const problem = siteProblem(text);
  const apply = () => {
    if (!problem && text.trim() !== site) onApply(text.trim());
  };
  return (
    <Field label="Site" invalid={!!problem} error={problem} className={t.field}>
      <Input id={id} data-testid={testId} width={20} placeholder="all sites" value={text}
        onChange={(e) => setText(e.currentTarget.value)} onBlur={apply} onKeyDown={(e) => e.key === 'Enter' && apply()} />
    </Field>
  );
}

/** Below a paged list: why the last page did not load, and the button for the next older page. */
export function MoreButton<T>({ paged, testId, label }: { paged: Paged<T>; testId: string; label: string }) {
  const t = useStyles2(tableStyles);
  return (
    <>
      {paged.moreError && <ErrorAlert title="Could not load more" error={paged.moreError} />}
      {paged.next !== null && (
        <Button className={t.more} variant="secondary" data-testid={testId} disabled={paged.loadingMore} onClick={paged.more}>
          {paged.loadingMore ? 'Loading...' : label}
        </Button>
      )}
    </>
  );
}

export function ErrorAlert({ error, title }: { error: Error; title: string }) {
  const problems = error instanceof ApiError ? error.problems : [];
  return (
    <Alert data-testid={testIds.common.error} severity="error" title={title}>
      {error.message}
      {problems.length > 0 && (
        <ul>
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
    </Alert>
  );
}

const linkStyle = (theme: GrafanaTheme2) => css({ color: theme.colors.text.link, whiteSpace: 'nowrap', '&:hover': { textDecoration: 'underline' } });

export const tableStyles = (theme: GrafanaTheme2) => ({
  table: css({
    width: '100%',
    borderCollapse: 'collapse',
    fontSize: theme.typography.bodySmall.fontSize,
    'th, td': { padding: theme.spacing(0.75, 1), borderBottom: `1px solid ${theme.colors.border.weak}`, textAlign: 'left', verticalAlign: 'middle' },
    th: { color: theme.colors.text.secondary, fontWeight: theme.typography.fontWeightMedium, whiteSpace: 'nowrap' },
    'tbody tr:hover': { background: theme.colors.action.hover },
  }),
  mono: css({ fontFamily: theme.typography.fontFamilyMonospace, fontSize: theme.typography.bodySmall.fontSize }),
  muted: css({ color: theme.colors.text.secondary }),
  section: css({ marginBottom: theme.spacing(3) }),
  heading: css({ marginBottom: theme.spacing(1.5) }),
  /** A filter field above a list. */
  field: css({ marginBottom: theme.spacing(2) }),
  more: css({ marginTop: theme.spacing(2) }),
});
