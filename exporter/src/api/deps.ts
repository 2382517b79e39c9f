// What the API and control routers need from the rest of the exporter.
//
// SamplerView is the narrow read side of the sampler (exporter/src/sampler/,
// owned by the sampler's author). The routers depend on this interface only,
// so the sampler can implement it directly or through a thin adapter:
//
//   latest()   the last published Tick, or undefined before the first one
//   onTick(fn) called once per published tick, after the tick's stages ran;
//              returns an unsubscribe function
//   history()  the per-site ring, points with takenAtMs in [fromMs, toMs],
//              oldest first, at most one point per stepMs bucket (the last
//              sample of each bucket), or undefined for an unknown site
import type { EventLogger } from '../log/logger.js';
import type { SiteState, Tick } from '../sampler/types.js';

export interface HistoryPoint {
  /** Tick seq the point was sampled in. */
  seq: number;
  /** Tick time (Date.now() at snapshot), ms since the epoch. */
  takenAtMs: number;
  state: SiteState;
}

export interface SamplerView {
  latest(): Tick | undefined;
  onTick(fn: (t: Tick) => void): () => void;
  history(site: string, fromMs: number, toMs: number, stepMs: number): HistoryPoint[] | undefined;
}

export interface ApiLimits {
  /** Max points one history response may hold (400 above). Default 11000. */
  maxHistoryPoints: number;
  /** Ticks kept for SSE Last-Event-ID resume and long-poll catch-up. Default 60. */
  replayTicks: number;
  /**
   * Memory bound of that ring: ticks x sites kept at most (at least one tick
   * is always kept). Default 30000: 60 ticks up to 500 sites, 3 at 10,000.
   */
  replaySiteSamples: number;
  /** Concurrent SSE clients; 503 above. Default 64. */
  maxStreamClients: number;
  /** Bytes queued to one SSE client before it is dropped as too slow. Default 4 MiB. */
  maxStreamBufferBytes: number;
  /** SSE heartbeat comment interval. Default 15000 ms. */
  heartbeatMs: number;
  /** Concurrent long-poll waiters; 503 above. Default 256. */
  maxPollWaiters: number;
  /** Upper bound of ?timeout= in seconds. Default 60. */
  maxPollTimeoutS: number;
  /**
   * History responses being built or sent at once (each up to ~10 MB of
   * JSON, serialised synchronously); 503 + Retry-After above. Default 2.
   */
  maxHistoryInFlight: number;
}

export const DEFAULT_API_LIMITS: ApiLimits = {
  maxHistoryPoints: 11000,
  replayTicks: 60,
  replaySiteSamples: 30000,
  maxStreamClients: 64,
  maxStreamBufferBytes: 4 * 1024 * 1024,
  heartbeatMs: 15000,
  maxPollWaiters: 256,
  maxPollTimeoutS: 60,
  maxHistoryInFlight: 2,
};

export interface ApiDeps {
  sampler: SamplerView;
  logger?: EventLogger;
  limits?: Partial<ApiLimits>;
}
