// The exporter itself: build info, and the tick and scrape duration histograms.
import { Histogram, labelString, type MetricDesc, type Writer } from '../format.js';
import type { CollectContext, Collector } from '../registry.js';

const BUILD: MetricDesc = { name: 'optifiber_exporter_build_info', type: 'info', help: 'Exporter version, source revision and Node.js version, value 1.', labels: ['version', 'revision', 'nodejs_version'] };
const AUTH_FAILURES: MetricDesc = {
  name: 'optifiber_exporter_auth_failures_total',
  type: 'counter',
  help: 'Requests refused for their credentials: reason missing, invalid, forbidden (scope lacking), rate_limited (too many failures from the address), busy (bcrypt queue full).',
  labels: ['reason'],
};
const WEB_RELOAD: MetricDesc = { name: 'optifiber_exporter_web_config_last_reload_successful', type: 'gauge', help: 'Whether the last re-read of --web.config.file succeeded (0: the last good version is still in force).', labels: [] };
const AUTH_REASONS = ['missing', 'invalid', 'forbidden', 'rate_limited', 'busy'];
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ExporterCollector implements Collector {
  readonly name = 'exporter';
  readonly tickDuration = new Histogram({ name: 'optifiber_tick_duration_seconds', type: 'histogram', help: 'Time to take one tick: snapshot of all sites, rates, history and stages.', labels: [], buckets: BUCKETS });
  readonly scrapeDuration = new Histogram({ name: 'optifiber_scrape_duration_seconds', type: 'histogram', help: 'Time to answer one /metrics request, rendering and compression included.', labels: [], buckets: BUCKETS });

  /** reason -> count (credentials.ts AuthFailureReason). */
  readonly authFailures = new Map<string, number>();
  /** Set when a web config file is watched. */
  webConfigReload: (() => boolean) | undefined;

  describe(): MetricDesc[] {
    return [BUILD, this.tickDuration.desc, this.scrapeDuration.desc, AUTH_FAILURES, WEB_RELOAD];
  }
  collect(w: Writer, ctx: CollectContext): void {
    w.header(BUILD);
    const b = ctx.build;
    w.sample(BUILD.name, labelString({ version: b.version, revision: b.revision, nodejs_version: b.nodejsVersion }), 1);
    this.tickDuration.write(w);
    this.scrapeDuration.write(w);
    w.header(AUTH_FAILURES);
    for (const r of AUTH_REASONS) w.sample(AUTH_FAILURES.name, labelString({ reason: r }), this.authFailures.get(r) ?? 0);
    if (this.webConfigReload) {
      w.header(WEB_RELOAD);
      w.sample(WEB_RELOAD.name, '', this.webConfigReload() ? 1 : 0);
    }
  }
}
