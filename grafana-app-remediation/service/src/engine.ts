// The remediation engine: durable queue -> policy -> persisted action state
// machine -> MCP -> read-after-write verification.
//
// Action states (actions.state), each transition one durable commit with its
// audit row; each step is idempotent, so after a crash (SIGKILL at any point)
// the restarted service resumes every non-final action from its stored state
// and neither loses nor repeats it:
//
//   pending_approval --approve (exporter baseline, every limit re-checked in
//                     the approval's own commit)------------------------> baseline
//   (decision, auto) ----------------------------------------------------> baseline
//   ready (databases of older versions only) --same checks as approve----> baseline
//   baseline --POST job, Idempotency-Key = f(episode)--> submitted   (a re-POST after a
//             crash returns the job the first POST created: never a second job)
//   submitted --poll until succeeded--> job_succeeded   (failed job -> done/failed)
//   job_succeeded --exporter shows cmd_modules and capacity up--> done/succeeded
//                                            (not visible in verify_timeout -> done/unverified)
//   any pre-submission state --resolved alert / reject / expiry / kill switch--> done
//             (baseline included: an action retrying against a down MCP stops
//             before its next attempt, and the submit deadline is checked
//             before the first one)
//   baseline/submitted --outcome unknown (a request may have reached the MCP,
//             deadline, job 404 after an MCP restart)--> unknown
//   unknown --MCP lookup by Idempotency-Key--> submitted | job_succeeded | done,
//             and when the MCP knows no job: the stored baseline against the
//             pages decides (capacity there: succeeded; else if_no_job / failed).
//             The site stays busy while unknown.
//
// The baseline is stored BEFORE the job is submitted, so verification after a
// restart compares against the capacity before the action, not after it.
import type { Logger } from '@optifiber/exporter/log/logger';
import type { Config } from './config.js';
import { ExporterClient, type SiteState } from './exporter-client.js';
import { McpClient, McpDeadlineError, McpPermanentError, McpStoppedError, type McpJob } from './mcp-client.js';
import type { Metrics } from './metrics.js';
import { checkLimits, decide, DEFAULT_POLICY, episodeKey, idempotencyKey, normalizeTime, siteOf, type AlertIn, type Facts, type KillSwitch, type Policy } from './policy.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ACTIVE_STATES, INBOX_KEEP, StaleActionError, type ActionResult, type ActionRow, type Queries, type SiteBaseline, type Store, type Tx } from './store.js';
import { toAlert, type WebhookPayload } from './webhook.js';

