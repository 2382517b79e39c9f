// Live mode: a long-poll loop through Grafana's data-source proxy, into a
// bounded buffer backfilled from history.
//   1. GET /api/v1/snapshot (the current tick) names the sites and the seq;
//   2. GET /api/v1/sites/{site}/history over the panel's window, at the
//      buffer's step, backfills each site's frame (so a 6 h panel is not
//      empty until 6 h of ticks have arrived);
//   3. GET /api/v1/poll?after=<lastSeq>&timeout=<s> is held by the exporter
//      until the next tick is published and answered at once, so a new
//      sample reaches the panel one proxy round trip after the tick;
//   4. loop with after = response.lastSeq (gap: true only means some ticks
//      were dropped from the exporter's replay ring).
// Each site has one CircularDataFrame of at most LIVE_MAX_POINTS rows, one
// row per step of window / LIVE_MAX_POINTS: a tick in the same step as the
// last row overwrites it, a later one appends (the oldest row falls out).
// Memory and per-tick work are therefore bounded whatever the panel's range
// (a 24 h panel at 1 s ticks would otherwise hold 86,400 rows per site and
// rebuild them all every tick). The frames are mutated in place and emitted
// again, as Grafana's own streaming data sources do.
// The proxy buffers streaming responses (SSE), but a plain GET that returns
// per tick passes through it unchanged. The hold time stays below Grafana's
// data-proxy timeout (30 s by default).
import { CircularDataFrame, FieldType, LoadingState, type DataFrame, type DataQueryResponse } from '@grafana/data';
import { Observable } from 'rxjs';
import { mapLimit, unwrap, type Fetcher } from './api.js';
import { metricFieldConfig } from './frames.js';
import { getMetric } from './metrics.js';
import { historyParams, toQueryString } from './query.js';
import type { HistoryResponse, MetricId, PollResponse, Site, Snapshot, TickEvent } from './types.js';

/** Rows kept per site, whatever the panel's time range. */
export const LIVE_MAX_POINTS = 1000;

export interface LiveOptions {
  fetcher: Fetcher;
  base: string;
  refId: string;
  metric: MetricId;
  sites: string[] | null;
  /** The panel's time span (ms): the window the buffer covers and history backfills. */
  windowMs: number;
  timeoutSeconds?: number;
  /** Delay before retrying after an error (ms). */
  retryMs?: number;
  /** Rows per site (default LIVE_MAX_POINTS). */
  capacity?: number;
  /** Prefix of the requestIds given to the fetcher (Grafana cancels a superseded one). */
  requestId?: string;
}

interface SiteBuffer { frame: CircularDataFrame; lastT: number }

/** One bounded frame per site; rows are steps of stepMs (see the header). */
export class LiveBuffer {
  private readonly bySite = new Map<string, SiteBuffer>();
  private readonly stepMs: number;

  constructor(readonly refId: string, readonly metric: MetricId, windowMs: number, readonly capacity = LIVE_MAX_POINTS) {
    this.stepMs = Math.max(1, windowMs / capacity);
  }

  get step(): number {
    return this.stepMs;
  }

  /** Adds one sample; older than the site's newest row = ignored (a replayed tick). */
  add(t: number, s: Site): void {
    let b = this.bySite.get(s.name);
    if (!b) this.bySite.set(s.name, (b = { frame: this.newFrame(s.name), lastT: -Infinity }));
    if (t <= b.lastT) return;
    const row = this.row(t, s);
    const f = b.frame;
    if (f.length > 0 && Math.floor(t / this.stepMs) === Math.floor(b.lastT / this.stepMs)) f.set(f.length - 1, row);
    else f.add(row);
    b.lastT = t;
  }

  addTicks(ticks: TickEvent[], sites: string[] | null): void {
    for (const tick of ticks) {
      for (const s of tick.sites) if (!sites || sites.includes(s.name)) this.add(tick.takenAtMs, s);
    }
  }

