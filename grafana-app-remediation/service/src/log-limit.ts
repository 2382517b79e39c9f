// Rate-limited logging for events a client can trigger at will (malformed
// or refused requests): at most one line per kind per window, carrying how
// many were suppressed since the last one, so a flood cannot fill the disk
// or drown the lines that matter.
import type { Logger } from '@optifiber/exporter/log/logger';

export function limitedLog(log: Logger, windowMs: number): (kind: string, fields: Record<string, unknown>, msg: string) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (kind, fields, msg) => {
    const now = Date.now();
    const l = last.get(kind);
    if (l && now - l.at < windowMs) {
      l.suppressed++;
      return;
    }
    if (last.size > 100) last.clear(); // kinds are a fixed set; never grows unbounded anyway
    last.set(kind, { at: now, suppressed: 0 });
    log.warn({ ...fields, ...(l?.suppressed ? { suppressed: l.suppressed } : {}) }, msg);
  };
}
