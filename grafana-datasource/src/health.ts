// Save & Test: one GET /api/v1/sites through the proxy, with messages that
// say what to fix.
import type { Fetcher } from './api.js';
import type { SitesResponse } from './types.js';

export interface HealthResult { status: 'success' | 'error'; message: string; details?: { message: string } }

export function looksLikeSites(d: unknown): d is SitesResponse {
  if (!d || typeof d !== 'object') return false;
  const s = d as Partial<SitesResponse>;
  return typeof s.seq === 'number' && Array.isArray(s.sites) && !!s.source && typeof s.source.kind === 'string';
}

export async function checkHealth(fetcher: Fetcher, base: string, configuredUrl: string | undefined): Promise<HealthResult> {
  const where = configuredUrl ? ` at ${configuredUrl}` : '';
  if (!configuredUrl) {
    return { status: 'error', message: 'Set the exporter URL (for example http://127.0.0.1:9886) and save again.' };
  }
  let res;
  try {
    res = await fetcher(`${base}/api/v1/sites`);
  } catch (e) {
    return { status: 'error', message: `Cannot reach Grafana's data-source proxy: ${(e as Error).message}` };
  }
  const { status, data } = res;
  if (status === 502 || status === 504 || status === 0) {
    return { status: 'error', message: `Grafana's server cannot reach the exporter${where} (HTTP ${status}). Check the URL and port (default 127.0.0.1:9886, --web.listen-address) and that Grafana's host can connect to it; "localhost" means the Grafana server, not your browser.` };
  }
  if (status === 401) {
    return { status: 'error', message: `The exporter${where} asks for credentials (401). Choose the authentication the exporter's --web.config.file requires and enter the bearer token or the basic-auth user and password.` };
  }
  if (status === 403) {
    return { status: 'error', message: `The exporter${where} refused access (403): the credentials are valid but not allowed to read the API.` };
  }
  if (status === 503) {
    return { status: 'error', message: `The exporter${where} is up but has no data yet (503): it publishes its first tick once the simulator or kernel module is running. Retry in a few seconds.` };
  }
  if (status === 404 || (status >= 200 && status < 300 && !looksLikeSites(data))) {
    return { status: 'error', message: `The URL${where} answers, but not like an OptiFiber exporter (GET /api/v1/sites: ${status === 404 ? 'not found' : 'unexpected body'}). Use the exporter's base URL without a path, e.g. http://127.0.0.1:9886.` };
  }
  if (status < 200 || status >= 300) {
    return { status: 'error', message: `The exporter${where} answered HTTP ${status} to GET /api/v1/sites.` };
  }
  const body = data as SitesResponse;
  const valid = body.sites.filter((s) => s.valid).length;
  const invalid = body.sites.length - valid;
  const src = `${body.source.kind} source ${body.source.up ? 'up' : 'DOWN'}`;
  return {
    status: 'success',
    message: `OptiFiber exporter OK: ${valid} site${valid === 1 ? '' : 's'}${invalid ? ` (+${invalid} invalid page${invalid === 1 ? '' : 's'})` : ''}, ${src}, tick ${body.seq}.`,
  };
}
