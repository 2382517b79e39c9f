// Live mode: a long-poll loop through Grafana's data-source proxy.
//   1. GET /api/v1/snapshot (the current tick) seeds the frames;
//   2. GET /api/v1/poll?after=<lastSeq>&timeout=<s> is held by the exporter
//      until the next tick is published and answered at once, so a new
//      sample reaches the panel one proxy round trip after the tick;
//   3. loop with after = response.lastSeq (gap: true only means some ticks
//      were dropped from the exporter's replay ring).
// The proxy buffers streaming responses (SSE), but a plain GET that returns
// per tick passes through it unchanged. The hold time stays below Grafana's
// data-proxy timeout (30 s by default).
import { LoadingState, type DataQueryResponse } from '@grafana/data';
import { Observable } from 'rxjs';
import { unwrap, type Fetcher } from './api.js';
import { ticksToFrames } from './frames.js';
import { toQueryString } from './query.js';
import type { MetricId, PollResponse, Snapshot, TickEvent } from './types.js';

export interface LiveOptions {
  fetcher: Fetcher;
  base: string;
  refId: string;
  metric: MetricId;
  sites: string[] | null;
  /** Keep ticks newer than this window (ms), e.g. the panel's time span. */
  windowMs: number;
  timeoutSeconds?: number;
  /** Delay before retrying after an error (ms). */
  retryMs?: number;
  /** Called after each emission (for tests/benchmarks). */
  now?: () => number;
}

export function liveStream(o: LiveOptions): Observable<DataQueryResponse> {
  return new Observable<DataQueryResponse>((sub) => {
    const ctrl = new AbortController();
    const ticks: TickEvent[] = [];
    const now = o.now ?? Date.now;
    const sitesParam = o.sites ? o.sites.join(',') : undefined;
    const emit = () => {
      const cutoff = now() - o.windowMs;
      while (ticks.length > 1 && ticks[0]!.takenAtMs < cutoff) ticks.shift();
      sub.next({ key: `optifiber-live-${o.refId}`, state: LoadingState.Streaming, data: ticksToFrames(o.refId, o.metric, ticks, o.sites) });
    };
    const add = (list: TickEvent[]) => {
      for (const t of list) if (!ticks.length || t.seq > ticks[ticks.length - 1]!.seq) ticks.push(t);
    };
    (async () => {
      let after: number | undefined;
      while (!ctrl.signal.aborted) {
        try {
          if (after === undefined) {
            const snap = unwrap<Snapshot>(await o.fetcher(`${o.base}/api/v1/snapshot${toQueryString({ sites: sitesParam })}`, ctrl.signal), 'GET /api/v1/snapshot');
            add([snap]);
            after = snap.seq;
            emit();
            continue;
          }
          const url = `${o.base}/api/v1/poll${toQueryString({ after, timeout: o.timeoutSeconds ?? 20, sites: sitesParam })}`;
          const r = unwrap<PollResponse>(await o.fetcher(url, ctrl.signal), 'GET /api/v1/poll');
          after = r.lastSeq;
          if (r.ticks.length) {
            add(r.ticks);
            emit();
          }
        } catch (e) {
          if (ctrl.signal.aborted) break;
          sub.next({ key: `optifiber-live-${o.refId}`, state: LoadingState.Streaming, data: ticksToFrames(o.refId, o.metric, ticks, o.sites), errors: [{ message: (e as Error).message, refId: o.refId }] });
          await new Promise((r) => setTimeout(r, o.retryMs ?? 1000));
        }
      }
    })();
    return () => ctrl.abort();
  });
}
