// Policies: cooldowns, limits, dry-run, approval mode and per-site overrides
// (Editors and Admins save; Viewers read), and the kill switch (Admins only).
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Alert, Badge, Button, ConfirmModal, Field, FieldSet, IconButton, Input, LoadingPlaceholder, Stack, Switch, useStyles2 } from '@grafana/ui';
import React, { useEffect, useState } from 'react';
import { useEnv, useLoad } from '../env.js';
import { describePatch, formatAge, formatDuration, policyPatch, POLICY_FIELDS, toForm, validateForm, type PolicyForm } from '../logic.js';
import { whyNot } from '../roles.js';
import type { KillSwitch } from '../types.js';
import { ErrorAlert, tableStyles } from './common.js';
import { testIds } from '../testIds.js';

export function Policies() {
  return (
    <div data-testid={testIds.app.page('policies')}>
      <KillSwitchSection />
      <PolicySection />
    </div>
  );
}

function PolicySection() {
  const env = useEnv();
  const s = useStyles2(styles);
  const t = useStyles2(tableStyles);
  const doc = useLoad(() => env.api.policies(), [env.api]);
  const [form, setForm] = useState<PolicyForm | null>(null);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<Error | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    if (doc.data) setForm(toForm(doc.data.policy));
  }, [doc.data]);

  if (!doc.data && doc.loading) return <LoadingPlaceholder text="Loading policy..." />;
  if (!doc.data || !form) return doc.error ? <ErrorAlert title="Could not load the policy" error={doc.error} /> : null;
  const canEdit = env.can.editPolicies;
  const result = validateForm(form);
  const patch = result.policy ? policyPatch(doc.data.policy, result.policy) : {};
  const dirty = Object.keys(patch).length > 0;
  const set = (f: Partial<PolicyForm>) => {
    setSaved(null);
    setForm({ ...form, ...f });
  };
  const save = async () => {
    if (!result.policy || !dirty) return;
    setSaving(true);
    setSaveError(null);
    try {
      await env.api.putPolicies(patch);
      setSaved(`Policy saved: ${describePatch(patch)}`);
      doc.reload();
    } catch (e) {
      setSaveError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setSaving(false);
    }
  };
  const p = result.problems;

  return (
    <section data-testid={testIds.policies.form}>
      <h3 className={t.heading}>Policy</h3>
      <p className={t.muted} data-testid={testIds.policies.updated}>
        {doc.data.updatedBy ? `Last changed by ${doc.data.updatedBy} ${formatAge(doc.data.updatedAt, env.now())}.` : 'Seeded from the service configuration.'}
      </p>
      {!canEdit && (
        <Alert data-testid={testIds.policies.readonly} severity="info" title="Read only">
          {whyNot('Editor', env.role)} to change the policy.
        </Alert>
      )}
      <FieldSet label="Mode">
        <Field label="Dry run" description="Decide and audit every alert, never call the MCP controller.">
          <Switch id="policy-dry_run" data-testid={testIds.policies.field('dry_run')} value={form.dry_run} disabled={!canEdit} onChange={(e) => set({ dry_run: e.currentTarget.checked })} />
        </Field>
        <Field label="Approval required" description="Every action waits for an Admin on the Overview page.">
          <Switch id="policy-approval_required" data-testid={testIds.policies.field('approval_required')} value={form.approval_required} disabled={!canEdit} onChange={(e) => set({ approval_required: e.currentTarget.checked })} />
        </Field>
      </FieldSet>
      <FieldSet label="Limits">
        <div className={s.grid}>
          {POLICY_FIELDS.map((f) => (
            <Field key={f.key} label={f.label} description={f.description} invalid={!!p[f.key]} error={p[f.key]}>
              <Input
                id={`policy-${f.key}`}
                data-testid={testIds.policies.field(f.key)}
                type="number"
                min={f.min}
                max={f.max}
                width={16}
                disabled={!canEdit}
                value={form.numbers[f.key]}
                suffix={f.unit === 'seconds' ? <span className={t.muted}>s{/^\d+$/.test(form.numbers[f.key]) && Number(form.numbers[f.key]) >= 60 ? ` (${formatDuration(Number(form.numbers[f.key]))})` : ''}</span> : undefined}
                onChange={(e) => set({ numbers: { ...form.numbers, [f.key]: e.currentTarget.value } })}
              />
            </Field>
          ))}
        </div>
      </FieldSet>
      <SiteOverrides form={form} set={set} canEdit={canEdit} problems={p} />
      {saveError && <ErrorAlert title="The service refused the policy" error={saveError} />}
      {saved && <Alert data-testid={testIds.policies.saved} severity="success" title={saved} />}
      <Stack gap={1}>
        <span title={canEdit ? undefined : whyNot('Editor', env.role)}>
          <Button data-testid={testIds.policies.save} icon="save" disabled={!canEdit || !dirty || !result.policy || saving} onClick={save}>
            {saving ? 'Saving...' : 'Save policy'}
          </Button>
        </span>
        <Button variant="secondary" data-testid={testIds.policies.reset} disabled={!dirty && Object.keys(p).length === 0} onClick={() => setForm(toForm(doc.data!.policy))}>
          Discard changes
        </Button>
        {dirty && result.policy && (
          <Badge data-testid={testIds.policies.dirty} color="orange" text={describePatch(patch)} />
        )}
      </Stack>
    </section>
  );
}

