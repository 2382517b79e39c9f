// Token bucket: `burst` commands at once, refilled at `perSecond`.
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    readonly burst: number,
    readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(burst >= 1) || !(perSecond > 0)) throw new Error('rate limit: burst must be >= 1 and rate > 0');
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token: 0 when allowed, else milliseconds until one is available. */
  take(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }
}