/** The exporter reports capacity in bit/s; audit reasons are for people. */
const gbps = (bitsPerSecond: number): string => String(Math.round(bitsPerSecond / 1e8) / 10);

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
  /** Actions with a runner (at most one each), and the runner, which stop() waits for. */
  private readonly running = new Map<number, Promise<void>>();
  /** Actions decided by this process (their webhook -> MCP latency is meaningful). */
  private readonly fresh = new Set<number>();
  /** Payloads the HTTP layer already parsed, by inbox id (spares drain() a second parse). */
  private readonly parsed = new Map<number, WebhookPayload>();
  /** Wakes the backoff sleep of an action retrying its MCP create (kill switch, resolved alert). */
  private readonly wake = new Map<number, AbortController>();
  private started = false;
  private stopped = false;
  private expiryTimer?: NodeJS.Timeout;
  /** Last queue failure (readiness): a worker that keeps failing is not ready. */
  private lastDrainError?: { at: number; message: string };
  readonly health = { mcp: { lastOk: undefined as string | undefined, lastError: undefined as string | undefined }, exporter: { lastOk: undefined as string | undefined, lastError: undefined as string | undefined } };

  constructor(private readonly o: EngineOptions) {
    this.store = o.store;
    this.log = o.logger;
    this.m = o.metrics;
    this.leaseMs = o.config.storage.lease;
  }

  /** Seeds policy and kill switch from the configuration unless the store has them (the first replica wins). */
  async init(): Promise<void> {
    const p = this.o.config.policy;
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
    await this.store.write(async (tx) => {
      await tx.lockLimits();
      if (await tx.seedSetting('policy', seeded, 'config'))
        await tx.audit({ kind: 'policy', action_id: null, site: null, alertname: null, fingerprint: null, starts_at: null, status: null, decision: 'set', reason: 'initial policy from configuration', actor: 'config', details: JSON.stringify(seeded) });
      await tx.seedSetting('kill_switch', { enabled: false }, 'config');
    });
    await this.refreshGauges();
  }

  crash(point: CrashPoint): void {
    if (this.o.crashAt === point) {
      process.stderr.write(`remediation: test hook REMEDIATION_TEST_CRASH_AT=${point}: SIGKILL\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  }

  /** The policy now (in a transaction: as that transaction sees it). */
  async policy(q: Queries = this.store): Promise<Policy> {
    return (await q.getSetting<Policy>('policy'))!.value;
  }

  async killSwitch(q: Queries = this.store): Promise<KillSwitch> {
    return (await q.getSetting<KillSwitch>('kill_switch'))!.value;
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
      if (!this.stopped) void this.refreshGauges().catch((e: unknown) => this.log.debug({ err: e }, 'gauges not refreshed'));
    }, 250);
    this.gaugeTimer.unref();
  }

  async refreshGauges(): Promise<void> {
    this.m.queueDepth.set(await this.store.queueDepth());
    this.m.inFlight.set(await this.store.countInState(ACTIVE_STATES));
    this.m.pending.set(await this.store.countInState(['pending_approval']));
    this.m.unknown.set(await this.store.countInState(['unknown']));
    this.m.killSwitch.set((await this.killSwitch()).enabled ? 1 : 0);
    const p = await this.policy();
    this.m.dryRun.set(p.dry_run ? 1 : 0);
    this.m.approval.set(p.approval_required ? 1 : 0);
  }

  /** Starts processing: the queue left by a previous run, every unfinished action, approval expiry. */
  async start(): Promise<void> {
    this.started = true;
    await this.adopt();
    this.kick();
    this.expiryTimer = setInterval(() => {
      void this.expireApprovals().catch((e: unknown) => this.log.error({ err: e }, 'approval expiry failed'));
      void this.sweep().catch((e: unknown) => this.log.error({ err: e }, 'retention sweep failed'));
    }, 5000);
    this.expiryTimer.unref();
    // Leases: renewed every lease/3 for the actions this process runs; the
    // same tick adopts actions nobody runs (a replica died) and, on a shared
    // store, drains deliveries another replica accepted but never decided.
    this.leaseTimer = setInterval(() => void this.leaseTick(), Math.max(200, Math.floor(this.leaseMs / 3)));
    this.leaseTimer.unref();
  }

  /** This process, as the owner of the actions it runs (unique per start: a restarted process adopts like any replica). */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly leaseMs: number;
  private leaseTimer?: NodeJS.Timeout;

  private async leaseTick(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.running.size > 0) await this.store.write((tx) => tx.renewLeases(this.owner, Date.now(), this.leaseMs), { lazy: true });
      await this.adopt();
    } catch (e) {
      this.log.warn({ err: e }, 'lease renewal failed (database unreachable?); retrying');
    }
    if (this.store.shared) this.kick();
  }

  /** Runs every active action no live process runs (and ours that lost their runner). */
  private async adopt(): Promise<void> {
    for (const a of await this.store.orphanedActions(Date.now(), this.owner)) if (!this.running.has(a.id)) this.runAction(a.id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.gaugeTimer) clearTimeout(this.gaugeTimer);
    for (const c of this.wake.values()) c.abort();
    // A draining stop: a runner that passed its stop check just before `stopped` was
    // set still sends that one request. Wait for the runners (each ends at its next
    // check), so nothing reaches the MCP or the store after stop() returns; bounded,
    // because a request in flight may take up to mcp.request_timeout.
    const runners = [...this.running.values()];
    if (runners.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), Engine.STOP_WAIT_MS)));
    const r = await Promise.race([Promise.allSettled(runners), bound]);
    clearTimeout(timer);
    if (r === 'timeout') this.log.warn({ runners: this.running.size }, `action runners still busy ${Engine.STOP_WAIT_MS} ms after stop; their actions resume at the next start`);
  }

  /**
   * Readiness (GET /-/ready): the database answers, the worker runs, the
   * queue is not failing and nothing has waited in it for long.
   */
  async readiness(): Promise<{ ready: boolean; problems: string[] }> {
    const problems: string[] = [];
    if (!this.started || this.stopped) problems.push('the engine is not running');
    try {
      await this.store.ping();
      const age = await this.store.oldestPendingAgeMs(Date.now());
      if (age > Engine.STUCK_MS) problems.push(`a webhook delivery has waited ${Math.round(age / 1000)} s for its decision`);
    } catch (e) {
      problems.push(`database: ${(e as Error).message}`);
    }
    if (this.lastDrainError && Date.now() - this.lastDrainError.at < 10_000) problems.push(`queue processing failing: ${this.lastDrainError.message}`);
    return { ready: problems.length === 0, problems };
  }

  /** A delivery older than this in the queue means the worker is stuck. */
  static STUCK_MS = 60_000;
  /** How long stop() waits for the action runners (longer than one MCP request at its default timeout). */
  static STOP_WAIT_MS = 10_000;

  private sweepAt = 0;
  /** Retention (store.sweep): at most once a minute, or sooner when the inbox grew by INBOX_KEEP / 4 rows. */
  async sweep(force = false): Promise<void> {
    if (!force && Date.now() - this.sweepAt < 60_000) return;
    this.sweepAt = Date.now();
    const r = await this.store.write((tx) => tx.sweep(Date.now(), { inboxRetentionMs: this.o.config.storage.inbox_retention, auditRetentionMs: this.o.config.storage.audit_retention }));
    if (r.inbox + r.audit + r.episodes > 0) this.log.debug({ deleted: r }, 'retention sweep');
  }
  private acceptedSinceSweep = 0;

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
    const r = await this.store.write(async (tx) => {
      const id = await tx.enqueue(body, remote, receivedAtMs);
      let created: number[] | undefined;
      if (inline && !this.stopped && !(await tx.pendingBefore(id))) {
        try {
          created = await tx.savepoint(() => this.decideDelivery(tx, id, parsed!, receivedAtMs, sites, undefined));
        } catch (e) {
          this.log.warn({ inbox: id, err: e }, 'deciding the delivery on arrival failed; it stays queued');
        }
      }
      return { id, created };
    });
    this.crash('inbox_committed');
    // A sweep every quarter of INBOX_KEEP deliveries: the inbox peaks at 1.25 x its bound.
    if (++this.acceptedSinceSweep >= INBOX_KEEP / 4) {
      this.acceptedSinceSweep = 0;
      void this.sweep(true).catch((e: unknown) => this.log.error({ err: e }, 'retention sweep failed'));
    }
    if (r.created) {
      this.crash('decided');
      for (const a of r.created) {
        this.fresh.add(a);
        this.runAction(a, true);
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
  private async decideDelivery(tx: Tx, inboxId: number, payload: WebhookPayload, receivedAtMs: number, sites: Map<string, SiteState> | undefined, sitesError: string | undefined): Promise<number[]> {
    await tx.lockLimits();
    const out: number[] = [];
    for (const [i, raw] of payload.alerts.entries()) {
      const id = await this.decideOne(tx, toAlert(raw), payload, inboxId, i, receivedAtMs, sites, sitesError);
      if (id !== undefined) out.push(id);
    }
    await tx.inboxDone(inboxId);
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
        this.lastDrainError = { at: Date.now(), message: (e as Error).message };
        this.log.error({ err: e }, 'queue processing failed; retrying in 1 s');
      })
      .finally(() => {
        this.draining = false;
        void this.store.queueDepth().then((n) => this.m.queueDepth.set(n), () => undefined);
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
      const rows = await this.store.pendingInbox(200);
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
      const decided = await this.store.write(async (tx) => {
        // Only the deliveries no other replica is deciding right now.
        const mine = await tx.claimInbox(parsed.map((r) => r.id));
        const out: number[] = [];
        for (const r of parsed) if (mine.has(r.id)) out.push(...(await this.decideDelivery(tx, r.id, r.payload, r.received_at_ms, sites, sitesError)));
        return { claimed: mine.size, created: out };
      });
      const created = decided.created;
      this.crash('decided');
      for (const id of created) {
        this.fresh.add(id);
        this.runAction(id, true);
      }
      this.gaugesSoon();
      // Everything left is held by another replica: its commit (or, if it
      // died, the next lease tick) brings it back.
      if (decided.claimed === 0) return;
    }
  }

  /**
   * The limit facts of a site now. At a decision, pending approvals hold
   * rate-limit slots; at an approval (`approving` = the action's id) only
   * what was really sent counts, and the action itself is left out.
   */
  private async limitFacts(tx: Tx, site: string, now: number, policy: Policy, s: SiteState | undefined, approving = 0): Promise<Omit<Facts, 'episodeResolved' | 'episodeHasAction'>> {
    const last = await tx.lastSubmittedAt(site, approving);
    const since = new Date(now - policy.rate_limit_window_seconds * 1000).toISOString();
    return {
      now,
      siteBusy: await tx.siteBusy(site, approving),
      ...(last ? { lastSiteActionAt: Date.parse(last) } : {}),
      actionsInWindow: approving ? await tx.actionsSentSince(since, approving) : await tx.actionsCountedSince(since),
      ...(s ? { site: s } : {}),
    };
  }

  /** One alert of one delivery; runs inside the batch transaction. Returns an action id to run. */
  private async decideOne(tx: Tx, a: AlertIn, p: WebhookPayload, inboxId: number, index: number, receivedAtMs: number, sites: Map<string, SiteState> | undefined, sitesError: string | undefined): Promise<number | undefined> {
    const now = Date.now();
    const nowIso = new Date(now).toISOString();
    const ek = episodeKey(a);
    const site = siteOf(a) ?? null;
    const alertname = a.labels.alertname ?? '';
    const ep = await tx.recordDelivery({ episode_key: ek, fingerprint: a.fingerprint, starts_at: normalizeTime(a.startsAt), site, alertname, now: nowIso, resolved: a.status === 'resolved' });
    const existing = await tx.actionByEpisode(ek);
    const policy = await this.policy(tx);
    const ks = await this.killSwitch(tx);
    const s = site ? sites?.get(site) : undefined;
    const d = decide(a, policy, ks, {
      episodeResolved: ep.resolvedBefore,
      episodeHasAction: !!existing,
      ...(site ? await this.limitFacts(tx, site, now, policy, s) : { now, siteBusy: false, actionsInWindow: 0 }),
    });
    const base = { site, alertname, fingerprint: a.fingerprint, starts_at: normalizeTime(a.startsAt), status: a.status, actor: 'policy' };
    const details = { groupKey: p.groupKey, receiver: p.receiver, inbox: inboxId, alert: index, truncatedAlerts: p.truncatedAlerts ?? 0, ...(d.decision === 'skip' && d.reason === 'site_unknown' && sitesError ? { exporterError: sitesError } : {}) };
    this.m.decisions.inc({ decision: d.decision, reason: d.reason });
    if (d.decision === 'skip') {
      let actionId: number | null = existing?.id ?? null;
      // A resolved alert cancels whatever of its episode has not reached the MCP.
      if (d.reason === 'resolved' && existing && (existing.state === 'pending_approval' || existing.state === 'ready')) {
        await this.finish(tx, existing, 'cancelled', 'the alert resolved before the action was submitted', 'policy');
        actionId = existing.id;
      } else if (d.reason === 'resolved' && existing?.state === 'baseline') {
        // Its runner may be sleeping between create attempts: wake it; it stops before the next one.
        const w = this.wake.get(existing.id);
        if (w) queueMicrotask(() => w.abort());
      }
      // Retention: a re-sent delivery of an episode already decided (or
      // already resolved) is audited once per reason; later ones are only
      // counted on the episode row (deliveries, last_seen), so a flood of
      // duplicates does not grow the audit log.
      if ((d.reason === 'duplicate' || d.reason === 'already_resolved') && (await tx.episodeAudited(ek, a.fingerprint, normalizeTime(a.startsAt), d.reason))) return undefined;
      await tx.audit({ ...base, kind: 'decision', action_id: actionId, decision: 'skip', reason: d.reason, details: JSON.stringify({ ...details, detail: d.detail, final: d.final }) });
      if (d.reason !== 'duplicate' && d.reason !== 'resolved') this.log.info({ site, fingerprint: a.fingerprint, reason: d.reason, detail: d.detail }, 'alert skipped');
      return undefined;
    }
    const baseline = baselineOf(s!, nowIso);
    const mode = d.decision === 'dry_run' ? 'dry_run' : d.decision === 'await_approval' ? 'approval' : 'auto';
    const state = d.decision === 'act' ? 'baseline' : d.decision === 'dry_run' ? 'done' : 'pending_approval';
    const id = await tx.insertAction({
      episode_key: ek,
      idempotency_key: idempotencyKey(ek),
      site: site!,
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
      created_at: nowIso,
      // Only an action sent to the MCP has a submitted_at: it is what the
      // cooldown and the rate limit count, and a dry run is never sent.
      submitted_at: d.decision === 'act' ? nowIso : null,
      finished_at: d.decision === 'dry_run' ? nowIso : null,
      expires_at: d.decision === 'await_approval' ? new Date(now + policy.approval_timeout_seconds * 1000).toISOString() : null,
      // Its runner starts in this process right after the commit.
      ...(d.decision === 'act' ? { owner: this.owner, lease_until: now + this.leaseMs } : {}),
    });
    await tx.audit({ ...base, kind: 'decision', action_id: id, decision: d.decision, reason: d.reason, details: JSON.stringify({ ...details, detail: d.detail, baseline, idempotencyKey: idempotencyKey(ek) }) });
    this.log.info({ site, action: id, decision: d.decision, detail: d.detail }, 'alert decided');
    if (d.decision === 'dry_run') {
      this.m.actions.inc({ result: 'dry_run' });
      const row = (await tx.action(id))!;
      queueMicrotask(() => this.o.onFinished?.(row));
      return undefined;
    }
    return d.decision === 'act' ? id : undefined;
  }

  /** Sets a final result, if the action is still in the state `a` was read in; inside a store.write() transaction. */
  private async finish(tx: Tx, a: ActionRow, result: ActionResult, reason: string, actor: string, extra: Partial<ActionRow> = {}): Promise<void> {
    await tx.updateAction(a.id, { state: 'done', result, reason, finished_at: iso(), owner: null, lease_until: null, ...extra }, a.state);
    await tx.audit({ kind: 'step', action_id: a.id, site: a.site, alertname: a.alertname, fingerprint: a.fingerprint, starts_at: a.starts_at, status: 'done', decision: result, reason, actor, details: JSON.stringify(extra) });
    this.m.actions.inc({ result });
    const row = (await tx.action(a.id))!;
    queueMicrotask(() => this.o.onFinished?.(row));
  }

  /** One state change and its audit row, a compare-and-set on the state `a` was read in (StaleActionError otherwise). */
  private async step(tx: Tx, a: ActionRow, fields: Partial<ActionRow>, reason: string, details: unknown): Promise<void> {
    await tx.updateAction(a.id, fields, a.state);
    await tx.audit({ kind: 'step', action_id: a.id, site: a.site, alertname: a.alertname, fingerprint: a.fingerprint, starts_at: a.starts_at, status: fields.state ?? a.state, decision: null, reason, actor: 'engine', details: JSON.stringify(details) });
  }

  /**
   * Runs an action from its stored state to the end (at most one runner per
   * action in this process; across processes, the lease). `owned`: the
   * transaction that created or admitted it already gave this process the
   * lease (no extra commit before the MCP request).
   */
  runAction(id: number, owned = false): void {
    if (this.running.has(id) || this.stopped) return;
    const runner = (async () => {
      if (!owned && !(await this.claim(id))) return;
      for (let errors = 0; !this.stopped; ) {
        try {
          if (!(await this.advance(id))) break;
          errors = 0;
        } catch (e) {
          if (e instanceof StaleActionError) {
            // Another replica adopted it and moved on (our lease ran out): its runner continues.
            this.log.warn({ action: id, err: e }, 'action taken over by another replica; this runner stops');
            break;
          }
          errors++;
          this.log.error({ action: id, err: e }, 'action step failed; retrying');
          await sleep(Math.min(5000, 200 * 2 ** Math.min(errors, 5)));
        }
      }
    })()
      .catch((e: unknown) => this.log.error({ action: id, err: e }, 'action runner failed'))
      .finally(() => {
        this.running.delete(id);
        this.gaugesSoon();
      });
    // set before the runner's first await yields: nothing else can start one for id meanwhile
    this.running.set(id, runner);
  }

  /**
   * Takes the action's lease; false when another live process holds it (or
   * the database is unreachable: the lease tick retries). Taking over from
   * another process (its lease ran out: it died or stalled) is audited.
   */
  private async claim(id: number): Promise<boolean> {
    try {
      return await this.store.write(async (tx) => {
        const prev = await tx.action(id);
        if (!prev || !(await tx.claimAction(id, this.owner, Date.now(), this.leaseMs))) return false;
        if (prev.owner && prev.owner !== this.owner) {
          await tx.audit({ kind: 'step', action_id: id, site: prev.site, alertname: prev.alertname, fingerprint: prev.fingerprint, starts_at: prev.starts_at, status: prev.state, decision: 'adopted',
            reason: `the lease of ${prev.owner} ran out; ${this.owner} resumes the action from its stored state (${prev.state})`, actor: 'engine', details: JSON.stringify({ from: prev.owner, to: this.owner }) });
          this.log.warn({ action: id, from: prev.owner, state: prev.state }, 'action adopted from a replica whose lease ran out');
        }
        return true;
      });
    } catch (e) {
      this.log.warn({ action: id, err: e }, 'cannot take the action lease; retrying at the next lease tick');
      return false;
    }
  }

  /**
   * The state machine: performs the one step of the action's stored state
   * (each step ends in a durable commit, so a restart resumes here). Returns
   * false when this runner has nothing more to do.
   */
  private async advance(id: number): Promise<boolean> {
    const a = await this.store.action(id);
    if (!a) return false;
    // Adopted by another replica while this one stalled past its lease.
    if (a.owner !== null && a.owner !== this.owner) return false;
    switch (a.state) {
      // Final: the result and its audit row are committed.
      case 'done':
        return false;
      // Waits for a person (approve/reject over HTTP) or its expiry timer, not for a runner.
      case 'pending_approval':
        return false;
      // Approved by an older version: waits for the limits to be re-checked, as approve() does now.
      case 'ready':
        return this.advanceReady(a);
      // Baseline stored: waits for the MCP to create the job (the Idempotency-Key makes a re-POST safe).
      case 'baseline':
        return this.advanceBaseline(a);
      // Job created: waits for the MCP to finish it (job_timeout).
      case 'submitted':
        return this.advanceSubmitted(a);
      // Job succeeded: waits for the pages to show the capacity (verify_timeout); the MCP's word is not enough.
      case 'job_succeeded':
        return this.advanceJobSucceeded(a);
      // A request may have reached the MCP: waits for the MCP to say which job this key made, else the pages decide.
      case 'unknown':
        return this.advanceUnknown(a);
    }
  }

  private async readSites(): Promise<Map<string, SiteState>> {
    try {
      const sites = await this.o.exporter.sites();
      this.health.exporter.lastOk = iso();
      return sites;
    } catch (e) {
      this.health.exporter.lastError = `${iso()} ${(e as Error).message}`;
      throw e;
    }
  }

  /**
   * Admits an approved action to the MCP path: inside a store.write()
   * transaction, so the limits read and the rate-limit slot taken
   * (submitted_at) are one atomic step; concurrent approvals see each other.
   * Returns the refusal, or undefined when the action moved to baseline.
   */
  private async admit(tx: Tx, cur: ActionRow, s: SiteState | undefined, actor: string): Promise<{ result?: ActionResult; message: string } | undefined> {
    await tx.lockLimits();
    if (await tx.episodeResolved(cur.episode_key)) {
      await this.finish(tx, cur, 'cancelled', 'the alert resolved before the action was submitted', actor);
      return { message: `action ${cur.id}: the alert resolved; cancelled`, result: 'cancelled' };
    }
    const now = Date.now();
    const policy = await this.policy(tx);
    const skip = checkLimits(cur.site, cur.count, policy, await this.killSwitch(tx), await this.limitFacts(tx, cur.site, now, policy, s, cur.id));
    if (skip) return { message: `not admitted now (${skip.reason}): ${skip.detail}` };
    const baseline = baselineOf(s!, new Date(now).toISOString());
    await this.step(tx, cur, { state: 'baseline', baseline: JSON.stringify(baseline), submitted_at: new Date(now).toISOString(), owner: this.owner, lease_until: now + this.leaseMs }, 'limits re-checked, baseline read; submitting to MCP', { baseline, actor });
    return undefined;
  }

  /** Approved by an older version (state ready): the same checks as approve(); a refusal ends it. */
  private async advanceReady(a: ActionRow): Promise<boolean> {
    const s = (await this.readSites()).get(a.site);
    await this.store.write(async (tx) => {
      const cur = (await tx.action(a.id))!;
      if (cur.state !== 'ready') return;
      const refused = await this.admit(tx, cur, s, 'engine');
      if (refused && !refused.result) await this.finish(tx, cur, 'skipped', refused.message, 'engine');
    });
    this.crash('baseline_committed');
    return true;
  }

  /**
   * Why an action that has not reached the MCP must not be sent now;
   * undefined = go on. The kill switch stops it whatever happened before.
   * A resolved alert stops it unless an earlier attempt may already have
   * created the job (`ambiguous`): then the same-key retry, which cannot
   * create a second job, settles the outcome (the alert often resolves
   * precisely because that job added the capacity).
   */
  private async stopReason(a: ActionRow, ambiguous = false): Promise<{ result: ActionResult; reason: string } | undefined> {
    const ks = await this.killSwitch();
    if (ks.enabled) return { result: 'aborted', reason: `kill switch is on${ks.by ? ` (by ${ks.by})` : ''}` };
    if (!ambiguous && (await this.store.episodeResolved(a.episode_key))) return { result: 'cancelled', reason: 'the alert resolved before the action reached the MCP' };
    return undefined;
  }

  /** Sends the create request (retrying within submit_deadline) and records the job, or why there is none. */
  private async advanceBaseline(a: ActionRow): Promise<boolean> {
    const deadline = Date.parse(a.submitted_at ?? a.created_at) + this.o.config.mcp.submit_deadline;
    const id = a.id;
    let first = true;
    const wake = new AbortController();
    this.wake.set(id, wake);
    try {
      const r = await this.o.mcp.createJob(
        a.idempotency_key,
        { site: a.site, operation: 'cmd_add', count: a.count, reference: a.episode_key },
        deadline,
        () => {
          if (first && this.fresh.has(id) && a.mode === 'auto') this.m.webhookToMcp.observe((Date.now() - a.received_at_ms) / 1000);
          first = false;
        },
        { stop: async (ambiguous) => (await this.stopReason(a, ambiguous))?.reason ?? (this.stopped ? 'the service is stopping' : undefined), signal: wake.signal },
      );
      this.health.mcp.lastOk = iso();
      this.crash('mcp_created');
      await this.store.write((tx) =>
        this.step(tx, a, { state: 'submitted', job_id: r.job.id, job_state: r.job.state, mcp_attempts: a.mcp_attempts + r.attempts }, 'MCP job created', { job: r.job.id, attempts: r.attempts, idempotencyKey: a.idempotency_key }),
      LAZY);
      this.crash('submitted');
      return true;
    } catch (e) {
      return await this.createFailed(a, e);
    } finally {
      this.wake.delete(id);
    }
  }

  /**
   * The create request ended without a job: stopped (kill switch, resolved
   * alert, shutdown), refused for good, or out of time. Where an attempt may
   * have reached the MCP the outcome is unknown, never failed.
   */
  private async createFailed(a: ActionRow, e: unknown): Promise<boolean> {
    if (e instanceof McpStoppedError) {
      if (this.stopped) return false; // a restart resumes it
      const why = (await this.stopReason(a, e.ambiguous)) ?? { result: 'aborted' as const, reason: 'stopped' };
      const attempts = { mcp_attempts: a.mcp_attempts + e.attempts };
      await this.store.write(async (tx) => {
        if (e.ambiguous) await this.toUnknown(tx, a, `${why.reason}, but an earlier attempt may have reached the MCP`, why.result, attempts);
        else await this.finish(tx, a, why.result, `${why.reason}; never sent to the MCP`, 'engine', attempts);
      }, LAZY);
      return true;
    }
    if (!(e instanceof McpPermanentError || e instanceof McpDeadlineError)) throw e;
    this.health.mcp.lastError = `${iso()} ${e.message}`;
    const detail = e.message + (e instanceof McpDeadlineError && e.lastError ? ` (last error: ${e.lastError})` : '');
    const attempts = { mcp_attempts: a.mcp_attempts + (e instanceof McpDeadlineError ? e.attempts : 1) };
    await this.store.write(async (tx) => {
      if (e instanceof McpDeadlineError && e.ambiguous) await this.toUnknown(tx, a, detail, 'failed', attempts);
      else await this.finish(tx, a, 'failed', detail, 'engine', attempts);
    }, LAZY);
    return true;
  }

  /** Polls the job until it finishes; a job the MCP no longer knows (or one that outlives job_timeout) makes the outcome unknown. */
  private async advanceSubmitted(a: ActionRow): Promise<boolean> {
    const deadline = Date.parse(a.updated_at) + this.o.config.mcp.job_timeout;
    try {
      const job = await this.o.mcp.waitJob(a.job_id!, deadline);
      this.health.mcp.lastOk = iso();
      this.crash('job_finished');
      await this.store.write((tx) => this.jobFinished(tx, a, job), LAZY);
      this.crash('job_succeeded');
    } catch (e) {
      if (!(e instanceof McpPermanentError || e instanceof McpDeadlineError)) throw e;
      this.health.mcp.lastError = `${iso()} ${e.message}`;
      // The job exists (or existed): a 404 after an MCP restart or a job that
      // outlives job_timeout says nothing about the capacity. Reconcile.
      await this.store.write((tx) => this.toUnknown(tx, a, e.message, 'failed'), LAZY);
    }
    return true;
  }

  private async jobFinished(tx: Tx, a: ActionRow, job: McpJob): Promise<void> {
    if (job.state === 'failed') await this.finish(tx, a, 'failed', `MCP job ${job.id} failed: ${job.error ?? 'no reason given'}`, 'engine', { job_id: job.id, job_state: 'failed' });
    else await this.step(tx, a, { state: 'job_succeeded', job_id: job.id, job_state: 'succeeded' }, 'MCP job succeeded; verifying capacity in the pages', { job: job.id });
  }

  /**
   * Polls the exporter until the site shows the action's capacity over its
   * stored baseline, or `timeoutMs` passes. The baseline was stored before the
   * job was submitted, so this holds after any restart.
   */
  private async capacityVisible(a: ActionRow, timeoutMs: number): Promise<{ ok: boolean; last?: SiteState }> {
    const base = JSON.parse(a.baseline!) as SiteBaseline;
    const until = Date.now() + timeoutMs;
    let last: SiteState | undefined;
    while (Date.now() < until && !this.stopped) {
      try {
        last = (await this.o.exporter.sites(200)).get(a.site);
        this.health.exporter.lastOk = iso();
      } catch (e) {
        this.health.exporter.lastError = `${iso()} ${(e as Error).message}`;
      }
      if (last && last.cmdModules >= base.cmdModules + a.count && last.capacityBps > base.capacityBps) return { ok: true, last };
      await sleep(250);
    }
    return { ok: false, ...(last ? { last } : {}) };
  }

  private verifiedReason(a: ActionRow, last: SiteState): string {
    const base = JSON.parse(a.baseline!) as SiteBaseline;
    return `capacity verified: ${base.cmdModules} -> ${last.cmdModules} CMD modules, ${gbps(base.capacityBps)} -> ${gbps(last.capacityBps)} Gbit/s`;
  }

  /** Succeeded when the pages show the capacity over the stored baseline; unverified when they do not in time. */
  private async advanceJobSucceeded(a: ActionRow): Promise<boolean> {
    const cfg = this.o.config;
    const v = await this.capacityVisible(a, cfg.exporter.verify_timeout);
    if (this.stopped) return false;
    if (v.ok) {
      this.crash('verified');
      await this.store.write((tx) => this.finish(tx, a, 'succeeded', this.verifiedReason(a, v.last!), 'engine', { after: JSON.stringify(baselineOf(v.last!, iso())) }), LAZY);
      this.crash('done');
      return true;
    }
    const last = v.last;
    await this.store.write((tx) =>
      this.finish(tx, a, 'unverified', `the MCP job succeeded but the pages did not show the new capacity within ${cfg.exporter.verify_timeout} ms (last seen ${last ? `${last.cmdModules} modules, ${gbps(last.capacityBps)} Gbit/s` : 'nothing'})`, 'engine'),
    LAZY);
    return true;
  }

  /** Records an unknown outcome; inside a store.write() transaction. The site stays busy. */
  private async toUnknown(tx: Tx, a: ActionRow, why: string, ifNoJob: ActionResult, extra: Partial<ActionRow> = {}): Promise<void> {
    await this.step(tx, a, { state: 'unknown', unknown_since: iso(), if_no_job: ifNoJob, reason: why, ...extra }, `outcome unknown: ${why}; reconciling with the MCP by Idempotency-Key`, { idempotencyKey: a.idempotency_key, job: a.job_id });
    this.log.warn({ action: a.id, site: a.site, why }, 'action outcome unknown; reconciling');
  }

  /**
   * Reconciles an unknown outcome: asks the MCP for the job of this key
   * (retrying until it answers; the site stays busy meanwhile). A job found
   * resumes the normal path. No job: the MCP never created it, or lost it in
   * a restart after applying it, so the pages decide against the stored
   * baseline before any verdict.
   */
  private async advanceUnknown(a: ActionRow): Promise<boolean> {
    let job: McpJob | undefined;
    try {
      job = await this.o.mcp.findJobByKey(a.idempotency_key);
      this.health.mcp.lastOk = iso();
    } catch (e) {
      this.health.mcp.lastError = `${iso()} ${(e as Error).message}`;
      await sleep(this.o.config.mcp.backoff_max);
      return !this.stopped;
    }
    if (job?.state === 'succeeded' || job?.state === 'failed') {
      const j = job;
      await this.store.write((tx) => this.jobFinished(tx, a, j), LAZY);
      return true;
    }
    if (job) {
      const j = job;
      await this.store.write((tx) => this.step(tx, a, { state: 'submitted', job_id: j.id, job_state: j.state }, `reconciled: the MCP has job ${j.id} (${j.state}) for this key`, { job: j.id }), LAZY);
      return true;
    }
    const v = await this.capacityVisible(a, this.o.config.exporter.verify_timeout);
    if (this.stopped) return false;
    const lost = a.job_id ? `the MCP no longer knows job ${a.job_id} (restarted?)` : 'the MCP knows no job under this Idempotency-Key';
    await this.store.write(async (tx) => {
      if (v.ok) await this.finish(tx, a, 'succeeded', `${lost}; ${this.verifiedReason(a, v.last!)} against the stored baseline`, 'engine', { after: JSON.stringify(baselineOf(v.last!, iso())) });
      else await this.finish(tx, a, a.job_id ? 'failed' : (a.if_no_job ?? 'failed'), `${lost} and the pages show no new capacity over the stored baseline (was: ${a.reason ?? 'unknown'})`, 'engine');
    }, LAZY);
    return true;
  }

  async approve(id: number, actor: string, comment: string | undefined): Promise<{ status: number; message: string; action?: ActionRow }> {
    const pre = await this.store.action(id);
    if (!pre) return { status: 404, message: `no action ${id}` };
    if (pre.state !== 'pending_approval') return { status: 409, message: `action ${id} is not waiting for approval (state ${pre.state}${pre.result ? `, result ${pre.result}` : ''})` };
    // The site's current modules, for the max_modules limit and the baseline.
    let sites: Map<string, SiteState>;
    try {
      sites = await this.readSites();
    } catch (e) {
      return { status: 503, message: `cannot read the site from the exporter (${(e as Error).message}); nothing approved, try again` };
    }
    const r = await this.store.write(async (tx): Promise<{ status: number; message: string }> => {
      const a = (await tx.action(id))!;
      if (a.state !== 'pending_approval') return { status: 409, message: `action ${id} is not waiting for approval (state ${a.state}${a.result ? `, result ${a.result}` : ''})` };
      if (a.expires_at && Date.parse(a.expires_at) < Date.now()) {
        await this.finish(tx, a, 'expired', 'approval came after expires_at', actor);
        return { status: 409, message: `action ${id} expired at ${a.expires_at}` };
      }
      await tx.updateAction(id, { approved_by: actor, approved_at: iso() });
      const refused = await this.admit(tx, (await tx.action(id))!, sites.get(a.site), actor);
      if (refused) {
        // Not admitted: the approval is not recorded and the action keeps waiting (unless it ended).
        if (!refused.result) await tx.updateAction(id, { approved_by: null, approved_at: null });
        await tx.audit({ kind: 'approval', action_id: id, site: a.site, alertname: a.alertname, fingerprint: a.fingerprint, starts_at: a.starts_at, status: refused.result ? 'done' : 'pending_approval', decision: 'approval_refused', reason: refused.message, actor, details: null });
        return { status: 409, message: `approval refused: ${refused.message}` };
      }
      await tx.audit({ kind: 'approval', action_id: id, site: a.site, alertname: a.alertname, fingerprint: a.fingerprint, starts_at: a.starts_at, status: 'baseline', decision: 'approved', reason: comment ?? null, actor, details: null });
      return { status: 200, message: 'approved' };
    });
    if (r.status === 200) {
      this.crash('baseline_committed');
      this.runAction(id, true);
    }
    await this.refreshGauges();
    const after = await this.store.action(id);
    return { ...r, ...(after ? { action: after } : {}) };
  }

  async reject(id: number, actor: string, comment: string | undefined): Promise<{ status: number; message: string; action?: ActionRow }> {
    const r = await this.store.write(async (tx) => {
      const a = await tx.action(id);
      if (!a) return { status: 404, message: `no action ${id}` };
      if (a.state !== 'pending_approval') return { status: 409, message: `action ${id} is not waiting for approval (state ${a.state})` };
      await tx.audit({ kind: 'approval', action_id: id, site: a.site, alertname: a.alertname, fingerprint: a.fingerprint, starts_at: a.starts_at, status: 'done', decision: 'rejected', reason: comment ?? null, actor, details: null });
      await this.finish(tx, a, 'rejected', `rejected by ${actor}${comment ? `: ${comment}` : ''}`, actor, { approved_by: actor, approved_at: iso() });
      return { status: 200, message: 'rejected' };
    });
    await this.refreshGauges();
    const after = await this.store.action(id);
    return { ...r, ...(after ? { action: after } : {}) };
  }

  async setPolicy(p: Policy, actor: string): Promise<void> {
    await this.store.write(async (tx) => {
      await tx.lockLimits();
      const before = await this.policy(tx);
      await tx.putSetting('policy', p, actor);
      await tx.audit({ kind: 'policy', action_id: null, site: null, alertname: null, fingerprint: null, starts_at: null, status: null, decision: 'set', reason: null, actor, details: JSON.stringify({ before, after: p }) });
    });
    await this.refreshGauges();
  }

  async setKillSwitch(enabled: boolean, reason: string | undefined, actor: string): Promise<KillSwitch> {
    const ks: KillSwitch = { enabled, ...(reason ? { reason } : {}), by: actor, at: iso() };
    await this.store.write(async (tx) => {
      await tx.lockLimits();
      await tx.putSetting('kill_switch', ks, actor);
      await tx.audit({ kind: 'kill_switch', action_id: null, site: null, alertname: null, fingerprint: null, starts_at: null, status: null, decision: enabled ? 'on' : 'off', reason: reason ?? null, actor, details: null });
    });
    // Actions retrying their MCP create stop before the next attempt, now rather than after the backoff.
    if (enabled) for (const w of this.wake.values()) w.abort();
    this.log.warn({ enabled, actor, reason }, 'kill switch changed');
    await this.refreshGauges();
    return ks;
  }

  private async expireApprovals(): Promise<void> {
    const now = iso();
    const due = await this.store.approvalsExpiredBy(now);
    if (!due.length) return;
    await this.store.write(async (tx) => {
      for (const a of due) {
        const cur = (await tx.action(a.id))!;
        if (cur.state === 'pending_approval') await this.finish(tx, cur, 'expired', `no Admin decision before ${cur.expires_at}`, 'engine');
      }
    });
    await this.refreshGauges();
  }
}

function baselineOf(s: SiteState, readAt: string): SiteBaseline {
  return { cmdModules: s.cmdModules, cmdModulesMax: s.cmdModulesMax, capacityBps: s.capacityBps, ...(s.moduleCapacityBps !== undefined ? { moduleCapacityBps: s.moduleCapacityBps } : {}), readAt };
}
