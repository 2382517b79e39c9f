// Debian's victoria-metrics (single node) on loopback: the fleet metrics store
// an edge Prometheus remote_writes to (issue 13; docs/deploy-fleet.md). It
// speaks Prometheus' remote-write protocol (POST /api/v1/write) and the PromQL
// HTTP API (/api/v1/query, /api/v1/query_range, /api/v1/series), so the
// dashboards and `optifiber report` use it through a URL switch; its cluster
// version, Mimir and Thanos receive speak the same two APIs.
// Plain Node ESM, no dependencies.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertPortsFree, superviseProcess, tail } from './supervise.mjs';

export const VM_INSTALL_HINT = 'sudo apt-get install -y --no-install-recommends victoria-metrics';

/** Path of the victoria-metrics binary, or null. */
export function findVictoriaMetrics() {
  const r = spawnSync('sh', ['-c', 'command -v victoria-metrics'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * The remote_write block Prometheus needs for `writeUrl`, appended to a
 * rendered prometheus.yml. Two queue settings differ from Prometheus 2.42's
 * defaults: batch_send_deadline 5 s -> 1 s (a short, bounded lag for a store
 * that dashboards read live) and max_samples_per_send 500 -> 2000 with
 * capacity 10000 (four times fewer requests at fleet scale: with 500, 10,000
 * sites on this 2-core machine fell behind; docs/deploy-fleet.md).
 * @param {string} writeUrl
 */
export function remoteWriteBlock(writeUrl) {
  return `\n# Fleet metrics store (issue 13; docs/deploy-fleet.md).\nremote_write:\n  - url: ${writeUrl}\n    queue_config:\n      batch_send_deadline: 1s\n      max_samples_per_send: 2000\n      capacity: 10000\n`;
}

/**
 * Starts victoria-metrics on 127.0.0.1:port with its data under dir.
 * -search.latencyOffset: VictoriaMetrics answers queries for the last 30 s
 * (its default) as of 30 s ago, so a dashboard refreshed every few seconds
 * would trail Prometheus by 30 s; 5 s covers the remote-write batch deadline
 * (1 s) plus a scrape interval.
 * @param {{port?: number, dir: string, retention?: string, latencyOffset?: string, log?: (m: string) => void, logLevel?: string, onStart?: (name: string, pid: number) => void, timeoutMs?: number, extraFlags?: string[]}} o
 */
export async function startVictoriaMetrics(o) {
  const bin = findVictoriaMetrics();
  if (!bin) throw new Error(`victoria-metrics not installed: ${VM_INSTALL_HINT}`);
  const port = o.port ?? 8428;
  await assertPortsFree([{ name: 'VictoriaMetrics', port }]);
  mkdirSync(join(o.dir, 'data'), { recursive: true });
  const logFile = join(o.dir, 'victoria-metrics.log');
  const sup = superviseProcess({
    name: 'victoria-metrics', bin, logFile, say: o.log ?? (() => {}),
    ...(o.onStart ? { onStart: (/** @type {number} */ pid) => o.onStart?.('victoria-metrics', pid) } : {}),
    args: [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${join(o.dir, 'data')}`,
      `-retentionPeriod=${o.retention ?? '30d'}`,
      `-search.latencyOffset=${o.latencyOffset ?? '5s'}`,
      `-loggerLevel=${o.logLevel ?? 'WARN'}`,
      ...(o.extraFlags ?? []),
    ],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (o.timeoutMs ?? 30000);
  for (;;) {
    if (sup.exitedBeforeReady) throw new Error(`victoria-metrics exited (${JSON.stringify(sup.exitedBeforeReady)}):\n${tail(logFile)}`);
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (r.ok && (await r.text()).trim() === 'OK') break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) {
      await sup.stop();
      throw new Error(`victoria-metrics not ready after ${(o.timeoutMs ?? 30000) / 1000} s:\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, writeUrl: `${url}/api/v1/write`, logFile, get pid() { return sup.pid; }, stop: () => sup.stop() };
}
