// Content negotiation of /metrics: the exposition format from Accept, gzip
// from Accept-Encoding.
import type { Format } from '../metrics/format.js';

/** OpenMetrics when the client asks for it with q > 0, else Prometheus text 0.0.4. */
export function negotiateFormat(accept: string | undefined): Format {
  if (!accept) return 'prometheus';
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';');
    if (type?.trim().toLowerCase() !== 'application/openmetrics-text') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return 'openmetrics';
  }
  return 'prometheus';
}

export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(',').some((part) => {
    const [enc, ...params] = part.trim().split(';');
    const e = enc?.trim().toLowerCase();
    if (e !== 'gzip' && e !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
