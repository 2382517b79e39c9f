// Talking to the exporter through Grafana's data-source proxy. The browser
// only ever sees `<instance url>/<route>/...`; Grafana's server adds the
// credentials (plugin.json routes: `bearer` injects the read token from
// secureJsonData; basic auth is Grafana's standard data-source basic auth).
// Both routes are GET-only: nothing that changes the network can pass.
import type { AuthType } from './types.js';

export interface FetchResult { status: number; data: unknown }
export interface FetchOptions {
  signal?: AbortSignal;
  /** Grafana's backendSrv cancels an in-flight request when another with the same id starts. */
  requestId?: string;
}
/** GET a URL; resolves with the status for HTTP errors, rejects only on network failure/abort. */
export type Fetcher = (url: string, opts?: FetchOptions) => Promise<FetchResult>;

export const ROUTES: Record<AuthType, string> = { none: 'open', basic: 'open', bearer: 'bearer' };

export function proxyBase(instanceUrl: string, authType: AuthType | undefined): string {
  return `${instanceUrl.replace(/\/+$/, '')}/${ROUTES[authType ?? 'none']}`;
}

export class ExporterError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ExporterError';
  }
}

function errorMessage(data: unknown): { code: string; message: string } | null {
  if (data && typeof data === 'object' && 'error' in data && 'message' in data) {
    const d = data as { error: unknown; message: unknown };
    return { code: String(d.error), message: String(d.message) };
  }
  if (data && typeof data === 'object' && 'message' in data) return { code: '', message: String((data as { message: unknown }).message) };
  return null;
}

/** Turns a proxied response into data or an ExporterError with an actionable message. */
export function unwrap<T>(res: FetchResult, what: string): T {
  if (res.status >= 200 && res.status < 300) return res.data as T;
  const e = errorMessage(res.data);
  switch (res.status) {
    case 401:
      throw new ExporterError(401, 'unauthorized', `The exporter refused the credentials (401) for ${what}. Check the data source's authentication (bearer token or basic-auth user/password) against the exporter's --web.config.file.`);
    case 403:
      throw new ExporterError(403, 'forbidden', `Access denied (403) for ${what}${e ? `: ${e.message}` : ''}.`);
    case 502:
    case 504:
      throw new ExporterError(res.status, 'unreachable', `Grafana's server cannot reach the exporter (${res.status}) for ${what}. Check the exporter URL in the data source settings and that the exporter runs (it listens on 127.0.0.1:9886 by default).`);
    case 503:
      throw new ExporterError(503, 'unavailable', e?.message ?? `The exporter has not published its first tick yet; retry in a second.`);
    default:
      throw new ExporterError(res.status, e?.code || 'http', e ? `${what}: ${e.message}` : `${what} failed with HTTP ${res.status}.`);
  }
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