  frames(): DataFrame[] {
    return [...this.bySite.keys()].sort().map((k) => this.bySite.get(k)!.frame);
  }

  private row(t: number, s: Site): Record<string, unknown> {
    const row: Record<string, unknown> = { time: t, [this.metric]: getMetric(this.metric)!.read(s) };
    if (this.metric === 'anomalyScore') row.contributions = JSON.stringify(s.inference?.contributions ?? []);
    return row;
  }

  private newFrame(site: string): CircularDataFrame {
    const def = getMetric(this.metric)!;
    const f = new CircularDataFrame({ append: 'tail', capacity: this.capacity });
    f.refId = this.refId;
    f.name = `${site} ${def.label}`;
    f.meta = { preferredVisualisationType: 'graph' };
    f.addField({ name: 'time', type: FieldType.time, config: {} });
    f.addField({ name: this.metric, type: FieldType.number, labels: { site }, config: metricFieldConfig(def, site) });
    if (this.metric === 'anomalyScore') {
      f.addField({ name: 'contributions', type: FieldType.other, labels: { site }, config: { custom: { hideFrom: { viz: true, legend: true, tooltip: true } } } });
    }
    return f;
  }
}

export function liveStream(o: LiveOptions): Observable<DataQueryResponse> {
  return new Observable<DataQueryResponse>((sub) => {
    const ctrl = new AbortController();
    const buf = new LiveBuffer(o.refId, o.metric, o.windowMs, o.capacity);
    const sitesParam = o.sites ? o.sites.join(',') : undefined;
    const key = `optifiber-live-${o.refId}`;
    const get = async <T>(path: string, what: string, id: string): Promise<T> =>
      unwrap<T>(await o.fetcher(`${o.base}${path}`, { signal: ctrl.signal, requestId: o.requestId ? `${o.requestId}-${id}` : undefined }), what);
    const emit = (errors?: DataQueryResponse['errors']) => sub.next({ key, state: LoadingState.Streaming, data: buf.frames(), ...(errors ? { errors } : {}) });

    const backfill = async (snap: Snapshot) => {
      const names = snap.sites.map((s) => s.name).filter((n) => !o.sites || o.sites.includes(n));
      // the window ends at the exporter's newest tick (its clock, not the browser's)
      const p = historyParams(snap.takenAtMs - o.windowMs, snap.takenAtMs, buf.step);
      const histories = await mapLimit(names, 6, (site) =>
        get<HistoryResponse>(`/api/v1/sites/${encodeURIComponent(site)}/history${toQueryString(p)}`, 'GET history', `history-${site}`));
      // add() ignores samples not newer than a site's last row, so the overlap with the snapshot is harmless
      for (const h of histories) for (const pt of h.points) buf.add(pt.takenAtMs, pt.site);
    };

    (async () => {
      let after: number | undefined;
      while (!ctrl.signal.aborted) {
        try {
          if (after === undefined) {
            const snap = await get<Snapshot>(`/api/v1/snapshot${toQueryString({ sites: sitesParam })}`, 'GET /api/v1/snapshot', 'snapshot');
            await backfill(snap).catch((e: Error) => { if (!ctrl.signal.aborted) emit([{ refId: o.refId, message: `History backfill failed: ${e.message}` }]); });
            buf.addTicks([snap], o.sites);
            after = snap.seq;
            emit();
            continue;
          }
          const r = await get<PollResponse>(`/api/v1/poll${toQueryString({ after, timeout: o.timeoutSeconds ?? 20, sites: sitesParam })}`, 'GET /api/v1/poll', 'poll');
          after = r.lastSeq;
          if (r.ticks.length) {
            buf.addTicks(r.ticks, o.sites);
            emit();
          }
        } catch (e) {
          if (ctrl.signal.aborted) break;
          emit([{ message: (e as Error).message, refId: o.refId }]);
          await new Promise((r) => setTimeout(r, o.retryMs ?? 1000));
        }
      }
    })();
    return () => ctrl.abort();
  });
}
