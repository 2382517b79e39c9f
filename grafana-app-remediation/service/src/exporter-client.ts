// Reads site capacity from the exporter (GET /api/v1/sites): the baseline
// before an action and the read-after-write verification after it.
import type { SiteFacts } from './policy.js';

export interface SiteState extends SiteFacts {
  name: string;
  linkState?: string;
  fault?: string;
}

export class ExporterClient {
  private inflight?: Promise<Map<string, SiteState>>;
  private cached?: { at: number; value: Map<string, SiteState> };

  constructor(private readonly baseUrl: string, private readonly timeoutMs = 2000) {}

  /**
   * The sites of the latest tick. Concurrent callers share one request
   * (hundreds of actions verifying at once cost one GET, not hundreds);
   * maxAgeMs > 0 also accepts a result that old.
   */
  sites(maxAgeMs = 0): Promise<Map<string, SiteState>> {
    if (maxAgeMs > 0 && this.cached && performance.now() - this.cached.at <= maxAgeMs) return Promise.resolve(this.cached.value);
    if (!this.inflight) {
      const started = performance.now();
      this.inflight = this.fetchSites()
        .then((v) => {
          this.cached = { at: started, value: v };
          return v;
        })
        .finally(() => (this.inflight = undefined));
    }
    return this.inflight;
  }

  private async fetchSites(): Promise<Map<string, SiteState>> {
    const r = await fetch(`${this.baseUrl.replace(/\/$/, '')}/api/v1/sites`, { signal: AbortSignal.timeout(this.timeoutMs), headers: { Accept: 'application/json' } });
    if (!r.ok) throw new Error(`exporter GET /api/v1/sites answered ${r.status}`);
    const body = (await r.json()) as { sites?: { name?: string; valid?: boolean; cmdModules?: number; cmdModulesMax?: number; capacityBps?: number; moduleCapacityBps?: number; linkState?: string; fault?: string }[] };
    const out = new Map<string, SiteState>();
    for (const s of body.sites ?? []) {
      if (!s.valid || typeof s.name !== 'string' || typeof s.cmdModules !== 'number' || typeof s.capacityBps !== 'number') continue;
      out.set(s.name, {
        name: s.name,
        cmdModules: s.cmdModules,
        cmdModulesMax: s.cmdModulesMax ?? 64,
        capacityBps: s.capacityBps,
        ...(s.moduleCapacityBps !== undefined ? { moduleCapacityBps: s.moduleCapacityBps } : {}),
        ...(s.linkState !== undefined ? { linkState: s.linkState } : {}),
        ...(s.fault !== undefined ? { fault: s.fault } : {}),
      });
    }
    return out;
  }
}
