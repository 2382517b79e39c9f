// Process metrics, the lint-clean subset of the usual client-library set
// (prom-client's defaults fail promtool: nodejs_active_handles_total is a gauge).
import { readdirSync } from 'node:fs';
import type { MetricDesc, Writer } from '../format.js';
import type { CollectContext, Collector } from '../registry.js';

const D = {
  rss: { name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident memory size in bytes.', labels: [] },
  heap: { name: 'process_heap_bytes', type: 'gauge', help: 'Process heap size in bytes (V8 heap used).', labels: [] },
  cpu: { name: 'process_cpu_seconds_total', type: 'counter', help: 'Total user and system CPU time spent in seconds.', labels: [] },
  start: { name: 'process_start_time_seconds', type: 'gauge', help: 'Start time of the process since unix epoch in seconds.', labels: [] },
  fds: { name: 'process_open_fds', type: 'gauge', help: 'Number of open file descriptors.', labels: [] },
} satisfies Record<string, MetricDesc>;

const START = Date.now() / 1000 - process.uptime();

export class ProcessCollector implements Collector {
  readonly name = 'process';
  describe(): MetricDesc[] {
    return Object.values(D);
  }
  collect(w: Writer, _ctx: CollectContext): void {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    w.header(D.rss);
    w.sample(D.rss.name, '', mem.rss);
    w.header(D.heap);
    w.sample(D.heap.name, '', mem.heapUsed);
    w.header(D.cpu);
    w.sample(D.cpu.name, '', (cpu.user + cpu.system) / 1e6);
    w.header(D.start);
    w.sample(D.start.name, '', Math.round(START * 1000) / 1000);
    let fds: number | undefined;
    try {
      fds = readdirSync('/proc/self/fd').length - 1; // minus the directory handle itself
    } catch {
      fds = undefined; // not Linux
    }
    if (fds !== undefined) {
      w.header(D.fds);
      w.sample(D.fds.name, '', fds);
    }
  }
}
