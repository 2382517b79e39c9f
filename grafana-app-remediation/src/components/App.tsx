// Root page of the app (PLUGIN_BASE_URL/<overview|history|policies|audit>):
// the signed-in role and the page. Grafana draws the navigation between the
// pages from plugin.json `includes` (PluginPage places the page in it); this
// file only maps the page in the URL to its component (PAGE_COMPONENTS).
// Grafana renders <App>; tests and the browser harness render
// <RemediationApp env={...}> with their own transport.
import { css } from '@emotion/css';
import type { AppRootProps, GrafanaTheme2 } from '@grafana/data';
import { locationService, PluginPage } from '@grafana/runtime';
import { Alert, Badge, Stack, useStyles2 } from '@grafana/ui';
import React, { useEffect, useMemo, useState } from 'react';
import { RemediationApi } from '../api.js';
import { CONFIG_PAGE_URL, PLUGIN_ID } from '../constants.js';
import { EnvContext, useLoad, type AppEnv } from '../env.js';
import { grafanaFetcher, grafanaSubUrl, grafanaUserRole } from '../grafana.js';
import { auditFilterParams, filterParams, pageFromPath, parseAuditFilter, parseFilter, type PageId } from '../logic.js';
import type { AppSettings } from '../types.js';
import { Audit } from './Audit.js';
import { History } from './History.js';
import { Overview } from './Overview.js';
import { Policies } from './Policies.js';
import { Settings } from './Settings.js';
import { testIds } from '../testIds.js';

export function App(_props: AppRootProps<AppSettings>) {
  const env = useMemo<AppEnv>(() => ({ api: new RemediationApi(grafanaFetcher()), role: grafanaUserRole(), subUrl: grafanaSubUrl(), now: Date.now, refreshMs: 15_000 }), []);
  return <RemediationApp env={env} />;
}

function useLocation() {
  const [loc, setLoc] = useState(() => locationService.getLocation());
  useEffect(() => locationService.getHistory().listen((l: ReturnType<typeof locationService.getLocation>) => setLoc({ ...l })), []);
  return loc;
}

type Loc = ReturnType<typeof locationService.getLocation>;
const searchTo = (loc: Loc) => (search: URLSearchParams) => locationService.push({ pathname: loc.pathname, search: search.toString() });

/** Page id -> component (one entry per `includes` page of plugin.json). */
const PAGE_COMPONENTS: Record<PageId, (loc: Loc) => React.ReactNode> = {
  overview: () => <Overview />,
  history: (loc) => <History filter={parseFilter(new URLSearchParams(loc.search))} onFilterChange={(f) => searchTo(loc)(filterParams(f))} />,
  policies: () => <Policies />,
  settings: () => <Settings />,
  audit: (loc) => <Audit filter={parseAuditFilter(new URLSearchParams(loc.search))} onFilterChange={(f) => searchTo(loc)(auditFilterParams(f))} />,
};

export function RemediationApp({ env }: { env: AppEnv }) {
  const s = useStyles2(styles);
  const loc = useLocation();
  const page = pageFromPath(loc.pathname, PLUGIN_ID);
  const me = useLoad(() => env.api.whoami(env.role ?? 'Viewer'), [env.api, env.role]);

  return (
    <EnvContext.Provider value={env}>
      <PluginPage>
        <div data-testid={testIds.app.root} data-page={page} data-role={env.role ?? ''}>
          <Stack justifyContent="flex-end" alignItems="center">
            <span data-testid={testIds.app.whoami} className={s.who}>
              {me.data ? (
                <>
                  {me.data.user} <Badge text={env.role ?? 'no role'} color={env.role === 'Admin' ? 'red' : env.role === 'Editor' ? 'orange' : 'blue'} />
                </>
              ) : null}
            </span>
          </Stack>
          {me.error && (
            <Alert data-testid={testIds.app.notConnected} severity={me.error.message.includes('403') ? 'warning' : 'error'} title="The remediation service did not answer">
              {me.error.message}{' '}
              <a className={s.link} href={`${env.subUrl}${CONFIG_PAGE_URL}`}>
                Open the app configuration
              </a>
            </Alert>
          )}
          <div className={s.body}>{PAGE_COMPONENTS[page](loc)}</div>
        </div>
      </PluginPage>
    </EnvContext.Provider>
  );
}

const styles = (theme: GrafanaTheme2) => ({
  who: css({ color: theme.colors.text.secondary, whiteSpace: 'nowrap', marginLeft: theme.spacing(2) }),
  body: css({ paddingTop: theme.spacing(2) }),
  link: css({ color: theme.colors.text.link, textDecoration: 'underline' }),
});
