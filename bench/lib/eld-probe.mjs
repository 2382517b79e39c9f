// Preloaded into a process under benchmark (node --import this-file): on
// SIGUSR2 it appends one JSON line to $ELD_PROBE_OUT with the event-loop delay
// (perf_hooks histogram, ms) and the process CPU time (user+system, ms) since
// the previous signal, then resets. The bench signals at each phase boundary,
// so every phase gets its own numbers without touching the code measured.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const out = process.env.ELD_PROBE_OUT;
if (out) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  let cpu = process.cpuUsage();
  let t = performance.now();
  process.on('SIGUSR2', () => {
    const c = process.cpuUsage(cpu);
    const now = performance.now();
    const ms = (ns) => ns / 1e6;
    appendFileSync(out, JSON.stringify({
      wallMs: now - t,
      cpuMs: (c.user + c.system) / 1000,
      eventLoopDelayMs: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) },
    }) + '\n');
    h.reset();
    cpu = process.cpuUsage();
    t = now;
  });
}
