// Per-family line caches for the per-site collectors. A line is rebuilt only
// when its site or value changed since the last render; static families
// (capacity, slots, thresholds, info) cost one array join per render.
import { escapeLabelValue, formatValue } from './format.js';

export class ValueLines {
  private names: string[] = [];
  private vals = new Float64Array(0);
  private lines: string[] = [];

  constructor(
    readonly metric: string,
    /** Extra labels after site, e.g. `,state="up"` (already escaped). */
    readonly extra = '',
  ) {}

  /** The family's sample lines (no header), newline-terminated; '' when n = 0. */
  render(n: number, name: (i: number) => string, value: (i: number) => number): string {
    if (this.lines.length !== n) {
      this.lines.length = n;
      this.names.length = n;
      const v = new Float64Array(n);
      v.set(this.vals.subarray(0, Math.min(n, this.vals.length)));
      this.vals = v;
    }
    const lines = this.lines;
    const names = this.names;
    const vals = this.vals;
    for (let i = 0; i < n; i++) {
      const nm = name(i);
      const x = value(i);
      if (names[i] === nm && (vals[i] === x || (x !== x && vals[i] !== vals[i]))) continue;
      names[i] = nm;
      vals[i] = x;
      lines[i] = `${this.metric}{site="${escapeLabelValue(nm)}"${this.extra}} ${formatValue(x)}`;
    }
    return n === 0 ? '' : lines.join('\n') + '\n';
  }
}

/** Lines whose content is a function of (site, key), e.g. the fault label. */
export class KeyedLines {
  private keys: string[] = [];
  private lines: string[] = [];
  constructor(private readonly build: (i: number) => string) {}

  render(n: number, key: (i: number) => string): string {
    if (this.lines.length !== n) {
      this.lines.length = n;
      this.keys.length = n;
    }
    for (let i = 0; i < n; i++) {
      const k = key(i);
      if (this.keys[i] === k) continue;
      this.keys[i] = k;
      this.lines[i] = this.build(i);
    }
    return n === 0 ? '' : this.lines.join('\n') + '\n';
  }
}
