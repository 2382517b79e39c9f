// Applying a job: the south-bound call to the exporter's control endpoint, at most once per job.
import type { FaultInjector } from './faults.js';
import { now, sleep } from './http.js';
import type { JobBook } from './jobs.js';
import type { Timers } from './timers.js';
import type { Job } from './types.js';

export interface ApplyOptions {
  exporterUrl?: string;
  exporterToken?: string;
  exporterTimeoutMs?: number;
  faults: FaultInjector;
  timers: Timers;
  book: () => JobBook;
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: string };

function recordApplied(book: JobBook, j: Job): void {
  book.counters.applied[j.site] = (book.counters.applied[j.site] ?? 0) + j.count;
}

/** Ends a running job: succeeded when the exporter took the command, failed otherwise. */
export async function applyJob(o: ApplyOptions, j: Job): Promise<void> {
  const book = o.book();
  if (o.faults.hit('job_fail')) {
    book.transition(j, 'failed', { finishedAt: now(), error: 'equipment: CMD slot not available (injected job_fail)' });
    return;
  }
  if (!o.exporterUrl) {
    recordApplied(book, j);
    book.transition(j, 'succeeded', { finishedAt: now(), result: { applied: false, note: 'standalone simulator: no exporter configured' } });
    return;
  }
  const out = await callExporter(o, o.exporterUrl, j);
  if (out.ok) {
    recordApplied(book, j);
    book.transition(j, 'succeeded', { finishedAt: now(), result: out.result });
    return;
  }
  book.counters.applyErrors++;
  book.transition(j, 'failed', { finishedAt: now(), error: out.error });
}

async function callExporter(o: ApplyOptions, base: string, j: Job): Promise<Outcome> {
  const url = `${base.replace(/\/$/, '')}/api/v1/sites/${encodeURIComponent(j.site)}/commands`;
  let lastErr = '';
  // The exporter's rate limit (429) and "no tick yet" (503) are transient: a
  // real controller would retry its south-bound call too. Anything else ends the job.
  for (let attempt = 0; attempt < 4 && !o.timers.stopped; attempt++) {
    try {
      const r = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          // The job's own key: a retry of this job (or the same job re-created after a restart) is never applied twice by the exporter.
          'Idempotency-Key': `mcp-${j.clientId}-${j.idempotencyKey}`.replace(/[^\x21-\x7e]/g, '_').slice(0, 128),
          ...(o.exporterToken ? { Authorization: `Bearer ${o.exporterToken}` } : {}),
        },
        body: JSON.stringify({ cmd_add: j.count }),
        signal: AbortSignal.timeout(o.exporterTimeoutMs ?? 10_000),
      });
      const text = await r.text();
      if (r.ok) return { ok: true, result: parseOrText(text) };
      lastErr = `exporter answered ${r.status}: ${text.slice(0, 300)}`;
      if (r.status !== 429 && r.status !== 503) break;
      const ra = Number(r.headers.get('Retry-After') ?? '1');
      await sleep(Math.min(5, Number.isFinite(ra) ? ra : 1) * 1000);
    } catch (e) {
      lastErr = `exporter call failed: ${(e as Error).message}`;
      break; // the command may or may not have been written: never re-send it
    }
  }
  return { ok: false, error: lastErr };
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // keep text
  }
}
