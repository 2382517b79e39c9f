// Durable state: one SQLite database (better-sqlite3) in WAL mode with
// synchronous=FULL, so a transaction that returned is on disk (the WAL is
// fsync'd at every commit) and survives SIGKILL and power loss. SQLite rather
// than an append-only log because the service needs indexed queries (dedupe
// by episode, cooldown by site, rate limit by time, history filters) and
// atomic multi-row transitions (decision + audit + queue acknowledgement in
// one commit); a log would need an index rebuilt at every start.
//
// Writes go through a group committer: every write requested during one turn
// of the event loop shares one transaction and one fsync (about 6 ms here),
// so 100 webhooks/s cost a few fsyncs per second instead of hundreds. A
// caller's promise resolves only after its batch committed.
//
// Tables
//   inbox     the durable webhook queue (pending -> done)
//   episodes  one row per alert episode (fingerprint + startsAt): deliveries, resolved
//   actions   the persisted state machine, one row per acted episode (UNIQUE episode)
//   audit     append-only: every decision, step, approval, policy/kill-switch change
//   settings  policy and kill switch (JSON)
//
// Retention (sweep(), docs/remediation-api.md): a processed webhook body is
// only needed until its decision is committed; processed deliveries are kept
// at most storage.inbox_retention and at most INBOX_KEEP rows, so a flood of
// re-sent deliveries cannot grow the database. Duplicate deliveries of an
// episode are counted on the episode row (deliveries, last_seen), not
// audited one row each. Audit rows and finished episodes are kept for
// storage.audit_retention.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrateEpisodeKeys } from './episode-keys.js';

export type ActionState = 'pending_approval' | 'ready' | 'baseline' | 'submitted' | 'job_succeeded' | 'unknown' | 'done';
/** States between the decision and the final result: the site is busy, the action counts as in flight. */
export const ACTIVE_STATES: readonly ActionState[] = ['ready', 'baseline', 'submitted', 'job_succeeded', 'unknown'];
const ACTIVE_SQL = ACTIVE_STATES.map((x) => `'${x}'`).join(',');
export type ActionResult = 'succeeded' | 'failed' | 'unverified' | 'dry_run' | 'rejected' | 'cancelled' | 'expired' | 'skipped' | 'aborted';
export type ActionMode = 'auto' | 'approval' | 'dry_run';

export interface SiteBaseline {
  cmdModules: number;
  cmdModulesMax: number;
  capacityBps: number;
  moduleCapacityBps?: number;
  readAt: string;
}

export interface ActionRow {
  id: number;
  episode_key: string;
  idempotency_key: string;
  site: string;
  alertname: string;
  fingerprint: string;
  starts_at: string;
  generator_url: string | null;
  labels: string; // JSON
  annotations: string; // JSON
  mode: ActionMode;
  count: number;
  state: ActionState;
  result: ActionResult | null;
  reason: string | null;
  baseline: string | null; // JSON SiteBaseline
  after: string | null; // JSON SiteBaseline
  job_id: string | null;
  job_state: string | null;
  mcp_attempts: number;
  received_at_ms: number;
  created_at: string;
  updated_at: string;
  submitted_at: string | null;
  finished_at: string | null;
  approved_by: string | null;
  approved_at: string | null;
  expires_at: string | null;
  /** State unknown: since when, and the result to record if the MCP confirms it created no job. */
  unknown_since: string | null;
  if_no_job: ActionResult | null;
}

export interface AuditRow {
  id: number;
  ts: string;
  kind: 'decision' | 'step' | 'approval' | 'policy' | 'kill_switch' | 'webhook' | 'threshold';
  action_id: number | null;
  site: string | null;
  alertname: string | null;
  fingerprint: string | null;
  starts_at: string | null;
  status: string | null;
  decision: string | null;
  reason: string | null;
  actor: string | null;
  details: string | null;
}

