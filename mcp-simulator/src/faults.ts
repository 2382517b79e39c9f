// Seeded fault injection for the MCP simulator.
//
// Two ways to inject a fault, both reproducible:
//   - probabilities (0..1) drawn from a seeded PRNG (mulberry32): the same
//     seed and the same request order give the same faults;
//   - "next" counters: the next N requests of a kind get the fault, whatever
//     the PRNG says. Tests use these for exact scenarios.
// Counters are consumed first; a counter at 0 falls back to the probability.

export const FAULT_KINDS = [
  /** POST /oauth/token answers 503. */
  'token_5xx',
  /** POST jobs answers 503 and creates nothing. */
  'create_5xx',
  /** POST jobs creates (or finds) the job, then answers 500: the response is lost. */
  'create_5xx_after_commit',
  /** POST jobs creates the job, then never answers (the client times out). */
  'create_timeout_after_commit',
  /** POST jobs hangs without creating anything (the client times out). */
  'create_timeout',
  /** The create request is processed twice (as a retrying proxy would); the client sees the second answer. */
  'create_duplicate',
  /** GET job answers 503. */
  'poll_5xx',
  /** GET job answers the job's previous state (a stale replica). */
  'poll_stale',
  /** The job ends "failed" before anything is applied. */
  'job_fail',
  /** GET jobs (the list, the lookup by Idempotency-Key) answers 503. */
  'lookup_5xx',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultConfig {
  seed: number;
  /** Probability per request, 0..1. */
  probability: Partial<Record<FaultKind, number>>;
  /** Next N requests of a kind get the fault. */
  next: Partial<Record<FaultKind, number>>;
}

/** mulberry32: tiny, fast, good enough for test reproducibility. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private cfg: FaultConfig;
  private rand: () => number;
  readonly injected: Record<string, number> = {};

  constructor(cfg: Partial<FaultConfig> = {}) {
    this.cfg = { seed: cfg.seed ?? 1, probability: { ...cfg.probability }, next: { ...cfg.next } };
    this.rand = mulberry32(this.cfg.seed);
  }

  get config(): FaultConfig {
    return { seed: this.cfg.seed, probability: { ...this.cfg.probability }, next: { ...this.cfg.next } };
  }

  /** Replaces the configuration (validated) and reseeds the PRNG. */
  set(cfg: unknown): void {
    this.cfg = validateFaultConfig(cfg);
    this.rand = mulberry32(this.cfg.seed);
  }

  /** Adds to the "next" counters without reseeding. */
  addNext(next: Partial<Record<FaultKind, number>>): void {
    for (const [k, v] of Object.entries(next)) {
      const kind = k as FaultKind;
      this.cfg.next[kind] = (this.cfg.next[kind] ?? 0) + (v ?? 0);
    }
  }

  /** True when this request gets fault `kind` (consumes a counter or draws once). */
  hit(kind: FaultKind): boolean {
    const n = this.cfg.next[kind] ?? 0;
    let yes = false;
    if (n > 0) {
      this.cfg.next[kind] = n - 1;
      yes = true;
    } else {
      const p = this.cfg.probability[kind] ?? 0;
      yes = p > 0 && this.rand() < p;
    }
    if (yes) this.injected[kind] = (this.injected[kind] ?? 0) + 1;
    return yes;
  }

  /** Uniform draw in [lo, hi] from the same seeded stream. */
  between(lo: number, hi: number): number {
    return hi <= lo ? lo : lo + this.rand() * (hi - lo);
  }
}

/** Validates a fault configuration; throws Error with every problem listed. */
export function validateFaultConfig(v: unknown): FaultConfig {
  const problems: string[] = [];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('faults: expected an object {seed, probability, next}');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['seed', 'probability', 'next'].includes(k)) problems.push(`faults.${k}: unknown key (allowed: seed, probability, next)`);
  const seed = o.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) problems.push('faults.seed: expected an integer 0..4294967295');
  const table = (name: 'probability' | 'next', check: (x: unknown) => string | undefined): Partial<Record<FaultKind, number>> => {
    const t = o[name] ?? {};
    if (t === null || typeof t !== 'object' || Array.isArray(t)) {
      problems.push(`faults.${name}: expected an object keyed by fault kind`);
      return {};
    }
    const out: Partial<Record<FaultKind, number>> = {};
    for (const [k, x] of Object.entries(t)) {
      if (!(FAULT_KINDS as readonly string[]).includes(k)) {
        problems.push(`faults.${name}.${k}: unknown fault kind (known: ${FAULT_KINDS.join(', ')})`);
        continue;
      }
      const err = check(x);
      if (err) problems.push(`faults.${name}.${k}: ${err}`);
      else out[k as FaultKind] = x as number;
    }
    return out;
  };
  const probability = table('probability', (x) => (typeof x === 'number' && x >= 0 && x <= 1 ? undefined : 'expected a probability 0..1'));
  const next = table('next', (x) => (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 1_000_000 ? undefined : 'expected an integer count 0..1000000'));
  if (problems.length) throw new Error(problems.join('; '));
  return { seed: seed as number, probability, next };
}
