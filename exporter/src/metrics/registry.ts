// A tiny node_exporter-style registry: collectors, one per file, each
// describing its families (the catalogue) and writing them from the latest
// Tick. Every render reports optifiber_scrape_collector_duration_seconds and
// optifiber_scrape_collector_success per collector; a failing collector's
// partial output is dropped and the others are unaffected.
import { performance } from 'node:perf_hooks';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import type { SamplerStats } from '../sampler/sampler.js';
import type { Tick } from '../sampler/types.js';
import { type Format, type MetricDesc, Writer } from './format.js';
import type { ByteSink } from './sink.js';

export interface BuildInfo {
  version: string;
  revision: string;
  nodejsVersion: string;
}

export interface CollectContext {
  tick: Tick | undefined;
  thresholds: Config['thresholds'];
  stats: SamplerStats;
  build: BuildInfo;
}

export interface Collector {
  readonly name: string;
  describe(): MetricDesc[];
  collect(w: Writer, ctx: CollectContext): void;
}

/** The per-collector self-metrics (node_exporter's scrapeDurationDesc and scrapeSuccessDesc); only registered, so enabled, collectors appear. */
export const SCRAPE_COLLECTOR = {
  duration: {
    name: 'optifiber_scrape_collector_duration_seconds',
    type: 'gauge',
    help: 'Seconds a collector took to render the last exposition.',
    labels: ['collector'],
  },
  success: {
    name: 'optifiber_scrape_collector_success',
    type: 'gauge',
    help: 'Whether a collector succeeded in the last exposition (1 yes, 0 no).',
    labels: ['collector'],
  },
} satisfies Record<string, MetricDesc>;

export class Registry {
  private readonly collectors: Collector[] = [];
  constructor(private readonly log: Logger = silentLogger) {}

  register(c: Collector): this {
    if (this.collectors.some((x) => x.name === c.name)) throw new Error(`collector ${c.name} registered twice`);
    const names = new Set(this.catalogue().map((d) => d.name));
    for (const d of c.describe()) if (names.has(d.name)) throw new Error(`metric ${d.name} registered twice`);
    this.collectors.push(c);
    return this;
  }

  catalogue(): MetricDesc[] {
    return [...this.collectors.flatMap((c) => c.describe()), SCRAPE_COLLECTOR.duration, SCRAPE_COLLECTOR.success];
  }

  render(format: Format, ctx: CollectContext): string {
    const parts: string[] = [];
    this.renderChunks(format, ctx, (c) => parts.push(c));
    return parts.join('');
  }

  /**
   * Render into `sink` (reset first), piece by piece: the same bytes as
   * Buffer.from(render(format, ctx)) without building the whole exposition
   * as one string. Returns a view of the sink's bytes.
   */
  renderTo(sink: ByteSink, format: Format, ctx: CollectContext): Buffer {
    sink.reset();
    this.renderChunks(format, ctx, (c) => sink.write(c));
    return sink.bytes();
  }

  private renderChunks(format: Format, ctx: CollectContext, emit: (chunk: string) => void): void {
    const dur: [string, number, number][] = [];
    for (const c of this.collectors) {
      const w = new Writer(format);
      const t0 = performance.now();
      let ok = 1;
      try {
        c.collect(w, ctx);
        for (const chunk of w.chunks()) emit(chunk);
      } catch (e) {
        ok = 0;
        this.log.error({ collector: c.name, err: e }, 'collector failed');
      }
      dur.push([c.name, (performance.now() - t0) / 1000, ok]);
    }
    const w = new Writer(format);
    const { duration, success } = SCRAPE_COLLECTOR;
    w.header(duration);
    for (const [n, d] of dur) w.sample(duration.name, `{collector="${n}"}`, d);
    w.header(success);
    for (const [n, , ok] of dur) w.sample(success.name, `{collector="${n}"}`, ok);
    emit(w.text());
    if (format === 'openmetrics') emit('# EOF\n');
  }
}
