// The remediation engine: durable queue -> policy -> persisted action state
// machine -> MCP -> read-after-write verification.
//
// Action states (actions.state), each transition one durable commit with its
// audit row; each step is idempotent, so after a crash (SIGKILL at any point)
// the restarted service resumes every non-final action from its stored state
// and neither loses nor repeats it:
//
//   pending_approval --approve--> ready --(exporter baseline, re-checks)--> baseline
//   (decision, auto) ----------------------------------------------------> baseline
//   baseline --POST job, Idempotency-Key = f(episode)--> submitted   (a re-POST after a
//             crash returns the job the first POST created: never a second job)
//   submitted --poll until succeeded--> job_succeeded   (failed job -> done/failed)
//   job_succeeded --exporter shows cmd_modules and capacity up--> done/succeeded
//                                            (not visible in verify_timeout -> done/unverified)
//   any pre-submission state --resolved alert / reject / expiry / kill switch--> done
//
// The baseline is stored BEFORE the job is submitted, so verification after a
// restart compares against the capacity before the action, not after it.
import type { Logger } from '@optifiber/exporter/dist/log/logger.js';
import type { Config } from './config.js';
import { ExporterClient, type SiteState } from './exporter-client.js';
import { McpClient, McpDeadlineError, McpPermanentError } from './mcp-client.js';
import type { Metrics } from './metrics.js';
import { decide, DEFAULT_POLICY, episodeKey, idempotencyKey, normalizeTime, siteOf, effective, type AlertIn, type KillSwitch, type Policy } from './policy.js';
import type { ActionResult, ActionRow, SiteBaseline, Store } from './store.js';

/** The exporter reports capacity in bit/s; audit reasons are for people. */
const gbps = (bitsPerSecond: number): string => String(Math.round(bitsPerSecond / 1e8) / 10);
import { toAlert, type WebhookPayload } from './webhook.js';

/** Test hook: REMEDIATION_TEST_CRASH_AT=<point> makes the process SIGKILL itself there. */
export const CRASH_POINTS = ['inbox_committed', 'decided', 'baseline_committed', 'mcp_created', 'submitted', 'job_finished', 'job_succeeded', 'verified', 'done'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export interface EngineOptions {
  config: Config;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  mcp: McpClient;
  exporter: ExporterClient;
  crashAt?: string;
  /** Called when an action reaches its final result (annotations). */
  onFinished?: (a: ActionRow) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Steps after the MCP request: durable before the next step, but they may share a later commit (Store.write lazy). */
const LAZY = { lazy: true } as const;
/** How long accept() waits for the exporter's sites before leaving the delivery to the queue. */
const INLINE_SITES_MS = 100;
/** p's value, or undefined if p rejects or takes longer than ms. */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      () => (clearTimeout(t), resolve(undefined)),
    );
  });
}
/** A delivery whose decision may act needs the exporter's site facts. */
const needsSites = (p: WebhookPayload) => p.alerts.some((a) => a.status === 'firing' && a.labels?.remediation === 'auto');
const iso = () => new Date().toISOString();

export class Engine {
  private readonly store: Store;
  private readonly log: Logger;
  private readonly m: Metrics;
  private draining = false;
  private drainAgain = false;
  private readonly running = new Set<number>();
  private readonly fresh = new Set<number>();
  private readonly parsed = new Map<number, WebhookPayload>();
  private stopped = false;
  private expiryTimer?: NodeJS.Timeout;
  readonly health = { mcp: { lastOk: undefined as string | undefined, lastError: undefined as string | undefined }, exporter: { lastOk: undefined as string | undefined, lastError: undefined as string | undefined } };

