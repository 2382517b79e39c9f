// Text exposition writers: Prometheus text 0.0.4 and OpenMetrics 1.0.0.
// Hand-written on purpose: per-site families are rendered in one pass of
// string concatenation (see bench/exporter.mjs for the comparison with
// prom-client). The OpenMetrics family name of a counter drops `_total`
// and of an info metric drops `_info`; the samples keep the full name, so
// the same descriptors serve both formats (no prom-client `_total` quirk).
export type Format = 'prometheus' | 'openmetrics';
export type MetricType = 'gauge' | 'counter' | 'histogram' | 'info';

export const CONTENT_TYPE: Record<Format, string> = {
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

export interface MetricDesc {
  name: string;
  type: MetricType;
  help: string;
  labels: string[];
  /** Histogram bucket upper bounds (not +Inf). */
  buckets?: number[];
}

export function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? '+Inf' : '-Inf';
}

export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `{a="x",b="y"}` from pairs; empty string without labels. */
export function labelString(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export function familyName(d: Pick<MetricDesc, 'name' | 'type'>, format: Format): string {
  if (format === 'openmetrics') {
    if (d.type === 'counter' && d.name.endsWith('_total')) return d.name.slice(0, -6);
    if (d.type === 'info' && d.name.endsWith('_info')) return d.name.slice(0, -5);
  }
  return d.name;
}

/**
 * Accumulates one exposition. raw() text (whole per-site families) is kept as
 * separate pieces, so a large exposition is never one giant string: chunks()
 * are written one by one into the output buffer (Registry.renderTo).
 */
export class Writer {
  private out = '';
  private readonly parts: string[] = [];
  constructor(readonly format: Format) {}

  header(d: MetricDesc): void {
    const fam = familyName(d, this.format);
    const type = this.format === 'prometheus' ? (d.type === 'info' ? 'gauge' : d.type) : d.type;
    this.out += `# HELP ${fam} ${escapeHelp(d.help)}\n# TYPE ${fam} ${type}\n`;
  }

  /** One sample; `labels` is a prebuilt `{...}` string or ''. */
  sample(name: string, labels: string, value: number): void {
    this.out += `${name}${labels} ${formatValue(value)}\n`;
  }

  raw(text: string): void {
    if (this.out) this.parts.push(this.out);
    this.out = '';
    this.parts.push(text);
  }

  text(): string {
    return this.parts.join('') + this.out;
  }

  /** The exposition in order, as pieces: chunks().join('') === text(). */
  chunks(): string[] {
    return this.out ? [...this.parts, this.out] : [...this.parts];
  }
}

/** A cumulative histogram with fixed buckets (self-metrics). */
export class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly desc: MetricDesc) {
    this.counts = new Float64Array(desc.buckets!.length);
  }
  observe(v: number): void {
    const b = this.desc.buckets!;
    for (let i = 0; i < b.length; i++) if (v <= b[i]!) this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
  /** The family: header, then this histogram's series. */
  write(w: Writer): void {
    w.header(this.desc);
    this.writeSeries(w);
  }
  /**
   * The _bucket, _sum and _count series without the header, for a family
   * holding several histograms; `labels` is a prebuilt `name="value",...`
   * list (no braces) that tells them apart.
   */
  writeSeries(w: Writer, labels = ''): void {
    const b = this.desc.buckets!;
    const n = this.desc.name;
    const pre = labels ? `${labels},` : '';
    for (let i = 0; i < b.length; i++) w.sample(`${n}_bucket`, `{${pre}le="${formatValue(b[i]!)}"}`, this.counts[i]!);
    w.sample(`${n}_bucket`, `{${pre}le="+Inf"}`, this.count);
    const own = labels ? `{${labels}}` : '';
    w.sample(`${n}_sum`, own, this.sum);
    w.sample(`${n}_count`, own, this.count);
  }
}
