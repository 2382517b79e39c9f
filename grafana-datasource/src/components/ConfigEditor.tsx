// Data source settings: exporter URL, authentication, long-poll hold time.
// Secrets go to secureJsonData (write-only): after saving, the browser only
// learns that they are configured (secureJsonFields), never their value.
// The data source only reads: its credential must have the exporter's `read`
// scope (a read bearer token or a basic-auth user, docs/security.md), never
// the control token, and plugin.json's routes are GET-only. The exporter URL
// lives in jsonData only, never in the data source's top-level URL: Grafana
// forwards a request that matches no route (e.g. a POST) to that URL, with
// basic auth attached, so leaving it empty means such a request goes nowhere.
import { type DataSourcePluginOptionsEditorProps, type SelectableValue } from '@grafana/data';
import { Field, FieldSet, Input, RadioButtonGroup, SecretInput } from '@grafana/ui';
import React, { useEffect } from 'react';
import type { AuthType, OptiFiberOptions, OptiFiberSecureJsonData } from '../types.js';
import { testIds } from '../testIds.js';

type Props = DataSourcePluginOptionsEditorProps<OptiFiberOptions, OptiFiberSecureJsonData & { basicAuthPassword?: string }>;

const AUTH_OPTIONS: Array<SelectableValue<AuthType>> = [
  { label: 'None', value: 'none' },
  { label: 'Read token', value: 'bearer', description: 'A bearer token with the read scope only' },
  { label: 'Basic auth', value: 'basic', description: 'A basic-auth user with the read scope' },
];

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields } = options;
  const secure = options.secureJsonData ?? {};
  const auth = jsonData.authType ?? 'none';
  const setJson = (patch: Partial<OptiFiberOptions>) => onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });
  const setSecure = (key: 'token' | 'basicAuthPassword', value: string | undefined, reset = false) =>
    onOptionsChange({
      ...options,
      secureJsonFields: reset ? { ...secureJsonFields, [key]: false } : secureJsonFields,
      secureJsonData: { ...secure, [key]: value ?? '' },
    });

  // Settings saved by earlier versions carry the exporter URL at the top level too.
  useEffect(() => {
    if (options.url) onOptionsChange({ ...options, url: '', jsonData: { ...jsonData, url: jsonData.url || options.url } });
  }, [options, jsonData, onOptionsChange]);

  return (
    <div data-testid={testIds.configEditor.container}>
      <FieldSet label="Exporter">
        <Field label="URL" description="The exporter's base URL as Grafana's server reaches it (requests go through Grafana's data-source proxy)." required>
          <Input
            id="optifiber-url"
            width={48}
            placeholder="http://127.0.0.1:9886"
            value={jsonData.url ?? ''}
            onChange={(e) => {
              const url = e.currentTarget.value.trim();
              onOptionsChange({ ...options, url: '', jsonData: { ...jsonData, url } });
            }}
          />
        </Field>
        <Field label="Live poll hold time" description="Seconds the exporter holds a live-mode long poll; keep below Grafana's data proxy timeout (30 s).">
          <Input id="optifiber-poll" type="number" width={12} min={1} max={25} value={jsonData.pollTimeoutSeconds ?? 20}
            onChange={(e) => setJson({ pollTimeoutSeconds: Number(e.currentTarget.value) || 20 })} />
        </Field>
      </FieldSet>
      <FieldSet label="Authentication">
        <Field label="Method" description="What the exporter's --web.config.file requires. Use a credential with the read scope only: this data source never changes the network.">
          <RadioButtonGroup<AuthType> options={AUTH_OPTIONS} value={auth}
            onChange={(authType) => onOptionsChange({ ...options, basicAuth: authType === 'basic', jsonData: { ...jsonData, authType } })} />
        </Field>
        {auth === 'bearer' && (
          <Field label="Read token" description="A bearer token whose scope is read (web config bearer_tokens), never the control token. Sent by Grafana's server as Authorization: Bearer on GET requests only; never returned to the browser.">
            <SecretInput id="optifiber-token" width={48} placeholder="read-scope bearer token" isConfigured={!!secureJsonFields?.token}
              value={secure.token ?? ''} onChange={(e) => setSecure('token', e.currentTarget.value)} onReset={() => setSecure('token', '', true)} />
          </Field>
        )}
        {auth === 'basic' && (
          <>
            <Field label="User" description="A basic-auth user with the read scope (basic_auth_scopes).">
              <Input id="optifiber-user" width={32} value={options.basicAuthUser ?? ''} onChange={(e) => onOptionsChange({ ...options, basicAuth: true, basicAuthUser: e.currentTarget.value })} />
            </Field>
            <Field label="Password" description="Stored encrypted by Grafana; never returned to the browser.">
              <SecretInput id="optifiber-password" width={32} isConfigured={!!secureJsonFields?.basicAuthPassword}
                value={secure.basicAuthPassword ?? ''} onChange={(e) => setSecure('basicAuthPassword', e.currentTarget.value)} onReset={() => setSecure('basicAuthPassword', '', true)} />
            </Field>
          </>
        )}
      </FieldSet>
    </div>
  );
}
