// The OptiFiber data source: wires Grafana's runtime (backendSrv, templateSrv)
// to the plain query/frame/live modules.
import {
  DataSourceApi,
  LoadingState,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
  type MetricFindValue,
  type ScopedVars,
  type TestDataSourceResponse,
} from '@grafana/data';
import { getBackendSrv, getTemplateSrv } from '@grafana/runtime';
import { Observable, lastValueFrom, merge, from } from 'rxjs';
import { mapLimit, proxyBase, unwrap, type Fetcher } from './api.js';
import { eventsToFrame, forecastToFrames, historyEvents, historyToFrame } from './frames.js';
import { checkHealth } from './health.js';
import { liveStream } from './live.js';
import { METRICS } from './metrics.js';
import { historyParams, resolveSites, toQueryString, validateQuery, withDefaults, DEFAULT_QUERY } from './query.js';
import type { HistoryResponse, OptiFiberOptions, OptiFiberQuery, SitesResponse, Snapshot } from './types.js';

export interface Deps {
  fetcher: Fetcher;
  interpolate: (value: string, scopedVars?: ScopedVars) => string;
}

/** GET through Grafana's backendSrv (the data-source proxy), without Grafana's error toasts. */
export const backendFetcher: Fetcher = async (url, signal) => {
  const obs = getBackendSrv().fetch({ url, method: 'GET', showErrorAlert: false, showSuccessAlert: false });
  try {
    const res = await lastValueFrom(signal ? abortable(obs, signal) : obs);
    return { status: res.status, data: res.data };
  } catch (e) {
    const err = e as { status?: number; data?: unknown; message?: string };
    if (typeof err.status === 'number') return { status: err.status, data: err.data };
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
    // Annotations use the query editor; the target runs in "events" mode.
    this.annotations = {
      prepareQuery: (anno) => {
        const t = (anno as unknown as { target?: Partial<OptiFiberQuery> }).target ?? {};
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

  private async get<T>(path: string, what = `GET ${path.split('?')[0]}`): Promise<T> {
    return unwrap<T>(await this.deps.fetcher(`${this.base}${path}`), what);
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
      const q = withDefaults(raw);
      if (q.mode === 'live') {
        const problems = validateQuery(q);
        if (problems.length) {
          streams.push(from([{ data: [], errors: problems.map((message) => ({ message, refId: q.refId })) }]));
          continue;
        }
        streams.push(liveStream({
          fetcher: this.deps.fetcher, base: this.base, refId: q.refId, metric: q.metric,
          sites: resolveSites(q.sites, (v) => this.deps.interpolate(v, request.scopedVars)),
          windowMs: request.range.to.valueOf() - request.range.from.valueOf(), timeoutSeconds: this.pollTimeout,
        }));
      } else batch.push(q);
    }
    if (batch.length) streams.push(from(this.runBatch(request, batch)));
    return streams.length === 1 ? streams[0]! : merge(...streams);
  }

  private async runBatch(request: DataQueryRequest<OptiFiberQuery>, queries: OptiFiberQuery[]): Promise<DataQueryResponse> {
    const data: DataQueryResponse['data'] = [];
    const errors: NonNullable<DataQueryResponse['errors']> = [];
    await Promise.all(queries.map(async (q) => {
      const problems = validateQuery(q);
      if (problems.length) {
        errors.push(...problems.map((message) => ({ message, refId: q.refId })));
        return;
      }
      try {
        const sites = resolveSites(q.sites, (v) => this.deps.interpolate(v, request.scopedVars));
        if (q.mode === 'forecast') {
          const snap = await this.get<Snapshot>(`/api/v1/snapshot${toQueryString({ sites: sites?.join(',') })}`);
          const { frames, missing } = forecastToFrames(q.refId, q.metric, snap, sites);
          data.push(...frames);
          if (missing.length) errors.push({ refId: q.refId, message: `No forecast for ${missing.length} site(s) (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}): the exporter runs without forecast models.` });
          return;
        }
        const names = sites ?? (await this.siteNames());
        const p = historyParams(request.range.from.valueOf(), request.range.to.valueOf(), request.intervalMs, q.step);
        const histories = await mapLimit(names, 6, (site) =>
          this.get<HistoryResponse>(`/api/v1/sites/${encodeURIComponent(site)}/history${toQueryString(p)}`));
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

  /** Template variables: query "sites" (default) or "metrics". */
  override async metricFindQuery(query: string | { query?: string }): Promise<MetricFindValue[]> {
    const q = (typeof query === 'string' ? query : query?.query ?? '').trim().toLowerCase();
    if (q === 'metrics') return METRICS.map((m) => ({ text: m.label, value: m.id }));
    if (q === '' || q === 'sites') return (await this.siteNames()).map((s) => ({ text: s, value: s }));
    const m = /^sites\((.*)\)$/.exec(q);
    if (m) {
      const re = new RegExp(m[1]!, 'i');
      return (await this.siteNames()).filter((s) => re.test(s)).map((s) => ({ text: s, value: s }));
    }
    throw new Error(`Unknown variable query "${q}": use sites, sites(<regex>) or metrics.`);
  }

  async testDatasource(): Promise<TestDataSourceResponse> {
    return checkHealth(this.deps.fetcher, this.base, this.exporterUrl);
  }
}
