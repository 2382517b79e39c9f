// Alert thresholds as data (issue 14): a fleet default and per-site overrides
// for every threshold the alert rules use, kept in the service's store (the
// `thresholds` setting) with an audit entry per change (who, before, after,
// why), served to the app and exported for Prometheus:
//   optifiber_fleet_<threshold>{scope="fleet"}  the fleet default, when set
//   optifiber_override_<threshold>{site}     a site's override
// The rules (prometheus/rules/optifiber-recording.yml, optifiber.thresholds)
// take the override, else the fleet default, else the exporter's own gauge
// (its config value: what a stand-alone exporter alerts on).
//
//   GET /api/v1/thresholds   Viewer   definitions, fleet defaults, overrides
//   PUT /api/v1/thresholds   Editor   {scope: "fleet"|<site>, threshold, value|null, reason}
import type { NextFunction, Request, Response, Router } from 'express';
import client from 'prom-client';
import { SITE_RE } from './policy.js';
import type { Queries, Store } from './store.js';
import type { Permission } from './roles.js';

export const THRESHOLD_KEYS = ['osnr_low_db', 'pre_fec_ber_high_ratio', 'rx_power_low_dbm', 'rx_power_high_dbm', 'utilization_high_ratio', 'anomaly_score'] as const;
export type ThresholdKey = (typeof THRESHOLD_KEYS)[number];

export interface ThresholdDef {
  /** The exporter's gauge (optifiber_<metric>); the service exports optifiber_fleet_<metric> and optifiber_override_<metric>. */
  metric: string;
  label: string;
  unit: string;
  min: number;
  max: number;
  /** What crossing it means. */
  help: string;
}

export const THRESHOLDS: Record<ThresholdKey, ThresholdDef> = {
  osnr_low_db: { metric: 'osnr_low_threshold_db', label: 'OSNR low', unit: 'dB', min: 0, max: 60, help: 'OptiFiberOsnrLow fires below it' },
  pre_fec_ber_high_ratio: { metric: 'pre_fec_ber_high_threshold_ratio', label: 'Pre-FEC BER high', unit: 'ratio', min: 1e-12, max: 0.5, help: 'OptiFiberPreFecBerHigh fires above it' },
  rx_power_low_dbm: { metric: 'rx_power_low_threshold_dbm', label: 'Rx power low', unit: 'dBm', min: -60, max: 20, help: 'OptiFiberOpticalPowerOutOfRange fires below it' },
  rx_power_high_dbm: { metric: 'rx_power_high_threshold_dbm', label: 'Rx power high', unit: 'dBm', min: -60, max: 20, help: 'OptiFiberOpticalPowerOutOfRange fires above it' },
  utilization_high_ratio: { metric: 'utilization_high_threshold_ratio', label: 'Utilization high (and forecast)', unit: 'ratio', min: 0.01, max: 1, help: 'utilization and 15-minute forecast alerts fire above it' },
  anomaly_score: { metric: 'anomaly_score_threshold', label: 'Anomaly score', unit: 'score', min: 0.01, max: 1, help: 'OptiFiberAnomalyDetected fires at or above it' },
};

export type ThresholdValues = Partial<Record<ThresholdKey, number>>;
export interface ThresholdDoc {
  fleet: ThresholdValues;
  sites: Record<string, ThresholdValues>;
}
export interface ThresholdChange {
  scope: 'fleet' | string;
  threshold: ThresholdKey;
  /** null removes the value (a site falls back to the fleet default, the fleet to the exporter's). */
  value: number | null;
  reason: string;
}

const EMPTY: ThresholdDoc = { fleet: {}, sites: {} };

/** The change a PUT body asks for, or the problems with it (each says what to fix). */
export function parseChange(body: unknown): { change?: ThresholdChange; problems: string[] } {
  const p: string[] = [];
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { problems: ['body must be a JSON object {scope, threshold, value, reason}'] };
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['scope', 'threshold', 'value', 'reason'].includes(k)) p.push(`unknown key ${k} (allowed: scope, threshold, value, reason)`);
  if (typeof b.scope !== 'string' || (b.scope !== 'fleet' && !SITE_RE.test(b.scope))) p.push('scope: "fleet" or a site name (1-31 of A-Z a-z 0-9 _ . -)');
  const def = typeof b.threshold === 'string' ? THRESHOLDS[b.threshold as ThresholdKey] : undefined;
  if (!def) p.push(`threshold: one of ${THRESHOLD_KEYS.join(', ')}`);
  if (b.value !== null && (typeof b.value !== 'number' || !Number.isFinite(b.value))) p.push('value: a number, or null to remove it');
  else if (def && typeof b.value === 'number' && (b.value < def.min || b.value > def.max)) p.push(`value: ${def.label} must be between ${def.min} and ${def.max} ${def.unit}`);
  if (typeof b.reason !== 'string' || b.reason.trim().length < 3 || b.reason.length > 500) p.push('reason: say why, 3 to 500 characters (it goes to the audit log)');
  if (p.length) return { problems: p };
  return { change: { scope: b.scope as string, threshold: b.threshold as ThresholdKey, value: b.value as number | null, reason: (b.reason as string).trim() }, problems: [] };
}

