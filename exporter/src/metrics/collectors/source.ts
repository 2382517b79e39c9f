// The page source as the sampler last saw it.
import { labelString, type MetricDesc, type Writer } from '../format.js';
import type { CollectContext, Collector } from '../registry.js';

const D = {
  up: { name: 'optifiber_source_up', type: 'gauge', help: 'Whether the last tick read the pages (1) or the source was gone, stale or unreadable (0).', labels: [] },
  info: { name: 'optifiber_source_info', type: 'info', help: 'The page source: kind (kernel, userspace, file), path, and host as written by the writer (ABI dir host).', labels: ['kind', 'path', 'host'] },
  simulated: {
    name: 'optifiber_source_simulated',
    type: 'gauge',
    help: "Whether the pages come from the exporter's embedded user-space simulator (1, e.g. npm start) rather than the kernel module, a replayed recording or a given file (0).",
    labels: [],
  },
  retries: { name: 'optifiber_source_read_retries_total', type: 'counter', help: 'Whole snapshots taken again because the directory seqcount changed during the read.', labels: [] },
  torn: { name: 'optifiber_source_torn_reads_total', type: 'counter', help: 'Page re-reads caused by a concurrent writer (seqcount odd or changed).', labels: [] },
  ring: {
    name: 'optifiber_source_ring_samples_total',
    type: 'counter',
    help: "Site samples read from the pages' recent rings: published between two ticks, so a page alone would have hidden them (a writer faster than --sampler.interval, a replay at speed).",
    labels: [],
  },
  lost: {
    name: 'optifiber_source_lost_samples_total',
    type: 'counter',
    help: 'Site samples the writer published that no tick read: overwritten in the recent ring (16 samples) first, or written by a writer without one (ABI minor < 2).',
    labels: [],
  },
  last: { name: 'optifiber_last_sample_timestamp_seconds', type: 'gauge', help: 'When the last successful snapshot was taken, seconds since the epoch.', labels: [] },
  sites: { name: 'optifiber_sites', type: 'gauge', help: 'Valid site pages in the last snapshot (ABI site_count minus invalid pages).', labels: [] },
} satisfies Record<string, MetricDesc>;

export class SourceCollector implements Collector {
  readonly name = 'source';
  describe(): MetricDesc[] {
    return Object.values(D);
  }
  collect(w: Writer, ctx: CollectContext): void {
    const src = ctx.tick?.source;
    w.header(D.up);
    w.sample(D.up.name, '', src?.up ? 1 : 0);
    if (src) {
      w.header(D.info);
      w.sample(D.info.name, labelString({ kind: src.kind, path: src.path, host: src.dir?.host ?? '' }), 1);
    }
    w.header(D.simulated);
    w.sample(D.simulated.name, '', src?.kind === 'userspace' && !src.dir?.replay ? 1 : 0);
    w.header(D.retries);
    w.sample(D.retries.name, '', ctx.stats.readRetriesTotal);
    w.header(D.torn);
    w.sample(D.torn.name, '', ctx.stats.tornReadsTotal);
    w.header(D.ring);
    w.sample(D.ring.name, '', ctx.stats.ringSamplesTotal);
    w.header(D.lost);
    w.sample(D.lost.name, '', ctx.stats.lostSamplesTotal);
    w.header(D.last);
    w.sample(D.last.name, '', ctx.stats.lastSampleMs / 1000);
    w.header(D.sites);
    w.sample(D.sites.name, '', ctx.tick?.sites.length ?? 0);
  }
}
