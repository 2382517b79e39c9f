// Configuration page (Administration > Plugins > OptiFiber Remediation):
// the service URL (jsonData.serviceUrl) and the proxy token
// (secureJsonData.serviceToken). The token is write-only: after saving,
// Grafana only reports secureJsonFields.serviceToken = true and the page shows
// "configured"; the value is never sent back to the browser.
import type { AppPluginMeta, PluginConfigPageProps } from '@grafana/data';
import { Alert, Button, Field, FieldSet, Input, SecretInput, Stack } from '@grafana/ui';
import React, { useState } from 'react';
import { type Fetcher, RemediationApi } from '../api.js';
import { SETTINGS_URL } from '../constants.js';
import { grafanaFetcher, grafanaUserRole } from '../grafana.js';
import { settingsPayload, settingsProblems } from '../logic.js';
import { atLeast } from '../roles.js';
import type { AppSettings, Role } from '../types.js';
import { testIds } from '../testIds.js';

type Props = PluginConfigPageProps<AppPluginMeta<AppSettings>>;

export function AppConfig({ plugin }: Props) {
  return <AppConfigForm meta={plugin.meta} fetcher={grafanaFetcher()} role={grafanaUserRole()} />;
}

export function AppConfigForm({ meta, fetcher, role }: { meta: AppPluginMeta<AppSettings>; fetcher: Fetcher; role: Role | undefined }) {
  const [jsonData, setJsonData] = useState<AppSettings>(meta.jsonData ?? {});
  const [serviceUrl, setServiceUrl] = useState(meta.jsonData?.serviceUrl ?? '');
  const [token, setToken] = useState('');
  const [tokenConfigured, setTokenConfigured] = useState(!!meta.secureJsonFields?.serviceToken);
  const [touched, setTouched] = useState(false);
  const [status, setStatus] = useState<{ severity: 'success' | 'error' | 'info'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const isAdmin = atLeast(role, 'Admin');
  const draft = { serviceUrl, token, tokenConfigured };
  const problems = settingsProblems(draft);
  const valid = Object.keys(problems).length === 0;
  /** A required setting's Field: its problem is shown once the user has tried to save. */
  const required = (key: keyof typeof problems, label: string, description: string) => ({ label, description, invalid: touched && !!problems[key], error: problems[key], required: true });

  const save = async () => {
    setTouched(true);
    if (!valid) return;
    setBusy(true);
    setStatus(null);
    try {
      const r = await fetcher({ method: 'POST', url: SETTINGS_URL, data: settingsPayload(draft, jsonData as Record<string, unknown>) });
      if (r.status < 200 || r.status >= 300) throw new Error(`Grafana refused the settings (HTTP ${r.status}): ${(r.data as { message?: string })?.message ?? ''}`);
      // Read back what Grafana stored: jsonData and which secrets are set (never their values).
      const back = await fetcher({ method: 'GET', url: SETTINGS_URL });
      const d = (back.data ?? {}) as { jsonData?: AppSettings; secureJsonFields?: Record<string, boolean> };
      setJsonData(d.jsonData ?? {});
      setServiceUrl(d.jsonData?.serviceUrl ?? serviceUrl);
      setTokenConfigured(!!d.secureJsonFields?.serviceToken);
      setToken('');
      setTouched(false);
      setStatus({ severity: 'success', text: 'Settings saved. Use "Test connection" to check the service through the plugin routes.' });
    } catch (e) {
      setStatus({ severity: 'error', text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };

  const test = async () => {
    setBusy(true);
    setStatus(null);
    try {
      const me = await new RemediationApi(fetcher).whoami('Viewer');
      setStatus({ severity: 'success', text: `Connected: the service answered through the viewer route (user ${me.user}, role ${me.role}).` });
    } catch (e) {
      setStatus({ severity: 'error', text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div data-testid={testIds.appConfig.container}>
      {!isAdmin && (
        <Alert severity="info" title="Read only">
          Only organization Admins change the app settings.
        </Alert>
      )}
      <FieldSet label="Remediation service">
        <Field {...required('serviceUrl', 'Service URL', "Base URL of the remediation service as Grafana's server reaches it (the plugin routes proxy /api/v1/... to it).")}>
          <Input id="remediation-url" data-testid={testIds.appConfig.url} width={48} placeholder="http://127.0.0.1:9887" value={serviceUrl} disabled={!isAdmin} onChange={(e) => setServiceUrl(e.currentTarget.value)} />
        </Field>
        <Field {...required('token', 'Service token', "The service's api.proxy_token_file. Stored encrypted in secureJsonData; Grafana's proxy adds it as Authorization: Bearer. It is never sent back to the browser.")}>
          <SecretInput
            id="remediation-token"
            data-testid={testIds.appConfig.token}
            width={48}
            placeholder="proxy token"
            isConfigured={tokenConfigured}
            value={token}
            disabled={!isAdmin}
            onChange={(e) => setToken(e.currentTarget.value)}
            onReset={() => {
              setTokenConfigured(false);
              setToken('');
            }}
          />
        </Field>
      </FieldSet>
      {status && (
        <Alert data-testid={testIds.appConfig.status} severity={status.severity} title={status.text} />
      )}
      <Stack gap={1}>
        <Button data-testid={testIds.appConfig.save} icon="save" disabled={!isAdmin || busy} onClick={save}>
          Save settings
        </Button>
        <Button data-testid={testIds.appConfig.test} variant="secondary" icon="heart-rate" disabled={busy} onClick={test}>
          Test connection
        </Button>
      </Stack>
    </div>
  );
}
