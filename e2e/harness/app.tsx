// Harness page of the remediation app plugin, served by the Grafana stand-in
// (e2e/app/grafana-standin.mjs) at Grafana's own paths:
//   PLUGIN_BASE_URL/<overview|history|policies|audit>   the app's root page (/a/<id>/...)
//   CONFIG_PAGE_URL                                      its configuration page (/plugins/<id>)
// window.grafanaBootData (user, org role, theme) is injected by the stand-in
// for the signed-in session. The plugin is used as Grafana loads it (module.ts
// `plugin`: root page and config page) with a BackendSrv over window.fetch,
// so every call goes to the stand-in's /api/plugin-proxy routes.
import { createTheme, type AppPluginMeta } from '@grafana/data';
import { config, locationService, setBackendSrv, type BackendSrv, type BackendSrvRequest, type FetchResponse } from '@grafana/runtime';
import { GlobalStyles, ThemeContext } from '@grafana/ui';
import React from 'react';
import { createRoot } from 'react-dom/client';
import { Observable } from 'rxjs';
import { PLUGIN_BASE_URL, SETTINGS_URL } from '../../grafana-app-remediation/src/constants.js';
import { plugin } from '../../grafana-app-remediation/src/module.js';
import type { AppSettings } from '../../grafana-app-remediation/src/types.js';
import { harnessIds } from './testIds.js';

function fetchObservable<T>(o: BackendSrvRequest): Observable<FetchResponse<T>> {
  return new Observable((sub) => {
    const ctrl = new AbortController();
    const hasBody = o.data !== undefined && o.method !== 'GET';
    fetch(o.url, { method: o.method ?? 'GET', credentials: 'same-origin', signal: ctrl.signal, headers: { Accept: 'application/json', ...(hasBody ? { 'Content-Type': 'application/json' } : {}) }, ...(hasBody ? { body: JSON.stringify(o.data) } : {}) })
      .then(async (r) => {
        const text = await r.text();
        let data: unknown = text;
        try { data = text ? JSON.parse(text) : null; } catch { /* text */ }
        const resp = { status: r.status, statusText: r.statusText, ok: r.ok, data, headers: r.headers, redirected: r.redirected, type: r.type, url: r.url, config: o } as unknown as FetchResponse<T>;
        if (r.ok) { sub.next(resp); sub.complete(); } else sub.error({ status: r.status, statusText: r.statusText, data, config: o });
      })
      .catch((e) => sub.error(e));
    return () => ctrl.abort();
  });
}
setBackendSrv({ fetch: fetchObservable } as unknown as BackendSrv);

const boot = (window as unknown as { grafanaBootData: { user: { theme: string } } }).grafanaBootData;
const themeName = boot.user.theme === 'light' ? 'light' : 'dark';
const theme = createTheme({ colors: { mode: themeName } });

interface Include { type: string; name: string; path: string; uid?: string; addToNav?: boolean }

/**
 * The app's section of Grafana's navigation, built as Grafana builds it from
 * plugin.json `includes` (pkg/services/navtree: pages with addToNav under
 * /a/<id>/..., dashboards by uid). The plugin draws no navigation itself.
 */
function AppNav({ includes }: { includes: Include[] }) {
  const [path, setPath] = React.useState(location.pathname);
  React.useEffect(() => locationService.getHistory().listen((l: { pathname: string }) => setPath(l.pathname)), []);
  return (
    <nav aria-label="OptiFiber Remediation" data-testid={harnessIds.nav} style={{ display: 'flex', gap: 16, marginBottom: 12, borderBottom: `1px solid ${theme.colors.border.weak}` }}>
      {includes.filter((i) => i.addToNav).map((i) => {
        const href = i.type === 'dashboard' ? `/d/${i.uid}` : i.path;
        const id = i.type === 'dashboard' ? `dashboard-${i.uid}` : i.path.split('/').pop();
        const active = path === href;
        return (
          <a key={href} href={href} data-testid={harnessIds.navItem(String(id))} aria-current={active ? 'page' : undefined}
            style={{ padding: '6px 2px', color: active ? theme.colors.text.primary : theme.colors.text.secondary, borderBottom: active ? `2px solid ${theme.colors.primary.main}` : '2px solid transparent', textDecoration: 'none' }}
            onClick={(e) => { if (i.type === 'page') { e.preventDefault(); locationService.push(href); } }}>
            {i.name}
          </a>
        );
      })}
    </nav>
  );
}

declare global {
  interface Window { __ready?: boolean; __pluginMeta?: unknown }
}

async function main() {
  const r = await fetch(SETTINGS_URL, { credentials: 'same-origin' });
  const meta = (await r.json()) as AppPluginMeta<AppSettings>;
  window.__pluginMeta = meta;
  plugin.init(meta);
  plugin.meta = meta;
  const Root = plugin.root!;
  const Config = plugin.configPages![0]!.body;
  const isConfig = location.pathname.startsWith('/plugins/');
  createRoot(document.getElementById('root')!).render(
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <div data-testid={harnessIds.frame} data-theme={themeName} style={{ background: theme.colors.background.canvas, color: theme.colors.text.primary, fontFamily: theme.typography.fontFamily, padding: 16, minHeight: '100vh', boxSizing: 'border-box' }}>
        <div style={{ background: theme.colors.background.primary, border: `1px solid ${theme.colors.border.weak}`, borderRadius: 2, padding: 16, maxWidth: 1240 }}>
          <h2 style={{ marginTop: 0 }} data-testid={harnessIds.pageTitle}>{isConfig ? 'OptiFiber Remediation: configuration' : 'OptiFiber Remediation'} <small style={{ color: theme.colors.text.secondary, fontSize: 13 }}>signed in as {config.bootData.user.login} ({String(config.bootData.user.orgRole)})</small></h2>
          {!isConfig && <AppNav includes={(meta as unknown as { includes: Include[] }).includes ?? []} />}
          {isConfig ? <Config plugin={plugin} query={{}} /> : <Root meta={meta} basename={PLUGIN_BASE_URL} onNavChanged={() => {}} query={{}} path={location.pathname} />}
        </div>
      </div>
    </ThemeContext.Provider>,
  );
  window.__ready = true;
}
main().catch((e) => { document.body.textContent = `harness error: ${e}`; });
