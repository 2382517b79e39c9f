// Per-family line caches for the per-site collectors.
//
// ValueLines keeps, per site, only the label prefix of its line
// (`metric{site="x",extra} `), rebuilt when the site at that position
// changes; the value is formatted on every render. Caching whole lines (the
// previous design) kept ~34,000 strings per tick alive at 1,000 sites that
// changed on nearly every tick (counters, rates, optical values): they
// survived the young generation, were promoted and became old-space garbage
// one tick later (~2.5 MB/tick), the main source of heap growth under load.
// The prefixes are stable, so they are promoted once and never churn; the
// per-render strings die young.
//
// KeyedLines keeps whole lines: their content changes only with the key
// (site info, fault label), i.e. rarely.
import { escapeLabelValue, formatValue } from './format.js';

export class ValueLines {
  private names: string[] = [];
  private prefixes: string[] = [];

  constructor(
    readonly metric: string,
    /** Extra labels after site, e.g. `,state="up"` (already escaped). */
    readonly extra = '',
  ) {}

  /**
   * The family's sample lines (no header), newline-terminated; '' when n = 0.
   * `present(i)` false leaves site i out (a field its writer marks absent).
   */
  render(n: number, name: (i: number) => string, value: (i: number) => number, present?: (i: number) => boolean): string {
    if (this.prefixes.length !== n) {
      this.prefixes.length = n;
      this.names.length = n;
    }
    const names = this.names;
    const prefixes = this.prefixes;
    let out = '';
    for (let i = 0; i < n; i++) {
      if (present !== undefined && !present(i)) continue;
      const nm = name(i);
      let p = prefixes[i];
      if (names[i] !== nm || p === undefined) {
        names[i] = nm;
        p = prefixes[i] = `${this.metric}{site="${escapeLabelValue(nm)}"${this.extra}} `;
      }
      out += p + formatValue(value(i)) + '\n';
    }
    return out;
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
