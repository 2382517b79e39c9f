// `optifiber top` next to a running `npm start`: scripts/start.mjs writes
// var/stack.json (its pid and the exporter's page source) once the stack is
// up and removes it on exit. top reads the same pages, so it shows the sites
// Grafana and Prometheus see, instead of starting a private simulator whose
// sites and numbers differ.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunningStack {
  pid: number;
  exporterUrl: string;
  source: { kind: string; path: string };
}

/** var/stack.json of the checkout this CLI belongs to (exporter/dist/top -> repo root). */
export const DEFAULT_STACK_FILE = join(new URL('../../../', import.meta.url).pathname, 'var', 'stack.json');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running stack described by `file`, or null (no file, stale pid, pages gone, unreadable). */
export function findRunningStack(file = DEFAULT_STACK_FILE): RunningStack | null {
  if (!existsSync(file)) return null;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunningStack>;
    if (typeof s.pid !== 'number' || typeof s.source?.path !== 'string' || typeof s.exporterUrl !== 'string') return null;
    if (!alive(s.pid) || !existsSync(s.source.path)) return null;
    return s as RunningStack;
  } catch {
    return null;
  }
}