  constructor(private readonly o: EngineOptions) {
    this.store = o.store;
    this.log = o.logger;
    this.m = o.metrics;
    if (!this.store.getSetting('policy')) {
      const p = o.config.policy;
      const seeded: Policy = {
        ...DEFAULT_POLICY,
        dry_run: p.dry_run,
        approval_required: p.approval_required,
        cooldown_seconds: Math.round(p.cooldown / 1000),
        max_cmd_modules: p.max_cmd_modules,
        rate_limit_actions: p.rate_limit_actions,
        rate_limit_window_seconds: Math.max(1, Math.round(p.rate_limit_window / 1000)),
        modules_per_action: p.modules_per_action,
        approval_timeout_seconds: Math.max(1, Math.round(p.approval_timeout / 1000)),
      };
      this.store.putSetting('policy', seeded, 'config');
      this.store.audit({ kind: 'policy', action_id: null, site: null, alertname: null, fingerprint: null, starts_at: null, status: null, decision: 'set', reason: 'initial policy from configuration', actor: 'config', details: JSON.stringify(seeded) });
    }
    if (!this.store.getSetting('kill_switch')) this.store.putSetting('kill_switch', { enabled: false }, 'config');
    this.refreshGauges();
  }

  crash(point: CrashPoint): void {
    if (this.o.crashAt === point) {
      process.stderr.write(`remediation: test hook REMEDIATION_TEST_CRASH_AT=${point}: SIGKILL\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  }

  policy(): Policy {
    return this.store.getSetting<Policy>('policy')!.value;
  }

  killSwitch(): KillSwitch {
    return this.store.getSetting<KillSwitch>('kill_switch')!.value;
  }

  private gaugeTimer?: NodeJS.Timeout;

  /**
   * Gauges soon (at most every 250 ms): their queries ran after every queue
   * batch and every finished action, a measurable share of the CPU at
   * 100 webhooks/s. /metrics still calls refreshGauges() itself.
   */
  gaugesSoon(): void {
    if (this.gaugeTimer || this.stopped) return;
    this.gaugeTimer = setTimeout(() => {
      this.gaugeTimer = undefined;
      if (!this.stopped) this.refreshGauges();
    }, 250);
    this.gaugeTimer.unref();
  }

  refreshGauges(): void {
    this.m.queueDepth.set(this.store.queueDepth());
    this.m.inFlight.set((this.store.prepare("SELECT count(*) n FROM actions WHERE state IN ('ready','baseline','submitted','job_succeeded')").get() as { n: number }).n);
    this.m.pending.set((this.store.prepare("SELECT count(*) n FROM actions WHERE state = 'pending_approval'").get() as { n: number }).n);
    this.m.killSwitch.set(this.killSwitch().enabled ? 1 : 0);
    const p = this.policy();
    this.m.dryRun.set(p.dry_run ? 1 : 0);
    this.m.approval.set(p.approval_required ? 1 : 0);
  }

  /** Starts processing: the queue left by a previous run, every unfinished action, approval expiry. */
  start(): void {
    for (const a of this.store.activeActions()) this.runAction(a.id);
    this.kick();
    this.expiryTimer = setInterval(() => void this.expireApprovals().catch((e: unknown) => this.log.error({ err: e }, 'approval expiry failed')), 5000);
    this.expiryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    if (this.gaugeTimer) clearTimeout(this.gaugeTimer);
  }

  /**
   * Persists one webhook delivery (durable before the caller answers 202).
   *
   * Fast path: when the delivery is next in line (nothing older is still
   * pending in the queue, checked inside the transaction) and the site facts
   * it needs come from the exporter within INLINE_SITES_MS, it is decided in
   * the SAME transaction that persists it: one commit (one fsync) between the
   * webhook and the MCP request instead of two. Otherwise - and whenever the decision throws, in
   * which case only its savepoint is rolled back - the delivery stays in the
   * durable queue for drain(), exactly as before. Either way the row and its
   * decision are committed together or the row is still pending, so a crash
   * at any point loses nothing and decides nothing twice.
   */
  async accept(body: string, remote: string | undefined, receivedAtMs: number, parsed?: WebhookPayload): Promise<number> {
    const needs = parsed ? needsSites(parsed) : true;
    // Same facts as the queue path (a current exporter read, shared with any
    // read in flight), but only if they come quickly: the 202 must stay fast.
    const sites = parsed && needs ? await within(this.o.exporter.sites(), INLINE_SITES_MS) : undefined;
    const inline = !!parsed && (!needs || sites !== undefined);
    const r = await this.store.write(() => {
      const id = this.store.enqueue(body, remote, receivedAtMs);
      let created: number[] | undefined;
      if (inline && !this.stopped && !this.store.pendingBefore(id)) {
        try {
          created = this.store.db.transaction(() => this.decideDelivery(id, parsed!, receivedAtMs, sites, undefined))();
        } catch (e) {
          this.log.warn({ inbox: id, err: e }, 'deciding the delivery on arrival failed; it stays queued');
        }
      }
      return { id, created };
    });
    this.crash('inbox_committed');
    if (r.created) {
      this.crash('decided');
      for (const a of r.created) {
        this.fresh.add(a);
        this.runAction(a);
      }
      this.gaugesSoon();
    } else {
      // The HTTP layer already parsed and validated the body: spare the queue a second parse.
      if (parsed && this.parsed.size < 10_000) this.parsed.set(r.id, parsed);
      this.kick();
    }
    return r.id;
  }

  /** Decides every alert of one delivery and acknowledges it; inside a store.write() transaction. */
  private decideDelivery(inboxId: number, payload: WebhookPayload, receivedAtMs: number, sites: Map<string, SiteState> | undefined, sitesError: string | undefined): number[] {
    const out: number[] = [];
    payload.alerts.forEach((raw, i) => {
      const id = this.decideOne(toAlert(raw), payload, inboxId, i, receivedAtMs, sites, sitesError);
      if (id !== undefined) out.push(id);
    });
    this.store.inboxDone(inboxId);
    return out;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    let failed = false;
    void this.drain()
      .catch((e: unknown) => {
        failed = true;
        this.log.error({ err: e }, 'queue processing failed; retrying in 1 s');
      })
      .finally(() => {
        this.draining = false;
        this.m.queueDepth.set(this.store.queueDepth());
        if (failed) setTimeout(() => this.kick(), 1000).unref();
        else if (this.drainAgain) {
          this.drainAgain = false;
          setImmediate(() => this.kick());
        }
      });
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const rows = this.store.pendingInbox(200);
      if (rows.length === 0) return;
      const parsed = rows.map((r) => {
        const payload = this.parsed.get(r.id) ?? (JSON.parse(r.body) as WebhookPayload);
        this.parsed.delete(r.id);
        return { ...r, payload };
      });
      const needSites = parsed.some((r) => needsSites(r.payload));
      let sites: Map<string, SiteState> | undefined;
      let sitesError: string | undefined;
      if (needSites) {
        try {
          sites = await this.o.exporter.sites();
          this.health.exporter.lastOk = iso();
        } catch (e) {
          sitesError = (e as Error).message;
          this.health.exporter.lastError = `${iso()} ${sitesError}`;
        }
      }
      const created = await this.store.write(() => parsed.flatMap((r) => this.decideDelivery(r.id, r.payload, r.received_at_ms, sites, sitesError)));
      this.crash('decided');
      for (const id of created) {
        this.fresh.add(id);
        this.runAction(id);
      }
      this.gaugesSoon();
    }
  }

  /** One alert of one delivery; runs inside the batch transaction. Returns an action id to run. */
  private decideOne(a: AlertIn, p: WebhookPayload, inboxId: number, index: number, receivedAtMs: number, sites: Map<string, SiteState> | undefined, sitesError: string | undefined): number | undefined {
    const now = Date.now();
    const nowIso = new Date(now).toISOString();
    const ek = episodeKey(a);
    const site = siteOf(a) ?? null;
    const alertname = a.labels.alertname ?? '';
    const prev = this.store.prepare('SELECT resolved_at FROM episodes WHERE episode_key = ?').get(ek) as { resolved_at: string | null } | undefined;
    this.store.prepare(
      `INSERT INTO episodes (episode_key, fingerprint, starts_at, site, alertname, first_seen, last_seen, deliveries, resolved_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
       ON CONFLICT(episode_key) DO UPDATE SET last_seen = excluded.last_seen, deliveries = deliveries + 1, resolved_at = COALESCE(resolved_at, excluded.resolved_at)`,
    ).run(ek, a.fingerprint, normalizeTime(a.startsAt), site, alertname, nowIso, nowIso, a.status === 'resolved' ? nowIso : null);
    const existing = this.store.actionByEpisode(ek);
    const policy = this.policy();
    const ks = this.killSwitch();
    const s = site ? sites?.get(site) : undefined;
    const last = site ? (this.store.prepare('SELECT max(submitted_at) t FROM actions WHERE site = ? AND submitted_at IS NOT NULL').get(site) as { t: string | null }).t : null;
    const inWindow = (this.store.prepare('SELECT count(*) n FROM actions WHERE submitted_at >= ?').get(new Date(now - policy.rate_limit_window_seconds * 1000).toISOString()) as { n: number }).n;
    const busy = site ? !!this.store.prepare("SELECT 1 FROM actions WHERE site = ? AND state != 'done' LIMIT 1").get(site) : false;
    const d = decide(a, policy, ks, {
      now,
      episodeResolved: !!prev?.resolved_at,
      episodeHasAction: !!existing,
      siteBusy: busy,
      ...(last ? { lastSiteActionAt: Date.parse(last) } : {}),
      actionsInWindow: inWindow,
      ...(s ? { site: s } : {}),
    });
    const base = { site, alertname, fingerprint: a.fingerprint, starts_at: normalizeTime(a.startsAt), status: a.status, actor: 'policy' };
    const details = { groupKey: p.groupKey, receiver: p.receiver, inbox: inboxId, alert: index, truncatedAlerts: p.truncatedAlerts ?? 0, ...(d.decision === 'skip' && d.reason === 'site_unknown' && sitesError ? { exporterError: sitesError } : {}) };
    this.m.decisions.inc({ decision: d.decision, reason: d.reason });
    if (d.decision === 'skip') {
      let actionId: number | null = existing?.id ?? null;
      // A resolved alert cancels whatever of its episode has not been submitted yet.
      if (d.reason === 'resolved' && existing && (existing.state === 'pending_approval' || existing.state === 'ready')) {
        this.finishSync(existing, 'cancelled', 'the alert resolved before the action was submitted', 'policy');
        actionId = existing.id;
      }
      this.store.audit({ ...base, kind: 'decision', action_id: actionId, decision: 'skip', reason: d.reason, details: JSON.stringify({ ...details, detail: d.detail, final: d.final }) });
      if (d.reason !== 'duplicate' && d.reason !== 'resolved') this.log.info({ site, fingerprint: a.fingerprint, reason: d.reason, detail: d.detail }, 'alert skipped');
      return undefined;
    }
    const baseline: SiteBaseline = { cmdModules: s!.cmdModules, cmdModulesMax: s!.cmdModulesMax, capacityBps: s!.capacityBps, ...(s!.moduleCapacityBps !== undefined ? { moduleCapacityBps: s!.moduleCapacityBps } : {}), readAt: nowIso };
    const mode = d.decision === 'dry_run' ? 'dry_run' : d.decision === 'await_approval' ? 'approval' : 'auto';
    const state = d.decision === 'act' ? 'baseline' : d.decision === 'dry_run' ? 'done' : 'pending_approval';
    const r = this.store
      .prepare(
        `INSERT INTO actions (episode_key, idempotency_key, site, alertname, fingerprint, starts_at, generator_url, labels, annotations, mode, count, state, result, reason, baseline,
           received_at_ms, created_at, updated_at, submitted_at, finished_at, expires_at)
         VALUES (@episode_key, @idempotency_key, @site, @alertname, @fingerprint, @starts_at, @generator_url, @labels, @annotations, @mode, @count, @state, @result, @reason, @baseline,
           @received_at_ms, @now, @now, @submitted_at, @finished_at, @expires_at)`,
      )
      .run({
        episode_key: ek,
        idempotency_key: idempotencyKey(ek),
        site,
        alertname,
        fingerprint: a.fingerprint,
        starts_at: normalizeTime(a.startsAt),
        generator_url: a.generatorURL || null,
        labels: JSON.stringify(a.labels),
        annotations: JSON.stringify(a.annotations),
        mode,
        count: d.count,
        state,
        result: d.decision === 'dry_run' ? 'dry_run' : null,
        reason: d.decision === 'dry_run' ? d.detail : null,
        baseline: d.decision === 'await_approval' ? null : JSON.stringify(baseline),
        received_at_ms: receivedAtMs,
        now: nowIso,
        submitted_at: d.decision === 'await_approval' ? null : nowIso,
        finished_at: d.decision === 'dry_run' ? nowIso : null,
        expires_at: d.decision === 'await_approval' ? new Date(now + policy.approval_timeout_seconds * 1000).toISOString() : null,
      });
    const id = Number(r.lastInsertRowid);
    this.store.audit({ ...base, kind: 'decision', action_id: id, decision: d.decision, reason: d.reason, details: JSON.stringify({ ...details, detail: d.detail, baseline, idempotencyKey: idempotencyKey(ek) }) });
    this.log.info({ site, action: id, decision: d.decision, detail: d.detail }, 'alert decided');
    if (d.decision === 'dry_run') {
      this.m.actions.inc({ result: 'dry_run' });
      const row = this.store.action(id)!;
      queueMicrotask(() => this.o.onFinished?.(row));
      return undefined;
    }
    return d.decision === 'act' ? id : undefined;
  }

  /** Sets a final result; must run inside a store.write() transaction. */
  private finishSync(a: ActionRow, result: ActionResult, reason: string, actor: string, extra: Partial<ActionRow> = {}): void {
    this.store.updateAction(a.id, { state: 'done', result, reason, finished_at: iso(), ...extra });
    this.store.audit({ kind: 'step', action_id: a.id, site: a.site, alertname: a.alertname, fingerprint: a.fingerprint, starts_at: a.starts_at, status: 'done', decision: result, reason, actor, details: JSON.stringify(extra) });
    this.m.actions.inc({ result });
    const row = this.store.action(a.id)!;
    queueMicrotask(() => this.o.onFinished?.(row));
  }

  private step(a: ActionRow, fields: Partial<ActionRow>, reason: string, details: unknown): void {
    this.store.updateAction(a.id, fields);
    this.store.audit({ kind: 'step', action_id: a.id, site: a.site, alertname: a.alertname, fingerprint: a.fingerprint, starts_at: a.starts_at, status: fields.state ?? a.state, decision: null, reason, actor: 'engine', details: JSON.stringify(details) });
  }

  /** Runs an action from its stored state to the end (at most one runner per action). */
  runAction(id: number): void {
    if (this.running.has(id) || this.stopped) return;
    this.running.add(id);
    void (async () => {
      for (let errors = 0; !this.stopped; ) {
        try {
          if (!(await this.advance(id))) break;
          errors = 0;
        } catch (e) {
          errors++;
          this.log.error({ action: id, err: e }, 'action step failed; retrying');
          await sleep(Math.min(5000, 200 * 2 ** Math.min(errors, 5)));
        }
      }
    })().finally(() => {
      this.running.delete(id);
      this.gaugesSoon();
    });
  }

  /** Performs the step of the action's current state. Returns false when there is nothing more to do. */
  private async advance(id: number): Promise<boolean> {
    const a = this.store.action(id);
    if (!a) return false;
    const cfg = this.o.config;
    switch (a.state) {
      case 'done':
      case 'pending_approval':
        return false;
      case 'ready': {
        // Approved: re-read the site and re-check what may have changed while waiting.
        let sites: Map<string, SiteState> | undefined;
        try {
          sites = await this.o.exporter.sites();
          this.health.exporter.lastOk = iso();
        } catch (e) {
          this.health.exporter.lastError = `${iso()} ${(e as Error).message}`;
          throw e;
        }
        const s = sites.get(a.site);
        await this.store.write(() => {
          const cur = this.store.action(id)!;
          if (cur.state !== 'ready') return;
          const ep = this.store.prepare('SELECT resolved_at FROM episodes WHERE episode_key = ?').get(cur.episode_key) as { resolved_at: string | null } | undefined;
          const ks = this.killSwitch();
          const cap = s ? Math.min(effective(this.policy(), cur.site).max_cmd_modules, s.cmdModulesMax) : 0;
          if (ep?.resolved_at) return this.finishSync(cur, 'cancelled', 'the alert resolved before the action was submitted', 'engine');
          if (ks.enabled) return this.finishSync(cur, 'aborted', 'kill switch is on', 'engine');
          if (!s) return this.finishSync(cur, 'skipped', `the exporter does not report site ${cur.site}`, 'engine');
          if (s.cmdModules + cur.count > cap) return this.finishSync(cur, 'skipped', `max_modules: ${s.cmdModules} + ${cur.count} would exceed ${cap}`, 'engine');
          const baseline: SiteBaseline = { cmdModules: s.cmdModules, cmdModulesMax: s.cmdModulesMax, capacityBps: s.capacityBps, ...(s.moduleCapacityBps !== undefined ? { moduleCapacityBps: s.moduleCapacityBps } : {}), readAt: iso() };
          this.step(cur, { state: 'baseline', baseline: JSON.stringify(baseline), submitted_at: iso() }, 'baseline read; submitting to MCP', { baseline });
        });
        this.crash('baseline_committed');
        return true;
      }
      case 'baseline': {
        const deadline = Date.parse(a.submitted_at ?? a.created_at) + cfg.mcp.submit_deadline;
        let first = true;
        try {
          const r = await this.o.mcp.createJob(a.idempotency_key, { site: a.site, operation: 'cmd_add', count: a.count, reference: a.episode_key }, deadline, () => {
            if (first && this.fresh.has(id) && a.mode === 'auto') this.m.webhookToMcp.observe((Date.now() - a.received_at_ms) / 1000);
            first = false;
          });
          this.health.mcp.lastOk = iso();
          this.crash('mcp_created');
          await this.store.write(() =>
            this.step(a, { state: 'submitted', job_id: r.job.id, job_state: r.job.state, mcp_attempts: a.mcp_attempts + r.attempts }, 'MCP job created', { job: r.job.id, attempts: r.attempts, idempotencyKey: a.idempotency_key }),
          LAZY);
          this.crash('submitted');
        } catch (e) {
          if (!(e instanceof McpPermanentError || e instanceof McpDeadlineError)) throw e;
          this.health.mcp.lastError = `${iso()} ${e.message}`;
          await this.store.write(() => this.finishSync(a, 'failed', e.message + (e instanceof McpDeadlineError ? ` (last error: ${e.lastError})` : ''), 'engine'), LAZY);
        }
        return true;
      }
      case 'submitted': {
        const deadline = Date.parse(a.updated_at) + cfg.mcp.job_timeout;
        try {
          const job = await this.o.mcp.waitJob(a.job_id!, deadline);
          this.health.mcp.lastOk = iso();
          this.crash('job_finished');
          await this.store.write(() => {
            if (job.state === 'failed') this.finishSync(a, 'failed', `MCP job ${job.id} failed: ${job.error ?? 'no reason given'}`, 'engine', { job_state: 'failed' });
            else this.step(a, { state: 'job_succeeded', job_state: 'succeeded' }, 'MCP job succeeded; verifying capacity in the pages', { job: job.id });
          }, LAZY);
          this.crash('job_succeeded');
        } catch (e) {
          if (!(e instanceof McpPermanentError || e instanceof McpDeadlineError)) throw e;
          this.health.mcp.lastError = `${iso()} ${e.message}`;
          await this.store.write(() => this.finishSync(a, 'failed', e.message, 'engine'), LAZY);
        }
        return true;
      }
      case 'job_succeeded': {
        const base = JSON.parse(a.baseline!) as SiteBaseline;
        const until = Date.now() + cfg.exporter.verify_timeout;
        let last: SiteState | undefined;
        while (Date.now() < until && !this.stopped) {
          try {
            last = (await this.o.exporter.sites(200)).get(a.site);
            this.health.exporter.lastOk = iso();
          } catch (e) {
            this.health.exporter.lastError = `${iso()} ${(e as Error).message}`;
          }
          if (last && last.cmdModules >= base.cmdModules + a.count && last.capacityBps > base.capacityBps) {
            this.crash('verified');
            const after: SiteBaseline = { cmdModules: last.cmdModules, cmdModulesMax: last.cmdModulesMax, capacityBps: last.capacityBps, readAt: iso() };
            await this.store.write(() =>
              this.finishSync(a, 'succeeded', `capacity verified: ${base.cmdModules} -> ${last!.cmdModules} CMD modules, ${gbps(base.capacityBps)} -> ${gbps(last!.capacityBps)} Gbit/s`, 'engine', { after: JSON.stringify(after) }),
            LAZY);
            this.crash('done');
            return true;
          }
          await sleep(250);
        }
        if (this.stopped) return false;
        await this.store.write(() =>
          this.finishSync(a, 'unverified', `the MCP job succeeded but the pages did not show the new capacity within ${cfg.exporter.verify_timeout} ms (last seen ${last ? `${last.cmdModules} modules, ${gbps(last.capacityBps)} Gbit/s` : 'nothing'})`, 'engine'),
        LAZY);
        return true;
      }
    }
  }

  async approve(id: number, actor: string, comment: string | undefined): Promise<{ status: number; message: string; action?: ActionRow }> {
    const r = await this.store.write(() => {
      const a = this.store.action(id);
      if (!a) return { status: 404, message: `no action ${id}` };
      if (a.state !== 'pending_approval') return { status: 409, message: `action ${id} is not waiting for approval (state ${a.state}${a.result ? `, result ${a.result}` : ''})` };
      if (this.killSwitch().enabled) return { status: 409, message: 'the kill switch is on: turn it off before approving' };
      if (a.expires_at && Date.parse(a.expires_at) < Date.now()) {
        this.finishSync(a, 'expired', 'approval came after expires_at', actor);
        return { status: 409, message: `action ${id} expired at ${a.expires_at}` };
      }
      this.store.updateAction(id, { state: 'ready', approved_by: actor, approved_at: iso() });
      this.store.audit({ kind: 'approval', action_id: id, site: a.site, alertname: a.alertname, fingerprint: a.fingerprint, starts_at: a.starts_at, status: 'ready', decision: 'approved', reason: comment ?? null, actor, details: null });
      return { status: 200, message: 'approved' };
    });
    if (r.status === 200) this.runAction(id);
    this.refreshGauges();
    return { ...r, ...(this.store.action(id) ? { action: this.store.action(id)! } : {}) };
  }

  async reject(id: number, actor: string, comment: string | undefined): Promise<{ status: number; message: string; action?: ActionRow }> {
    const r = await this.store.write(() => {
      const a = this.store.action(id);
      if (!a) return { status: 404, message: `no action ${id}` };
      if (a.state !== 'pending_approval') return { status: 409, message: `action ${id} is not waiting for approval (state ${a.state})` };
      this.store.audit({ kind: 'approval', action_id: id, site: a.site, alertname: a.alertname, fingerprint: a.fingerprint, starts_at: a.starts_at, status: 'done', decision: 'rejected', reason: comment ?? null, actor, details: null });
      this.finishSync(a, 'rejected', `rejected by ${actor}${comment ? `: ${comment}` : ''}`, actor, { approved_by: actor, approved_at: iso() });
      return { status: 200, message: 'rejected' };
    });
    this.refreshGauges();
    return { ...r, ...(this.store.action(id) ? { action: this.store.action(id)! } : {}) };
  }

  async setPolicy(p: Policy, actor: string): Promise<void> {
    await this.store.write(() => {
      const before = this.policy();
      this.store.putSetting('policy', p, actor);
      this.store.audit({ kind: 'policy', action_id: null, site: null, alertname: null, fingerprint: null, starts_at: null, status: null, decision: 'set', reason: null, actor, details: JSON.stringify({ before, after: p }) });
    });
    this.refreshGauges();
  }

  async setKillSwitch(enabled: boolean, reason: string | undefined, actor: string): Promise<KillSwitch> {
    const ks: KillSwitch = { enabled, ...(reason ? { reason } : {}), by: actor, at: iso() };
    await this.store.write(() => {
      this.store.putSetting('kill_switch', ks, actor);
      this.store.audit({ kind: 'kill_switch', action_id: null, site: null, alertname: null, fingerprint: null, starts_at: null, status: null, decision: enabled ? 'on' : 'off', reason: reason ?? null, actor, details: null });
    });
    this.log.warn({ enabled, actor, reason }, 'kill switch changed');
    this.refreshGauges();
    return ks;
  }

  private async expireApprovals(): Promise<void> {
    const now = iso();
    const due = this.store.prepare("SELECT * FROM actions WHERE state = 'pending_approval' AND expires_at < ?").all(now) as ActionRow[];
    if (!due.length) return;
    await this.store.write(() => {
      for (const a of due) {
        const cur = this.store.action(a.id)!;
        if (cur.state === 'pending_approval') this.finishSync(cur, 'expired', `no Admin decision before ${cur.expires_at}`, 'engine');
      }
    });
    this.refreshGauges();
  }
}
