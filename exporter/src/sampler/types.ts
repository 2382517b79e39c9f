// What the sampler publishes every tick: the contract between the sampler
// and its consumers (metrics collectors, the JSON/stream API, the control
// path's read-back, and the models of the AI stages).
import type { DirectoryInfo, InvalidSite, SiteSample } from '../source/types.js';

export type SourceKind = 'kernel' | 'userspace' | 'file';

export interface SourceStatus {
  kind: SourceKind;
  path: string;
  up: boolean;
  /** Why the source is down, for logs and /api/v1/snapshot. */
  error?: string;
  dir?: DirectoryInfo;
}

/** Per-second rates derived from the page counters between two samples. */
export interface SiteRates {
  bytesPerSecond: number;
  crcErrorsPerSecond: number;
  fecCorrectedBitsPerSecond: number;
  fecUncorrectableBlocksPerSecond: number;
  losEventsPerSecond: number;
}

/** Model outputs attached by the AI stages (issue 4); absent without models. */
export interface SiteInference {
  anomalyScore?: number; // 0..1, >= 0.8 anomalous
  contributions?: { feature: string; value: number }[]; // top features, bounded
  forecast?: {
    horizonSeconds: number;
    throughputBps: { p10: number; p50: number; p90: number };
    utilization: { p10: number; p50: number; p90: number };
  };
}

export interface SiteState {
  sample: SiteSample;
  /** Null on the first sample of a site or after a counter reset. */
  rates: SiteRates | null;
  /** throughput / capacity, 0..1 (0 when capacity is 0). */
  utilization: number;
  inference: SiteInference;
  /**
   * Samples the writer published after the previous tick's and before
   * `sample`, oldest first, each with its rates (from the page's recent
   * ring). Metrics show the latest sample; the AI stage learns from all.
   */
  earlier?: { sample: SiteSample; rates: SiteRates | null }[];
}

export interface Tick {
  /** Exporter-side tick counter, starts at 1. */
  seq: number;
  takenAtMs: number;
  durationSeconds: number;
  source: SourceStatus;
  /** Valid sites, in page order. Empty while the source is down. */
  sites: SiteState[];
  invalid: InvalidSite[];
}

/** A stage runs on every tick before it is published (the AI hook). */
export type TickStage = (tick: Tick) => void | Promise<void>;
