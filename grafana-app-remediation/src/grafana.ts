// What the plugin takes from Grafana at runtime: the transport (backendSrv,
// which adds Grafana's session and CSRF handling) and the signed-in user's
// org role from the boot data. Kept apart so pages and tests can inject both.
import { config, getBackendSrv, isFetchError } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';
import type { Fetcher } from './api.js';
import { effectiveRole } from './roles.js';
import type { Role } from './types.js';

export function grafanaFetcher(): Fetcher {
  return async ({ method, url, data }) => {
    try {
      const r = await lastValueFrom(getBackendSrv().fetch<unknown>({ method, url, data, showErrorAlert: false, showSuccessAlert: false }));
      return { status: r.status, data: r.data };
    } catch (e) {
      if (isFetchError(e)) return { status: e.status, data: e.data };
      throw e;
    }
  };
}

/** The user's role as Grafana's route check sees it (the org role). */
export function grafanaUserRole(): Role | undefined {
  return effectiveRole((config.bootData?.user as { orgRole?: string } | undefined)?.orgRole);
}

export function grafanaSubUrl(): string {
  return config.appSubUrl ?? '';
}
