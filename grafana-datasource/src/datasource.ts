// The OptiFiber data source: wires Grafana's runtime (backendSrv, templateSrv)
// to the plain query/frame/live modules.
import {
  DataSourceApi,
  LoadingState,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
  type ScopedVars,
  type TestDataSourceResponse,
} from '@grafana/data';
import { getBackendSrv, getTemplateSrv } from '@grafana/runtime';
import { Observable, lastValueFrom, merge, from } from 'rxjs';
import { mapLimit, proxyBase, unwrap, type FetchOptions, type Fetcher } from './api.js';
import { eventsToFrame, forecastToFrames, historyEvents, historyToFrame } from './frames.js';
import { checkHealth } from './health.js';
import { liveStream } from './live.js';
import { historyParams, resolveSites, toQueryString, validateQuery, withDefaults, DEFAULT_QUERY } from './query.js';
import type { HistoryResponse, OptiFiberOptions, OptiFiberQuery, SitesResponse, Snapshot } from './types.js';
import { OptiFiberVariableSupport } from './variables.js';

export interface Deps {
  fetcher: Fetcher;
  interpolate: (value: string, scopedVars?: ScopedVars) => string;
}

/**
 * GET through Grafana's backendSrv (the data-source proxy), without Grafana's
 * error toasts. The requestId lets backendSrv cancel a superseded request
 * (same panel and query) when the next one starts; the signal cancels it when
 * the query's Observable is unsubscribed.
 */
export const backendFetcher: Fetcher = async (url, opts = {}) => {
  const obs = getBackendSrv().fetch({ url, method: 'GET', requestId: opts.requestId, showErrorAlert: false, showSuccessAlert: false });
  try {
    const res = await lastValueFrom(opts.signal ? abortable(obs, opts.signal) : obs);
    return { status: res.status, data: res.data };
  } catch (e) {
    const err = e as { status?: number; data?: unknown; message?: string; cancelled?: boolean };
    if (typeof err.status === 'number' && !err.cancelled) return { status: err.status, data: err.data };
    throw e;
  }
};

function abortable<T>(obs: Observable<T>, signal: AbortSignal): Observable<T> {
  return new Observable<T>((sub) => {
    const s = obs.subscribe(sub);
    const onAbort = () => { s.unsubscribe(); sub.error(new Error('aborted')); };
    signal.addEventListener('abort', onAbort, { once: true });
    return () => { signal.removeEventListener('abort', onAbort); s.unsubscribe(); };
  });
}

/** An Observable of one async result whose work is aborted on unsubscribe. */
function cancellable<T>(run: (signal: AbortSignal) => Promise<T>): Observable<T> {
  return new Observable<T>((sub) => {
    const ctrl = new AbortController();
    run(ctrl.signal).then((v) => { if (!ctrl.signal.aborted) { sub.next(v); sub.complete(); } }, (e) => { if (!ctrl.signal.aborted) sub.error(e); });
    return () => ctrl.abort();
  });
}

/** Stable per panel and query, so a new run supersedes (cancels) the previous one. */
function requestKey(request: DataQueryRequest<OptiFiberQuery>, refId: string): string {
  return `optifiber-${request.panelId ?? request.app ?? 'q'}-${refId}`;
}

export class DataSource extends DataSourceApi<OptiFiberQuery, OptiFiberOptions> {
  readonly base: string;
  readonly exporterUrl: string | undefined;
  readonly pollTimeout: number;
  private deps: Deps;

  constructor(settings: DataSourceInstanceSettings<OptiFiberOptions>, deps?: Partial<Deps>) {
    super(settings);
    this.base = proxyBase(settings.url ?? '', settings.jsonData.authType);
    this.exporterUrl = settings.jsonData.url;
    this.pollTimeout = Math.min(25, Math.max(1, settings.jsonData.pollTimeoutSeconds ?? 20));
    this.deps = {
      fetcher: deps?.fetcher ?? backendFetcher,
      interpolate: deps?.interpolate ?? ((v, sv) => getTemplateSrv().replace(v, sv, 'csv')),
    };
    this.variables = new OptiFiberVariableSupport(this);
    // Annotations use the query editor; the target runs in "events" mode.
    this.annotations = {
      prepareQuery: (anno) => {
        const t: Partial<OptiFiberQuery> = anno.target ?? {};
        return { ...DEFAULT_QUERY, ...t, refId: 'Anno', mode: 'events' } as OptiFiberQuery;
      },
    };
  }

  override getDefaultQuery(): Partial<OptiFiberQuery> {
    return DEFAULT_QUERY;
  }

  override filterQuery(q: OptiFiberQuery): boolean {
    return !q.hide;
  }

