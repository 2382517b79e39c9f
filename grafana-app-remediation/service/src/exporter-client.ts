// Reads site capacity from the exporter (GET /api/v1/sites): the baseline
// before an action and the read-after-write verification after it.
import { KeepAliveClient } from './http-client.js';
import type { SiteFacts } from './policy.js';

export interface SiteState extends SiteFacts {
  name: string;
  linkState?: string;
  fault?: string;
}

export class ExporterClient {
  private inflight?: Promise<Map<string, SiteState>>;
  private cached?: { at: number; value: Map<string, SiteState>; validUntil: number };
  /** Last tick seen (exporter seq, takenAt ms) and the tick interval learnt from two of them. */
  private tick?: { seq: number; takenAtMs: number };
  private tickMs?: number;
  private readonly http: KeepAliveClient;

  /** `token`: the exporter's [read] bearer token, when its web config requires credentials. */
  constructor(baseUrl: string, private readonly timeoutMs = 2000, private readonly token?: string) {
    this.http = new KeepAliveClient(baseUrl, { maxSockets: 4 });
  }

  /** Closes the idle keep-alive connections (service shutdown). */
  close(): void {
    this.http.close();
  }

  /**
   * The sites of the latest tick. Concurrent callers share one request
   * (hundreds of actions verifying at once cost one GET, not hundreds);
   * maxAgeMs > 0 also accepts a result that old. And whatever maxAgeMs: the
   * exporter's answer only changes once per tick (seq, takenAt), so until the
   * next tick is due a new request would return the very same tick - the
   * last result is reused (that spared a request and the parse of every
   * site's JSON per webhook at 100 webhooks/s). The tick interval is learnt
   * from two answers; an exporter that reports no seq/takenAt is asked every time.
   */
  sites(maxAgeMs = 0): Promise<Map<string, SiteState>> {
    const c = this.cached;
    if (c && (Date.now() < c.validUntil || (maxAgeMs > 0 && performance.now() - c.at <= maxAgeMs))) return Promise.resolve(c.value);
    if (!this.inflight) {
      const started = performance.now();
      this.inflight = this.fetchSites()
        .then(({ sites, seq, takenAtMs }) => {
          let validUntil = 0;
          if (seq !== undefined && takenAtMs !== undefined) {
            const prev = this.tick;
            if (prev && seq > prev.seq && takenAtMs > prev.takenAtMs) {
              const est = (takenAtMs - prev.takenAtMs) / (seq - prev.seq);
              this.tickMs = this.tickMs === undefined ? est : Math.min(this.tickMs, est);
            }
            if (!prev || seq !== prev.seq) this.tick = { seq, takenAtMs };
            // 50 ms early: clock skew and a tick that runs a little early.
            if (this.tickMs !== undefined && this.tickMs >= 100) validUntil = takenAtMs + this.tickMs - 50;
          }
          this.cached = { at: started, value: sites, validUntil };
          return sites;
        })
        .finally(() => (this.inflight = undefined));
    }
    return this.inflight;
  }

  private async fetchSites(): Promise<{ sites: Map<string, SiteState>; seq?: number; takenAtMs?: number }> {
    const r = await this.http.request('GET', '/api/v1/sites', { timeoutMs: this.timeoutMs, headers: { Accept: 'application/json', ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}) } });
    if (r.status !== 200) throw new Error(`exporter GET /api/v1/sites answered ${r.status}`);
    const body = JSON.parse(r.text) as { seq?: number; takenAt?: string; source?: { replay?: boolean }; sites?: { name?: string; valid?: boolean; cmdModules?: number; cmdModulesMax?: number; capacityBps?: number; moduleCapacityBps?: number; linkState?: string; fault?: string; interface?: boolean }[] };
    const out = new Map<string, SiteState>();
    // A replay may lack the module fields (null): the site is still known, and only dry-runs.
    const replay = body.source?.replay === true;
    const n = (v: number | null | undefined) => (typeof v === 'number' ? v : NaN);
    for (const s of body.sites ?? []) {
      if (!s.valid || typeof s.name !== 'string') continue;
      // A site fed by a network interface has no module fields either: known, never provisioned.
      const iface = s.interface === true;
      if (!replay && !iface && (typeof s.cmdModules !== 'number' || typeof s.capacityBps !== 'number')) continue;
      out.set(s.name, {
        name: s.name,
        cmdModules: n(s.cmdModules),
        cmdModulesMax: s.cmdModulesMax ?? (replay || iface ? NaN : 64),
        capacityBps: n(s.capacityBps),
        ...(replay ? { replay: true } : {}),
        ...(iface ? { interface: true } : {}),
        ...(s.moduleCapacityBps !== undefined ? { moduleCapacityBps: s.moduleCapacityBps } : {}),
        ...(s.linkState !== undefined ? { linkState: s.linkState } : {}),
        ...(s.fault !== undefined ? { fault: s.fault } : {}),
      });
    }
    const takenAtMs = typeof body.takenAt === 'string' ? Date.parse(body.takenAt) : NaN;
    return { sites: out, ...(typeof body.seq === 'number' && Number.isFinite(takenAtMs) ? { seq: body.seq, takenAtMs } : {}) };
  }
}
