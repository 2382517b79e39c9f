// Minimal Prometheus HTTP API client for the reports: instant queries,
// range queries and label values, with errors a person can act on.
//   GET /api/v1/query        ?query=&time=
//   GET /api/v1/query_range  ?query=&start=&end=&step=
//   GET /api/v1/label/site/values ?start=&end=
// Everything is read from Prometheus (never from the exporter's memory).

export class ReportError extends Error {
  /** Process exit code: 2 for bad input (usage), 1 for runtime failures. */
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'ReportError';
  }
}

/** No data at all in the requested range: nothing to report (exit 1; the scheduler skips it). */
export class EmptyRangeError extends ReportError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'EmptyRangeError';
  }
}

export interface Sample {
  t: number; // unix seconds
  v: number;
}

export interface RangeSeries {
  metric: Record<string, string>;
  values: Sample[];
}

export interface InstantSeries {
  metric: Record<string, string>;
  v: number;
}

export interface PromClientOptions {
  url: string;
  /** Per-request timeout, ms. Default 60000. */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

interface PromResponse {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
  warnings?: string[];
}

export const parseValue = (s: string): number => (s === '+Inf' ? Infinity : s === '-Inf' ? -Infinity : Number(s));

export class PromClient {
  readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(o: PromClientOptions) {
    let u: URL;
    try {
      u = new URL(o.url);
    } catch {
      throw new ReportError(`--prometheus.url ${JSON.stringify(o.url)} is not a URL (expected e.g. http://127.0.0.1:9090)`, 2);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ReportError(`--prometheus.url must be http(s), got ${o.url}`, 2);
    this.base = o.url.replace(/\/+$/, '');
    this.timeoutMs = o.timeoutMs ?? 60000;
    this.fetchImpl = o.fetchImpl ?? fetch;
  }

  private async get(path: string, params: Record<string, string>): Promise<PromResponse['data']> {
    const url = `${this.base}${path}?${new URLSearchParams(params).toString()}`;
    let res: Response;
    try {
      res = await this.fetchImpl(url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json' } });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const why = err.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
      throw new ReportError(`Prometheus at ${this.base} is unreachable (${why}); check --prometheus.url and that Prometheus is running`);
    }
    const text = await res.text();
    let body: PromResponse;
    try {
      body = JSON.parse(text) as PromResponse;
    } catch {
      throw new ReportError(`Prometheus at ${this.base} answered HTTP ${res.status} with a non-JSON body for ${path}: ${text.slice(0, 200)}`);
    }
    if (body.status !== 'success') {
      throw new ReportError(`Prometheus rejected ${path} (HTTP ${res.status}, ${body.errorType ?? 'error'}): ${body.error ?? text.slice(0, 200)}`);
    }
    return body.data;
  }

  async queryRange(query: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    const d = await this.get('/api/v1/query_range', { query, start: String(start), end: String(end), step: String(step) });
    const result = (d?.result ?? []) as { metric: Record<string, string>; values: [number, string][] }[];
    return result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => ({ t, v: parseValue(v) })) }));
  }

  async query(query: string, time: number): Promise<InstantSeries[]> {
    const d = await this.get('/api/v1/query', { query, time: String(time) });
    if (d?.resultType === 'scalar') {
      const [, v] = d.result as [number, string];
      return [{ metric: {}, v: parseValue(v) }];
    }
    const result = (d?.result ?? []) as { metric: Record<string, string>; value: [number, string] }[];
    return result.map((r) => ({ metric: r.metric, v: parseValue(r.value[1]) }));
  }

  /** Values of a label among the series that match `match` in [start, end]. */
  async labelValues(label: string, match: string, start: number, end: number): Promise<string[]> {
    const d = await this.get(`/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': match, start: String(start), end: String(end) });
    return ((d as unknown as string[]) ?? []).slice().sort();
  }

  /** Fails with a clear error when Prometheus is unreachable or not ready. */
  async ping(): Promise<void> {
    await this.query('1', Math.floor(Date.now() / 1000));
  }
}

/** Escape a literal for use inside a PromQL regex matcher ("a|b"). */
export function promRegexEscape(s: string): string {
  return s.replace(/[\\.^$|?*+()[\]{}]/g, '\\$&').replace(/"/g, '\\"');
}