  private async get<T>(path: string, opts?: FetchOptions): Promise<T> {
    return unwrap<T>(await this.deps.fetcher(`${this.base}${path}`, opts), `GET ${path.split('?')[0]}`);
  }

  /**
   * Expands template variables in a query: each site entry (multi-value and
   * All included) and the step. The same hook name as DataSourceWithBackend,
   * where Grafana calls it; this frontend data source calls it from query()
   * and from interpolateVariablesInQueries (Explore, mixed data sources).
   */
  applyTemplateVariables(query: OptiFiberQuery, scopedVars: ScopedVars): OptiFiberQuery {
    const q = withDefaults(query);
    const interpolate = (v: string) => this.deps.interpolate(v, scopedVars);
    const step = q.step?.includes('$') ? interpolate(q.step) : q.step;
    return { ...q, sites: resolveSites(q.sites, interpolate) ?? [], ...(step ? { step } : {}) };
  }

  override interpolateVariablesInQueries(queries: OptiFiberQuery[], scopedVars: ScopedVars): OptiFiberQuery[] {
    return queries.map((q) => ({ ...this.applyTemplateVariables(q, scopedVars), datasource: this.getRef() }));
  }

  async siteNames(): Promise<string[]> {
    const r = await this.get<SitesResponse>('/api/v1/sites');
    return r.sites.filter((s) => s.valid && s.name).map((s) => s.name!).sort();
  }

  query(request: DataQueryRequest<OptiFiberQuery>): Observable<DataQueryResponse> {
    const streams: Array<Observable<DataQueryResponse>> = [];
    const batch: OptiFiberQuery[] = [];
    for (const raw of request.targets) {
      if (raw.hide) continue;
      const q = this.applyTemplateVariables(raw, request.scopedVars);
      if (q.mode === 'live') {
        const problems = validateQuery(q);
        if (problems.length) {
          streams.push(from([{ data: [], errors: problems.map((message) => ({ message, refId: q.refId })) }]));
          continue;
        }
        streams.push(liveStream({
          fetcher: this.deps.fetcher, base: this.base, refId: q.refId, metric: q.metric, sites: q.sites.length ? q.sites : null,
          windowMs: request.range.to.valueOf() - request.range.from.valueOf(), timeoutSeconds: this.pollTimeout,
          requestId: requestKey(request, q.refId),
        }));
      } else batch.push(q);
    }
    if (batch.length) streams.push(cancellable((signal) => this.runBatch(request, batch, signal)));
    return streams.length === 1 ? streams[0]! : merge(...streams);
  }

  /** history/forecast/events queries (already interpolated); `signal` aborts their requests. */
  private async runBatch(request: DataQueryRequest<OptiFiberQuery>, queries: OptiFiberQuery[], signal: AbortSignal): Promise<DataQueryResponse> {
    const data: DataQueryResponse['data'] = [];
    const errors: NonNullable<DataQueryResponse['errors']> = [];
    await Promise.all(queries.map(async (q) => {
      const problems = validateQuery(q);
      if (problems.length) {
        errors.push(...problems.map((message) => ({ message, refId: q.refId })));
        return;
      }
      try {
        const sites = q.sites.length ? q.sites : null;
        const id = requestKey(request, q.refId);
        if (q.mode === 'forecast') {
          const snap = await this.get<Snapshot>(`/api/v1/snapshot${toQueryString({ sites: sites?.join(',') })}`, { signal, requestId: `${id}-snapshot` });
          const { frames, missing } = forecastToFrames(q.refId, q.metric, snap, sites);
          data.push(...frames);
          if (missing.length) errors.push({ refId: q.refId, message: `No forecast for ${missing.length} site(s) (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}): the exporter runs without forecast models.` });
          return;
        }
        const names = sites ?? (await this.siteNames());
        const p = historyParams(request.range.from.valueOf(), request.range.to.valueOf(), request.intervalMs, q.step);
        const histories = await mapLimit(names, 6, (site) =>
          this.get<HistoryResponse>(`/api/v1/sites/${encodeURIComponent(site)}/history${toQueryString(p)}`, { signal, requestId: `${id}-${site}` }));
        if (q.mode === 'events') {
          data.push(eventsToFrame(q.refId, histories.flatMap((h) => historyEvents(h.site, h.points))));
        } else {
          for (const h of histories) data.push(historyToFrame(q.refId, q.metric, h.site, h.points));
        }
      } catch (e) {
        errors.push({ refId: q.refId, message: (e as Error).message });
      }
    }));
    return { data, errors: errors.length ? errors : undefined, state: errors.length && !data.length ? LoadingState.Error : LoadingState.Done };
  }

  async testDatasource(): Promise<TestDataSourceResponse> {
    return checkHealth(this.deps.fetcher, this.base, this.exporterUrl);
  }
}