/** The document after `c`, or the problem it would create (rx low must stay below rx high). */
export function applyChange(doc: ThresholdDoc, c: ThresholdChange): { doc?: ThresholdDoc; problem?: string } {
  const next: ThresholdDoc = { fleet: { ...doc.fleet }, sites: Object.fromEntries(Object.entries(doc.sites).map(([s, v]) => [s, { ...v }])) };
  const target = c.scope === 'fleet' ? next.fleet : (next.sites[c.scope] ??= {});
  if (c.value === null) delete target[c.threshold];
  else target[c.threshold] = c.value;
  if (c.scope !== 'fleet' && Object.keys(target).length === 0) delete next.sites[c.scope];
  const check = (v: ThresholdValues, where: string) => {
    const lo = v.rx_power_low_dbm;
    const hi = v.rx_power_high_dbm;
    return lo !== undefined && hi !== undefined && lo >= hi ? `${where}: rx power low (${lo} dBm) must stay below rx power high (${hi} dBm)` : undefined;
  };
  const problem = check(next.fleet, 'fleet') ?? Object.entries(next.sites).map(([s, v]) => check({ ...next.fleet, ...v }, s)).find(Boolean);
  return problem ? { problem } : { doc: next };
}

export class Thresholds {
  constructor(private readonly store: Store) {}

  async get(q: Queries = this.store): Promise<{ doc: ThresholdDoc; updatedAt: string | null; updatedBy: string | null }> {
    const s = await q.getSetting<ThresholdDoc>('thresholds');
    return { doc: s?.value ?? EMPTY, updatedAt: s?.updated_at ?? null, updatedBy: s?.updated_by ?? null };
  }

  /** Applies one change and its audit entry in one transaction; resolves with the problem if refused. */
  async set(c: ThresholdChange, actor: string): Promise<{ problem?: string }> {
    return this.store.write(async (tx) => {
      const before = (await this.get(tx)).doc;
      const r = applyChange(before, c);
      if (!r.doc) return { problem: r.problem };
      const was = (c.scope === 'fleet' ? before.fleet : before.sites[c.scope] ?? {})[c.threshold] ?? null;
      await tx.putSetting('thresholds', r.doc, actor);
      await tx.audit({
        kind: 'threshold', action_id: null, site: c.scope === 'fleet' ? null : c.scope, alertname: null, fingerprint: null, starts_at: null, status: null,
        decision: c.value === null ? 'clear' : 'set', reason: c.reason, actor,
        details: JSON.stringify({ threshold: c.threshold, scope: c.scope, before: was, after: c.value }),
      });
      return {};
    });
  }
}

/** optifiber_fleet_* and optifiber_override_* gauges, read from the store at each scrape. */
export function registerThresholdMetrics(registry: client.Registry, thresholds: Thresholds): void {
  for (const key of THRESHOLD_KEYS) {
    const def = THRESHOLDS[key];
    new client.Gauge({
      name: `optifiber_fleet_${def.metric}`,
      help: `${def.label} fleet default set in the app (${def.unit}); absent = the exporter's configured value.`,
      // a label only so that an unset default exports no series (prom-client
      // writes 0 for an unlabelled gauge that has no value)
      labelNames: ['scope'],
      registers: [registry],
      async collect() {
        const v = (await thresholds.get()).doc.fleet[key];
        this.reset();
        if (v !== undefined) this.set({ scope: 'fleet' }, v);
      },
    });
    new client.Gauge({
      name: `optifiber_override_${def.metric}`,
      help: `${def.label} per-site override set in the app (${def.unit}).`,
      labelNames: ['site'],
      registers: [registry],
      async collect() {
        const sites = (await thresholds.get()).doc.sites;
        this.reset();
        for (const [site, v] of Object.entries(sites)) if (v[key] !== undefined) this.set({ site }, v[key]!);
      },
    });
  }
}

/** The HTTP layer's role-matrix guard (roles.ts is the one definition). */
type Need = (p: Permission) => (req: Request, res: Response, next: NextFunction) => void;

/** GET/PUT /thresholds on the REST API router (auth and role already checked by its middleware). */
export function registerThresholdRoutes(api: Router, thresholds: Thresholds, need: Need, userHeader: string): void {
  const body = async () => {
    const t = await thresholds.get();
    return { definitions: THRESHOLD_KEYS.map((key) => ({ key, ...THRESHOLDS[key] })), fleet: t.doc.fleet, sites: t.doc.sites, updatedAt: t.updatedAt, updatedBy: t.updatedBy };
  };
  api.get('/thresholds', async (_req, res) => {
    res.json(await body());
  });
  api.put('/thresholds', need('editThresholds'), (req, res, next) => {
    const error = (status: number, message: string, problems: string[] = []) =>
      res.status(status).json({ status: 'error', errorType: status === 403 ? 'forbidden' : 'bad_request', error: message, problems });
    // the audit names a person: a change without Grafana's user header is refused
    const user = req.get(userHeader);
    if (!user) return error(403, `changing a threshold needs a named user (header ${userHeader}, sent by Grafana's proxy with dataproxy.send_user_header)`);
    const { change, problems } = parseChange(req.body);
    if (!change) return error(400, `invalid threshold change: ${problems.join('; ')}`, problems);
    thresholds
      .set(change, res.locals.user as string)
      .then(async (r) => (r.problem ? error(400, `invalid threshold change: ${r.problem}`, [r.problem]) : res.json(await body())))
      .catch(next);
  });
}
