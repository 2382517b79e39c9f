// The exporter itself: build info, and the tick and scrape duration histograms.
import { Histogram, labelString, type MetricDesc, type Writer } from '../format.js';
import type { CollectContext, Collector } from '../registry.js';

const BUILD: MetricDesc = { name: 'optifiber_exporter_build_info', type: 'info', help: 'Exporter version, source revision and Node.js version, value 1.', labels: ['version', 'revision', 'nodejs_version'] };
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ExporterCollector implements Collector {
  readonly name = 'exporter';
  readonly tickDuration = new Histogram({ name: 'optifiber_tick_duration_seconds', type: 'histogram', help: 'Time to take one tick: snapshot of all sites, rates, history and stages.', labels: [], buckets: BUCKETS });
  readonly scrapeDuration = new Histogram({ name: 'optifiber_scrape_duration_seconds', type: 'histogram', help: 'Time to answer one /metrics request, rendering and compression included.', labels: [], buckets: BUCKETS });

  describe(): MetricDesc[] {
    return [BUILD, this.tickDuration.desc, this.scrapeDuration.desc];
  }
  collect(w: Writer, ctx: CollectContext): void {
    w.header(BUILD);
    const b = ctx.build;
    w.sample(BUILD.name, labelString({ version: b.version, revision: b.revision, nodejs_version: b.nodejsVersion }), 1);
    this.tickDuration.write(w);
    this.scrapeDuration.write(w);
  }
}