export type AuditInput = Omit<AuditRow, 'id' | 'ts'> & { ts?: string };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  received_at TEXT NOT NULL,
  received_at_ms REAL NOT NULL,
  remote TEXT,
  body TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','done')),
  processed_at TEXT
);
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox(state, id);
CREATE TABLE IF NOT EXISTS episodes (
  episode_key TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  starts_at TEXT NOT NULL,
  site TEXT,
  alertname TEXT,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  deliveries INTEGER NOT NULL DEFAULT 0,
  resolved_at TEXT
);
CREATE TABLE IF NOT EXISTS actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  episode_key TEXT NOT NULL UNIQUE,
  idempotency_key TEXT NOT NULL UNIQUE,
  site TEXT NOT NULL,
  alertname TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  starts_at TEXT NOT NULL,
  generator_url TEXT,
  labels TEXT NOT NULL,
  annotations TEXT NOT NULL,
  mode TEXT NOT NULL,
  count INTEGER NOT NULL,
  state TEXT NOT NULL,
  result TEXT,
  reason TEXT,
  baseline TEXT,
  after TEXT,
  job_id TEXT,
  job_state TEXT,
  mcp_attempts INTEGER NOT NULL DEFAULT 0,
  received_at_ms REAL NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  submitted_at TEXT,
  finished_at TEXT,
  approved_by TEXT,
  approved_at TEXT,
  expires_at TEXT,
  unknown_since TEXT,
  if_no_job TEXT
);
CREATE INDEX IF NOT EXISTS actions_site ON actions(site, id);
CREATE INDEX IF NOT EXISTS actions_state ON actions(state);
CREATE INDEX IF NOT EXISTS actions_submitted ON actions(submitted_at);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts TEXT NOT NULL,
  kind TEXT NOT NULL,
  action_id INTEGER,
  site TEXT,
  alertname TEXT,
  fingerprint TEXT,
  starts_at TEXT,
  status TEXT,
  decision TEXT,
  reason TEXT,
  actor TEXT,
  details TEXT
);
CREATE INDEX IF NOT EXISTS audit_action ON audit(action_id);
CREATE INDEX IF NOT EXISTS audit_site ON audit(site, id);
CREATE INDEX IF NOT EXISTS audit_episode ON audit(fingerprint, starts_at, reason);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT);
`;

interface Pending {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class Store {
  readonly db: Database.Database;
  private queue: Pending[] = [];
  private scheduled = false;
  private lastFlushEnd = 0;
  private lastFlushMs = 0;
  /** Called after each committed batch (metrics). */
  onCommit?: (batchSize: number, ms: number) => void;
  /** Prepared statements by SQL text: compiling SQL cost more CPU than running it. */
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly runBatch: (batch: Pending[], results: { ok: boolean; v: unknown }[]) => void;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Databases created before the unknown state: add its columns.
    const cols = new Set((this.db.prepare('PRAGMA table_info(actions)').all() as { name: string }[]).map((c) => c.name));
    for (const c of ['unknown_since', 'if_no_job']) if (!cols.has(c)) this.db.exec(`ALTER TABLE actions ADD COLUMN ${c} TEXT`);
    migrateEpisodeKeys(this.db);
    // The WAL is truncated back to this size after a checkpoint (it would otherwise keep its largest size).
    this.db.pragma('journal_size_limit = 4194304');
    const one = this.db.transaction((p: Pending) => p.fn());
    this.runBatch = this.db.transaction((batch: Pending[], results: { ok: boolean; v: unknown }[]) => {
      for (const p of batch) {
        try {
          results.push({ ok: true, v: one(p) }); // nested: a savepoint
        } catch (e) {
          results.push({ ok: false, v: e });
        }
      }
    });
  }

  /** db.prepare with a cache (bounded: SQL built from user input never grows it without limit). */
  prepare(sql: string): Database.Statement {
    let st = this.stmts.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      if (this.stmts.size < 256) this.stmts.set(sql, st);
    }
    return st;
  }

  /**
   * Runs `fn` inside the next group-commit transaction; resolves with its
   * result after the transaction committed (durably). If `fn` throws, only
   * its own savepoint is rolled back and its promise rejects.
   */
  write<T>(fn: () => T, opts: { lazy?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (opts.lazy) {
        // Not on anyone's critical path (steps after the MCP request): ride
        // along with the next commit, or commit alone after LAZY_MS. Still
        // durable before the promise resolves; only the number of commits
        // (each one blocks the event loop for its fsync) goes down.
        this.lazyTimer ??= setTimeout(() => {
          this.lazyTimer = undefined;
          this.schedule();
        }, Store.LAZY_MS);
        return;
      }
      this.schedule();
    });
  }

  /** Longest delay of a lazy write. */
  static LAZY_MS = 10;
  private lazyTimer?: NodeJS.Timeout;

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Adaptive group commit: leave at least as much time between two
    // commits as the last one took, so under load the fsync duty cycle
    // stays <= 50 % and more writes share each fsync.
    const gap = this.lastFlushMs - (performance.now() - this.lastFlushEnd);
    if (gap > 0.5) setTimeout(() => this.flush(), gap);
    else setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.lazyTimer) {
      clearTimeout(this.lazyTimer);
      this.lazyTimer = undefined;
    }
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const started = performance.now();
    const results: { ok: boolean; v: unknown }[] = [];
    try {
      this.runBatch(batch, results);
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    this.lastFlushEnd = performance.now();
    this.lastFlushMs = this.lastFlushEnd - started;
    this.onCommit?.(batch.length, this.lastFlushMs);
    batch.forEach((p, i) => (results[i]!.ok ? p.resolve(results[i]!.v) : p.reject(results[i]!.v)));
  }

  close(): void {
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.db.close();
  }

  // ---- audit ------------------------------------------------------------
  audit(a: AuditInput): number {
    const r = this
      .prepare(
        `INSERT INTO audit (ts, kind, action_id, site, alertname, fingerprint, starts_at, status, decision, reason, actor, details)
         VALUES (@ts, @kind, @action_id, @site, @alertname, @fingerprint, @starts_at, @status, @decision, @reason, @actor, @details)`,
      )
      .run({ ...a, ts: a.ts ?? new Date().toISOString() });
    return Number(r.lastInsertRowid);
  }

  // ---- settings ---------------------------------------------------------
  getSetting<T>(key: string): { value: T; updated_at: string; updated_by: string | null } | undefined {
    const r = this.prepare('SELECT value, updated_at, updated_by FROM settings WHERE key = ?').get(key) as { value: string; updated_at: string; updated_by: string | null } | undefined;
    return r ? { value: JSON.parse(r.value) as T, updated_at: r.updated_at, updated_by: r.updated_by } : undefined;
  }

  putSetting(key: string, value: unknown, by: string | null): void {
    this
      .prepare('INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by')
      .run(key, JSON.stringify(value), new Date().toISOString(), by);
  }

  // ---- inbox ------------------------------------------------------------
  enqueue(body: string, remote: string | undefined, receivedAtMs: number): number {
    const r = this.prepare('INSERT INTO inbox (received_at, received_at_ms, remote, body) VALUES (?, ?, ?, ?)').run(new Date(receivedAtMs).toISOString(), receivedAtMs, remote ?? null, body);
    return Number(r.lastInsertRowid);
  }

  pendingInbox(limit: number): { id: number; body: string; received_at_ms: number }[] {
    return this.prepare("SELECT id, body, received_at_ms FROM inbox WHERE state = 'pending' ORDER BY id LIMIT ?").all(limit) as { id: number; body: string; received_at_ms: number }[];
  }

  /** True when a delivery older than `id` is still waiting in the queue. */
  pendingBefore(id: number): boolean {
    return !!this.prepare("SELECT 1 FROM inbox WHERE state = 'pending' AND id < ? LIMIT 1").get(id);
  }

  inboxDone(id: number): void {
    this.prepare("UPDATE inbox SET state = 'done', processed_at = ? WHERE id = ?").run(new Date().toISOString(), id);
  }

  queueDepth(): number {
    return (this.prepare("SELECT count(*) AS n FROM inbox WHERE state = 'pending'").get() as { n: number }).n;
  }

  // ---- actions ----------------------------------------------------------
  action(id: number): ActionRow | undefined {
    return this.prepare('SELECT * FROM actions WHERE id = ?').get(id) as ActionRow | undefined;
  }

  actionByEpisode(key: string): ActionRow | undefined {
    return this.prepare('SELECT * FROM actions WHERE episode_key = ?').get(key) as ActionRow | undefined;
  }

  activeActions(): ActionRow[] {
    return this.prepare(`SELECT * FROM actions WHERE state IN (${ACTIVE_SQL}) ORDER BY id`).all() as ActionRow[];
  }

  countInState(states: readonly ActionState[]): number {
    return (this.prepare(`SELECT count(*) n FROM actions WHERE state IN (${states.map((x) => `'${x}'`).join(',')})`).get() as { n: number }).n;
  }

  pendingApprovals(): ActionRow[] {
    return this.prepare("SELECT * FROM actions WHERE state = 'pending_approval' ORDER BY id").all() as ActionRow[];
  }

  approvalsExpiredBy(nowIso: string): ActionRow[] {
    return this.prepare("SELECT * FROM actions WHERE state = 'pending_approval' AND expires_at < ?").all(nowIso) as ActionRow[];
  }

  /** When the site's last action was sent to the MCP (cooldown); dry runs are never sent. */
  lastSubmittedAt(site: string, exceptId = 0): string | null {
    return (this.prepare('SELECT max(submitted_at) t FROM actions WHERE site = ? AND submitted_at IS NOT NULL AND id != ?').get(site, exceptId) as { t: string | null }).t;
  }

  /**
   * Actions that use rate-limit budget: sent since `sinceIso`, and every
   * pending approval (approving it would send it, so it holds a slot).
   */
  actionsCountedSince(sinceIso: string): number {
    return (this.prepare("SELECT count(*) n FROM actions WHERE submitted_at >= ? OR state = 'pending_approval'").get(sinceIso) as { n: number }).n;
  }

  /** Actions sent to the MCP since `sinceIso` (the rate limit at approval time). */
  actionsSentSince(sinceIso: string, exceptId = 0): number {
    return (this.prepare('SELECT count(*) n FROM actions WHERE submitted_at >= ? AND id != ?').get(sinceIso, exceptId) as { n: number }).n;
  }

  /** Another action on the site has not finished (pending approval and unknown outcome included). */
  siteBusy(site: string, exceptId = 0): boolean {
    return !!this.prepare("SELECT 1 FROM actions WHERE site = ? AND state != 'done' AND id != ? LIMIT 1").get(site, exceptId);
  }

  insertAction(a: Omit<ActionRow, 'id' | 'after' | 'job_id' | 'job_state' | 'mcp_attempts' | 'updated_at' | 'approved_by' | 'approved_at' | 'unknown_since' | 'if_no_job'>): number {
    const r = this.prepare(
      `INSERT INTO actions (episode_key, idempotency_key, site, alertname, fingerprint, starts_at, generator_url, labels, annotations, mode, count, state, result, reason, baseline,
         received_at_ms, created_at, updated_at, submitted_at, finished_at, expires_at)
       VALUES (@episode_key, @idempotency_key, @site, @alertname, @fingerprint, @starts_at, @generator_url, @labels, @annotations, @mode, @count, @state, @result, @reason, @baseline,
         @received_at_ms, @created_at, @created_at, @submitted_at, @finished_at, @expires_at)`,
    ).run(a);
    return Number(r.lastInsertRowid);
  }

  // ---- episodes ---------------------------------------------------------
  /** Records one delivery of an alert; returns whether the episode had been seen resolved before it. */
  recordDelivery(e: { episode_key: string; fingerprint: string; starts_at: string; site: string | null; alertname: string; now: string; resolved: boolean }): { resolvedBefore: boolean; deliveries: number } {
    const prev = this.prepare('SELECT resolved_at, deliveries FROM episodes WHERE episode_key = ?').get(e.episode_key) as { resolved_at: string | null; deliveries: number } | undefined;
    this.prepare(
      `INSERT INTO episodes (episode_key, fingerprint, starts_at, site, alertname, first_seen, last_seen, deliveries, resolved_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
       ON CONFLICT(episode_key) DO UPDATE SET last_seen = excluded.last_seen, deliveries = deliveries + 1, resolved_at = COALESCE(resolved_at, excluded.resolved_at)`,
    ).run(e.episode_key, e.fingerprint, e.starts_at, e.site, e.alertname, e.now, e.now, e.resolved ? e.now : null);
    return { resolvedBefore: !!prev?.resolved_at, deliveries: (prev?.deliveries ?? 0) + 1 };
  }

  /** The episode already has a decision audited with this reason. */
  episodeAudited(_key: string, fingerprint: string, startsAt: string, reason: string): boolean {
    return !!this.prepare("SELECT 1 FROM audit WHERE fingerprint = ? AND starts_at = ? AND reason = ? AND kind = 'decision' LIMIT 1").get(fingerprint, startsAt, reason);
  }

  /** Delivery counts of an episode (GET /actions/{id}). */
  episode(key: string): { deliveries: number; first_seen: string; last_seen: string; resolved_at: string | null } | undefined {
    return this.prepare('SELECT deliveries, first_seen, last_seen, resolved_at FROM episodes WHERE episode_key = ?').get(key) as { deliveries: number; first_seen: string; last_seen: string; resolved_at: string | null } | undefined;
  }

  episodeResolved(key: string): boolean {
    return !!(this.prepare('SELECT resolved_at FROM episodes WHERE episode_key = ?').get(key) as { resolved_at: string | null } | undefined)?.resolved_at;
  }

  // ---- history (REST API) ------------------------------------------------
  /** Finished actions since `sinceIso`, counted by result. */
  resultsSince(sinceIso: string): Record<string, number> {
    const rows = this.prepare('SELECT result, count(*) n FROM actions WHERE result IS NOT NULL AND finished_at >= ? GROUP BY result').all(sinceIso) as { result: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.result, r.n]));
  }

  /** Skipped decisions since `sinceIso`, counted by reason. */
  skipsSince(sinceIso: string): Record<string, number> {
    const rows = this.prepare("SELECT reason, count(*) n FROM audit WHERE kind = 'decision' AND decision = 'skip' AND ts >= ? GROUP BY reason").all(sinceIso) as { reason: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
  }

  recentActions(n: number): ActionRow[] {
    return this.prepare('SELECT * FROM actions ORDER BY id DESC LIMIT ?').all(n) as ActionRow[];
  }

  /** Actions matching every given filter, newest first. Values are bound, never spliced. */
  findActions(f: { site?: string; result?: string; state?: string; mode?: string; since?: string; until?: string; beforeId?: number }, limit: number): ActionRow[] {
    const w = filters([
      ['site = @site', f.site],
      ['result = @result', f.result],
      ['state = @state', f.state],
      ['mode = @mode', f.mode],
      ['created_at >= @since', f.since],
      ['created_at < @until', f.until],
      ['id < @beforeId', f.beforeId],
    ]);
    return this.prepare(`SELECT * FROM actions ${w} ORDER BY id DESC LIMIT @limit`).all({ ...f, limit }) as ActionRow[];
  }

  auditOfAction(id: number): AuditRow[] {
    return this.prepare('SELECT * FROM audit WHERE action_id = ? ORDER BY id').all(id) as AuditRow[];
  }

  /** Audit rows matching every given filter, newest first. */
  findAudit(f: { site?: string; kind?: string; decision?: string; reason?: string; actionId?: number; since?: string; until?: string; beforeId?: number }, limit: number): AuditRow[] {
    const w = filters([
      ['site = @site', f.site],
      ['kind = @kind', f.kind],
      ['decision = @decision', f.decision],
      ['reason = @reason', f.reason],
      ['action_id = @actionId', f.actionId],
      ['ts >= @since', f.since],
      ['ts < @until', f.until],
      ['id < @beforeId', f.beforeId],
    ]);
    return this.prepare(`SELECT * FROM audit ${w} ORDER BY id DESC LIMIT @limit`).all({ ...f, limit }) as AuditRow[];
  }

  // ---- health and retention ---------------------------------------------
  /** A trivial query: the database answers. Throws otherwise. */
  ping(): void {
    this.prepare('SELECT 1').get();
  }

  /** Age in ms of the oldest delivery still waiting for its decision (0 when none). */
  oldestPendingAgeMs(nowMs: number): number {
    const r = this.prepare("SELECT min(received_at_ms) t FROM inbox WHERE state = 'pending'").get() as { t: number | null };
    return r.t === null ? 0 : Math.max(0, nowMs - r.t);
  }

  static INBOX_KEEP = 1000;

  /**
   * Deletes what the retention policy no longer keeps; returns the counts.
   * Pending deliveries, unfinished actions and their episodes are never deleted.
   */
  sweep(nowMs: number, o: { inboxRetentionMs: number; auditRetentionMs: number }): { inbox: number; audit: number; episodes: number } {
    const inboxBefore = new Date(nowMs - o.inboxRetentionMs).toISOString();
    const auditBefore = new Date(nowMs - o.auditRetentionMs).toISOString();
    let inbox = this.prepare("DELETE FROM inbox WHERE state = 'done' AND received_at < ?").run(inboxBefore).changes;
    const cut = this.prepare("SELECT id FROM inbox WHERE state = 'done' ORDER BY id DESC LIMIT 1 OFFSET ?").get(Store.INBOX_KEEP - 1) as { id: number } | undefined;
    if (cut) inbox += this.prepare("DELETE FROM inbox WHERE state = 'done' AND id < ?").run(cut.id).changes;
    const audit = this.prepare('DELETE FROM audit WHERE ts < ? AND (action_id IS NULL OR action_id IN (SELECT id FROM actions WHERE state = \'done\' AND finished_at < ?))').run(auditBefore, auditBefore).changes;
    const episodes = this.prepare('DELETE FROM episodes WHERE last_seen < ? AND episode_key NOT IN (SELECT episode_key FROM actions WHERE state != \'done\')').run(auditBefore).changes;
    return { inbox, audit, episodes };
  }

  updateAction(id: number, fields: Partial<ActionRow>): void {
    const keys = Object.keys(fields);
    const sets = [...keys.map((k) => `${k} = @${k}`), 'updated_at = @updated_at'].join(', ');
    this.prepare(`UPDATE actions SET ${sets} WHERE id = @id`).run({ ...fields, updated_at: new Date().toISOString(), id });
  }
}

/** WHERE clause of the conditions whose value is given (the SQL text comes only from the callers' constants). */
function filters(conds: [string, unknown][]): string {
  const on = conds.filter(([, v]) => v !== undefined).map(([c]) => c);
  return on.length ? `WHERE ${on.join(' AND ')}` : '';
}
