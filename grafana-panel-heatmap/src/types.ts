export interface PanelOptions {
  /** Site link; ${site} is replaced (URL-encoded), other variables by Grafana. */
  siteUrl: string;
  /** Heat-map columns (time buckets); 0 = one per sample up to 500. */
  buckets: number;
  /** Heat-map row height in px. */
  rowHeight: number;
  showGauges: boolean;
  /** Share of the panel height given to the gauges at most (0.1..0.8). */
  gaugeShare: number;
  /** Contributions listed in tooltips. */
  topContributions: number;
}

export const DEFAULT_OPTIONS: PanelOptions = {
  siteUrl: '/d/optifiber-site?var-site=${site}',
  buckets: 0,
  rowHeight: 16,
  showGauges: true,
  gaugeShare: 0.45,
  topContributions: 3,
};

export type LinkStatus = 'up' | 'degraded' | 'down' | 'unknown';
export interface Contribution { feature: string; value: number }