/** Per-site cooldown and module limits, one row per site. */
function SiteOverrides({ form, set, canEdit, problems: p }: { form: PolicyForm; set: (f: Partial<PolicyForm>) => void; canEdit: boolean; problems: Record<string, string> }) {
  const s = useStyles2(styles);
  const t = useStyles2(tableStyles);
  return (
    <FieldSet label="Per-site overrides">
      {form.sites.length === 0 && <p className={t.muted}>None: every site uses the limits above.</p>}
      {form.sites.map((row, i) => {
        const upd = (r: Partial<typeof row>) => set({ sites: form.sites.map((x, j) => (j === i ? { ...x, ...r } : x)) });
        return (
          <Stack key={i} gap={1} alignItems="flex-start" data-testid={testIds.policies.siteOverride}>
            <Field label={i === 0 ? 'Site' : undefined} invalid={!!p[`sites.${i}.site`]} error={p[`sites.${i}.site`]}>
              <Input aria-label={`override ${i + 1} site`} width={20} disabled={!canEdit} value={row.site} onChange={(e) => upd({ site: e.currentTarget.value })} />
            </Field>
            <Field label={i === 0 ? 'Cooldown (s)' : undefined} invalid={!!p[`sites.${i}.cooldown_seconds`]} error={p[`sites.${i}.cooldown_seconds`]}>
              <Input aria-label={`override ${i + 1} cooldown`} type="number" width={14} disabled={!canEdit} value={row.cooldown_seconds} placeholder="default" onChange={(e) => upd({ cooldown_seconds: e.currentTarget.value })} />
            </Field>
            <Field label={i === 0 ? 'Max CMD modules' : undefined} invalid={!!p[`sites.${i}.max_cmd_modules`]} error={p[`sites.${i}.max_cmd_modules`]}>
              <Input aria-label={`override ${i + 1} max modules`} type="number" width={14} disabled={!canEdit} value={row.max_cmd_modules} placeholder="default" onChange={(e) => upd({ max_cmd_modules: e.currentTarget.value })} />
            </Field>
            {canEdit && <IconButton className={i === 0 ? s.removeFirst : undefined} name="trash-alt" aria-label={`Remove override ${i + 1}`} onClick={() => set({ sites: form.sites.filter((_, j) => j !== i) })} />}
          </Stack>
        );
      })}
      {canEdit && (
        <Button size="sm" variant="secondary" icon="plus" data-testid={testIds.policies.addOverride} onClick={() => set({ sites: [...form.sites, { site: '', cooldown_seconds: '', max_cmd_modules: '' }] })}>
          Add site override
        </Button>
      )}
    </FieldSet>
  );
}

function KillSwitchSection() {
  const env = useEnv();
  const t = useStyles2(tableStyles);
  const s = useStyles2(styles);
  const ks = useLoad(() => env.api.killSwitch(), [env.api]);
  const [reason, setReason] = useState('');
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [current, setCurrent] = useState<KillSwitch | null>(null);
  useEffect(() => {
    if (ks.data) setCurrent(ks.data);
  }, [ks.data]);
  if (!current) return ks.error ? <ErrorAlert title="Could not load the kill switch" error={ks.error} /> : <LoadingPlaceholder text="Loading kill switch..." />;
  const can = env.can.killSwitch;
  const flip = async () => {
    setConfirm(false);
    setError(null);
    try {
      setCurrent(await env.api.setKillSwitch(!current.enabled, reason.trim() || undefined));
      setReason('');
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  return (
    <section className={t.section} data-testid={testIds.killSwitch.section} data-enabled={String(current.enabled)}>
      <h3 className={t.heading}>
        Kill switch <Badge data-testid={testIds.killSwitch.badge} text={current.enabled ? 'ON: automation stopped' : 'off'} color={current.enabled ? 'red' : 'green'} />
      </h3>
      <p className={t.muted}>
        Stops every new action and approval at once; an action already submitted to the MCP controller completes.
        {current.by ? ` Last changed by ${current.by} ${formatAge(current.at, env.now())}${current.reason ? ` (${current.reason})` : ''}.` : ''}
      </p>
      {error && <ErrorAlert title="The service refused" error={error} />}
      {!can && (
        <p className={t.muted} data-testid={testIds.killSwitch.hint}>
          {whyNot('Admin', env.role)} to flip the kill switch.
        </p>
      )}
      <Stack gap={1} alignItems="center">
        {can && <Input className={s.reason} data-testid={testIds.killSwitch.reason} placeholder="Reason (audit log)" width={40} value={reason} onChange={(e) => setReason(e.currentTarget.value)} />}
        <span title={can ? undefined : whyNot('Admin', env.role)}>
          <Button data-testid={testIds.killSwitch.toggle} variant={current.enabled ? 'primary' : 'destructive'} icon={current.enabled ? 'play' : 'pause'} disabled={!can} onClick={() => setConfirm(true)}>
            {current.enabled ? 'Release kill switch' : 'Engage kill switch'}
          </Button>
        </span>
      </Stack>
      <ConfirmModal
        isOpen={confirm}
        title={current.enabled ? 'Release the kill switch' : 'Engage the kill switch'}
        body={current.enabled ? 'Automation resumes: new alerts may provision CMD modules again.' : 'No new remediation action or approval until the kill switch is released.'}
        confirmText={current.enabled ? 'Release' : 'Engage'}
        confirmVariant={current.enabled ? 'primary' : 'destructive'}
        onConfirm={flip}
        onDismiss={() => setConfirm(false)}
      />
    </section>
  );
}

const styles = (theme: GrafanaTheme2) => ({
  grid: css({ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(260px, 1fr))', columnGap: theme.spacing(2) }),
  removeFirst: css({ marginTop: theme.spacing(3.5) }),
  reason: css({ maxWidth: 360 }),
});
