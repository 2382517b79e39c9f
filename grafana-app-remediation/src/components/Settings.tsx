// Settings: the alert thresholds as data. Every threshold the alert rules use,
// its fleet default and the per-site overrides (Prometheus takes a site's
// override, else the fleet default, else the exporter's configured value).
// Editors and Admins change one value at a time with a reason (audited);
// Viewers read.
import { css } from '@emotion/css';
import type { GrafanaTheme2, SelectableValue } from '@grafana/data';
import { Alert, Button, Field, Input, LoadingPlaceholder, Select, Stack, useStyles2 } from '@grafana/ui';
import React, { useState } from 'react';
import { useEnv, useLoad } from '../env.js';
import { formatTime, thresholdChange, type ThresholdForm } from '../logic.js';
import { whyNot } from '../roles.js';
import type { ThresholdsDoc } from '../types.js';
import { ErrorAlert, tableStyles } from './common.js';
import { testIds } from '../testIds.js';

const EMPTY_FORM: ThresholdForm = { scope: 'fleet', threshold: 'osnr_low_db', value: '', reason: '' };

export function Settings() {
  const env = useEnv();
  const t = useStyles2(tableStyles);
  const s = useStyles2(styles);
  const doc = useLoad(() => env.api.thresholds(), [env.api]);
  const [saved, setSaved] = useState<ThresholdsDoc | undefined>();
  const data = saved ?? doc.data;
  const [form, setForm] = useState<ThresholdForm>(EMPTY_FORM);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const canEdit = env.can.editPolicies;

  if (doc.error && !data) return <ErrorAlert title="Could not load the thresholds" error={doc.error} />;
  if (!data) return <LoadingPlaceholder text="Loading thresholds..." />;
  const { change, problems } = thresholdChange(form, data.definitions);
  const touched = form.value !== '' || form.reason !== '';
  const save = async () => {
    if (!change) return;
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      setSaved(await env.api.putThreshold(change));
      const def = data.definitions.find((d) => d.key === change.threshold)!;
      setDone(`${def.label} for ${change.scope === 'fleet' ? 'the fleet' : change.scope}: ${change.value === null ? 'removed' : `${change.value} ${def.unit}`}`);
      setForm({ ...form, value: '', reason: '' });
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  const sites = Object.keys(data.sites).sort();

  return (
    <div data-testid={testIds.app.page('settings')}>
      <p className={t.muted}>
        Alert thresholds. A site&apos;s override wins, else the fleet default, else the exporter&apos;s configured value. Prometheus reads them from the
        service within a scrape; each change is in the audit log with who, before, after and why.
      </p>
      <table className={t.table} data-testid={testIds.settings.table}>
        <thead>
          <tr>
            <th scope="col">Threshold</th>
            <th scope="col">Unit</th>
            <th scope="col">Fleet default</th>
            <th scope="col">Site overrides</th>
            <th scope="col">Meaning</th>
          </tr>
        </thead>
        <tbody>
          {data.definitions.map((d) => (
            <tr key={d.key} data-testid={testIds.settings.row} data-key={d.key}>
              <th scope="row">{d.label}</th>
              <td>{d.unit}</td>
              <td data-testid={testIds.settings.fleetValue}>{data.fleet[d.key] ?? <span className={t.muted}>exporter config</span>}</td>
              <td data-testid={testIds.settings.siteValues}>
                {sites.filter((x) => data.sites[x]![d.key] !== undefined).map((x) => `${x} ${data.sites[x]![d.key]}`).join(', ') || <span className={t.muted}>none</span>}
              </td>
              <td className={t.muted}>{d.help}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data.updatedAt && <p className={t.muted}>Last changed by {data.updatedBy ?? 'unknown'} at {formatTime(data.updatedAt)}</p>}

      <h3 className={s.heading}>Change a threshold</h3>
      {!canEdit && (
        <Alert severity="info" title="Read only" data-testid={testIds.settings.readonly}>
          {whyNot('Editor', env.role)} to change thresholds.
        </Alert>
      )}
      <Stack gap={1} wrap="wrap" alignItems="flex-start">
        <Field label="Scope" description="fleet, or a site name" invalid={touched && !!problems.scope} error={touched ? problems.scope : undefined} disabled={!canEdit}>
          <Input id="threshold-scope" width={18} value={form.scope} onChange={(e) => setForm({ ...form, scope: e.currentTarget.value })} />
        </Field>
        <Field label="Threshold" disabled={!canEdit}>
          <Select<string> inputId="threshold-key" width={30} disabled={!canEdit}
            options={data.definitions.map((d): SelectableValue<string> => ({ label: d.label, value: d.key, description: `${d.min}..${d.max} ${d.unit}` }))}
            value={form.threshold} onChange={(v) => setForm({ ...form, threshold: v.value ?? '' })} />
        </Field>
        <Field label="Value" description="empty = remove" invalid={touched && !!problems.value} error={touched ? problems.value : undefined} disabled={!canEdit}>
          <Input id="threshold-value" width={14} value={form.value} onChange={(e) => setForm({ ...form, value: e.currentTarget.value })} />
        </Field>
        <Field label="Reason" description="goes to the audit log" invalid={touched && !!problems.reason} error={touched ? problems.reason : undefined} disabled={!canEdit}>
          <Input id="threshold-reason" width={40} value={form.reason} onChange={(e) => setForm({ ...form, reason: e.currentTarget.value })} />
        </Field>
        {/* no `disabled` on this Field: Field passes it down and would override the Button's own */}
        <Field label="Apply">
          <Button data-testid={testIds.settings.save} disabled={!canEdit || !change || busy} onClick={save}>
            {busy ? 'Saving...' : 'Save'}
          </Button>
        </Field>
      </Stack>
      {error && <ErrorAlert title="The service refused the change" error={error} />}
      {done && (
        <Alert severity="success" title="Saved" data-testid={testIds.settings.saved}>
          {done}
        </Alert>
      )}
    </div>
  );
}

const styles = (theme: GrafanaTheme2) => ({
  heading: css({ marginTop: theme.spacing(3) }),
});
