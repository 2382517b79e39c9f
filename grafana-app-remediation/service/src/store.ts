// Durable state behind ONE interface (Store) with ONE schema (SCHEMA) and ONE
// set of named queries (Queries), on either of two backends:
//
//   SQLite (store-sqlite.ts, the default): one file, one process. WAL with
//     synchronous=FULL and a group committer (every write requested during
//     one turn of the event loop shares one transaction and one fsync). The
//     process holds an exclusive lock on <file>.lock for its lifetime, so a
//     second service on the same file refuses to start.
//   PostgreSQL (store-postgres.ts, storage.url): several replicas on one
//     database. Each write is its own transaction; deliveries are claimed
//     with FOR UPDATE SKIP LOCKED; every transaction that reads or changes a
//     limit (decision, approval, policy, kill switch) first takes one
//     transaction-scoped advisory lock (Tx.lockLimits), so rate limit,
//     cooldown, busy site and kill switch are checked atomically across
//     replicas, as SQLite's single writer does in one process.
//
// SQLite or PostgreSQL rather than an append-only log because the service
// needs indexed queries (dedupe by episode, cooldown by site, rate limit by
// time, history filters) and atomic multi-row transitions (decision + audit
// + queue acknowledgement in one commit).
//
// Tables
//   inbox     the durable webhook queue (pending -> done)
//   episodes  one row per alert episode (fingerprint + startsAt): deliveries, resolved
//   actions   the persisted state machine, one row per acted episode (UNIQUE
//             episode); owner + lease_until: the process running it (a lease
//             renewed while it runs; an expired lease is adopted by a replica)
//   audit     append-only: every decision, step, approval, policy/kill-switch change
//   settings  policy and kill switch (JSON)
//
// Every state change of an action is a compare-and-set on its state
// (updateAction(..., expect)): a runner that lost its lease (a replica that
// stalled) cannot overwrite what the adopting runner wrote.
//
// Retention (sweep(), docs/remediation-api.md): a processed webhook body is
// only needed until its decision is committed; processed deliveries are kept
// at most storage.inbox_retention and at most INBOX_KEEP rows, so a flood of
// re-sent deliveries cannot grow the database. Duplicate deliveries of an
// episode are counted on the episode row (deliveries, last_seen), not
// audited one row each. Audit rows and finished episodes are kept for
// storage.audit_retention.

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
  /** The process running it and until when (ms since the epoch); see Store. */
  owner: string | null;
  lease_until: number | null;
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

/**
 * The schema, once for both backends: `{{ID}}` is the dialect's
 * auto-increment key; everything else is SQL both accept (DOUBLE PRECISION is
 * REAL in SQLite).
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS inbox (
  id {{ID}},
  received_at TEXT NOT NULL,
  received_at_ms DOUBLE PRECISION NOT NULL,
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
  id {{ID}},
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
  received_at_ms DOUBLE PRECISION NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  submitted_at TEXT,
  finished_at TEXT,
  approved_by TEXT,
  approved_at TEXT,
  expires_at TEXT,
  unknown_since TEXT,
  if_no_job TEXT,
  owner TEXT,
  lease_until DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS actions_site ON actions(site, id);
CREATE INDEX IF NOT EXISTS actions_state ON actions(state);
CREATE INDEX IF NOT EXISTS actions_submitted ON actions(submitted_at);
CREATE TABLE IF NOT EXISTS audit (
  id {{ID}},
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


/** Positional (`?`) or named (`@name`) parameters; each driver binds them its own way. */
export type Params = unknown[] | Record<string, unknown>;

/** What a backend provides: run one statement on its connection (or transaction). */
export interface Exec {
  all<T>(sql: string, params?: Params): Promise<T[]>;
  /** The number of rows changed. */
  run(sql: string, params?: Params): Promise<number>;
}

export interface Dialect {
  name: 'sqlite' | 'postgres';
  /** Row locks for claims (empty where the database has one writer). */
  skipLocked: string;
  /** The statement that serializes limit checks across processes (none where there is one writer). */
  lockLimits?: string;
}

/** A state change lost its compare-and-set: another runner (replica) moved the action first. */
export class StaleActionError extends Error {
  constructor(id: number, expect: string) {
    super(`action ${id} is no longer in state ${expect} (another replica advanced it)`);
    this.name = 'StaleActionError';
  }
}

/**
 * The named queries, once for both backends. A Store runs them outside any
 * transaction (reads); a Tx inside one.
 */
export class Queries {
  constructor(
    protected readonly x: Exec,
    readonly dialect: Dialect,
  ) {}

  protected async get<T>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.x.all<T>(sql, params))[0];
  }

  // ---- audit ------------------------------------------------------------
  async audit(a: AuditInput): Promise<number> {
    const r = await this.get<{ id: number }>(
      `INSERT INTO audit (ts, kind, action_id, site, alertname, fingerprint, starts_at, status, decision, reason, actor, details)
       VALUES (@ts, @kind, @action_id, @site, @alertname, @fingerprint, @starts_at, @status, @decision, @reason, @actor, @details) RETURNING id`,
      { ...a, ts: a.ts ?? new Date().toISOString() },
    );
    return r!.id;
  }

  // ---- settings ---------------------------------------------------------
  async getSetting<T>(key: string): Promise<{ value: T; updated_at: string; updated_by: string | null } | undefined> {
    const r = await this.get<{ value: string; updated_at: string; updated_by: string | null }>('SELECT value, updated_at, updated_by FROM settings WHERE key = ?', [key]);
    return r ? { value: JSON.parse(r.value) as T, updated_at: r.updated_at, updated_by: r.updated_by } : undefined;
  }

  async putSetting(key: string, value: unknown, by: string | null): Promise<void> {
    await this.x.run(
      'INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
      [key, JSON.stringify(value), new Date().toISOString(), by],
    );
  }

  /** Inserts the setting unless it exists (replicas starting together seed it once). */
  async seedSetting(key: string, value: unknown, by: string | null): Promise<boolean> {
    return (await this.x.run('INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO NOTHING', [key, JSON.stringify(value), new Date().toISOString(), by])) > 0;
  }

  // ---- inbox ------------------------------------------------------------
  async enqueue(body: string, remote: string | undefined, receivedAtMs: number): Promise<number> {
    const r = await this.get<{ id: number }>('INSERT INTO inbox (received_at, received_at_ms, remote, body) VALUES (?, ?, ?, ?) RETURNING id', [new Date(receivedAtMs).toISOString(), receivedAtMs, remote ?? null, body]);
    return r!.id;
  }

  pendingInbox(limit: number): Promise<{ id: number; body: string; received_at_ms: number }[]> {
    return this.x.all("SELECT id, body, received_at_ms FROM inbox WHERE state = 'pending' ORDER BY id LIMIT ?", [limit]);
  }

  /**
   * Claims deliveries for a decision in this transaction: those of `ids`
   * still pending and not being decided by another replica (SKIP LOCKED:
   * never waits for, never decides twice, what another replica holds).
   */
  async claimInbox(ids: number[]): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const rows = await this.x.all<{ id: number }>(`SELECT id FROM inbox WHERE id IN (${ids.map(() => '?').join(',')}) AND state = 'pending' ORDER BY id${this.dialect.skipLocked}`, ids);
    return new Set(rows.map((r) => r.id));
  }

  /** True when a delivery older than `id` is still waiting in the queue. */
  async pendingBefore(id: number): Promise<boolean> {
    return !!(await this.get("SELECT 1 AS one FROM inbox WHERE state = 'pending' AND id < ? LIMIT 1", [id]));
  }

  async inboxDone(id: number): Promise<void> {
    await this.x.run("UPDATE inbox SET state = 'done', processed_at = ? WHERE id = ?", [new Date().toISOString(), id]);
  }

  async queueDepth(): Promise<number> {
    return (await this.get<{ n: number }>("SELECT count(*) AS n FROM inbox WHERE state = 'pending'"))!.n;
  }

  // ---- actions ----------------------------------------------------------
  action(id: number): Promise<ActionRow | undefined> {
    return this.get('SELECT * FROM actions WHERE id = ?', [id]);
  }

  actionByEpisode(key: string): Promise<ActionRow | undefined> {
    return this.get('SELECT * FROM actions WHERE episode_key = ?', [key]);
  }

  activeActions(): Promise<ActionRow[]> {
    return this.x.all(`SELECT * FROM actions WHERE state IN (${ACTIVE_SQL}) ORDER BY id`);
  }

  /**
   * Active actions `owner` should run: never claimed, its own (a runner that
   * could not start), or whose lease ran out (the replica died or stalled).
   */
  orphanedActions(nowMs: number, owner: string): Promise<{ id: number }[]> {
    return this.x.all(`SELECT id FROM actions WHERE state IN (${ACTIVE_SQL}) AND (owner IS NULL OR owner = ? OR lease_until < ?) ORDER BY id`, [owner, nowMs]);
  }

  /** Takes (or renews) the lease of an action unless another process holds a live one. */
  async claimAction(id: number, owner: string, nowMs: number, leaseMs: number): Promise<boolean> {
    return (await this.x.run('UPDATE actions SET owner = ?, lease_until = ? WHERE id = ? AND (owner IS NULL OR owner = ? OR lease_until < ?)', [owner, nowMs + leaseMs, id, owner, nowMs])) > 0;
  }

  /** Renews every lease `owner` holds on an unfinished action. */
  async renewLeases(owner: string, nowMs: number, leaseMs: number): Promise<number> {
    return this.x.run("UPDATE actions SET lease_until = ? WHERE owner = ? AND state != 'done'", [nowMs + leaseMs, owner]);
  }

  async countInState(states: readonly ActionState[]): Promise<number> {
    return (await this.get<{ n: number }>(`SELECT count(*) AS n FROM actions WHERE state IN (${states.map((x) => `'${x}'`).join(',')})`))!.n;
  }

  pendingApprovals(): Promise<ActionRow[]> {
    return this.x.all("SELECT * FROM actions WHERE state = 'pending_approval' ORDER BY id");
  }

  approvalsExpiredBy(nowIso: string): Promise<ActionRow[]> {
    return this.x.all("SELECT * FROM actions WHERE state = 'pending_approval' AND expires_at < ?", [nowIso]);
  }

  /** When the site's last action was sent to the MCP (cooldown); dry runs are never sent. */
  async lastSubmittedAt(site: string, exceptId = 0): Promise<string | null> {
    return (await this.get<{ t: string | null }>('SELECT max(submitted_at) AS t FROM actions WHERE site = ? AND submitted_at IS NOT NULL AND id != ?', [site, exceptId]))!.t;
  }

  /**
   * Actions that use rate-limit budget: sent since `sinceIso`, and every
   * pending approval (approving it would send it, so it holds a slot).
   */
  async actionsCountedSince(sinceIso: string): Promise<number> {
    return (await this.get<{ n: number }>("SELECT count(*) AS n FROM actions WHERE submitted_at >= ? OR state = 'pending_approval'", [sinceIso]))!.n;
  }

  /** Actions sent to the MCP since `sinceIso` (the rate limit at approval time). */
  async actionsSentSince(sinceIso: string, exceptId = 0): Promise<number> {
    return (await this.get<{ n: number }>('SELECT count(*) AS n FROM actions WHERE submitted_at >= ? AND id != ?', [sinceIso, exceptId]))!.n;
  }

  /** Another action on the site has not finished (pending approval and unknown outcome included). */
  async siteBusy(site: string, exceptId = 0): Promise<boolean> {
    return !!(await this.get("SELECT 1 AS one FROM actions WHERE site = ? AND state != 'done' AND id != ? LIMIT 1", [site, exceptId]));
  }

  async insertAction(a: Omit<ActionRow, 'id' | 'after' | 'job_id' | 'job_state' | 'mcp_attempts' | 'updated_at' | 'approved_by' | 'approved_at' | 'unknown_since' | 'if_no_job' | 'owner' | 'lease_until'> & { owner?: string | null; lease_until?: number | null }): Promise<number> {
    const r = await this.get<{ id: number }>(
      `INSERT INTO actions (episode_key, idempotency_key, site, alertname, fingerprint, starts_at, generator_url, labels, annotations, mode, count, state, result, reason, baseline,
         received_at_ms, created_at, updated_at, submitted_at, finished_at, expires_at, owner, lease_until)
       VALUES (@episode_key, @idempotency_key, @site, @alertname, @fingerprint, @starts_at, @generator_url, @labels, @annotations, @mode, @count, @state, @result, @reason, @baseline,
         @received_at_ms, @created_at, @created_at, @submitted_at, @finished_at, @expires_at, @owner, @lease_until) RETURNING id`,
      { owner: null, lease_until: null, ...a },
    );
    return r!.id;
  }

  /**
   * Updates an action. With `expect`, a compare-and-set on its state: throws
   * StaleActionError when the action is no longer in that state.
   */
  async updateAction(id: number, fields: Partial<ActionRow>, expect?: ActionState): Promise<void> {
    const keys = Object.keys(fields);
    const sets = [...keys.map((k) => `${k} = @${k}`), 'updated_at = @updated_at'].join(', ');
    const n = await this.x.run(`UPDATE actions SET ${sets} WHERE id = @id${expect ? ' AND state = @expect' : ''}`, { ...fields, updated_at: new Date().toISOString(), id, ...(expect ? { expect } : {}) });
    if (expect && n === 0) throw new StaleActionError(id, expect);
  }

  // ---- episodes ---------------------------------------------------------
  /** Records one delivery of an alert; returns whether the episode had been seen resolved before it. */
  async recordDelivery(e: { episode_key: string; fingerprint: string; starts_at: string; site: string | null; alertname: string; now: string; resolved: boolean }): Promise<{ resolvedBefore: boolean; deliveries: number }> {
    const prev = await this.get<{ resolved_at: string | null; deliveries: number }>('SELECT resolved_at, deliveries FROM episodes WHERE episode_key = ?', [e.episode_key]);
    await this.x.run(
      `INSERT INTO episodes (episode_key, fingerprint, starts_at, site, alertname, first_seen, last_seen, deliveries, resolved_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
       ON CONFLICT(episode_key) DO UPDATE SET last_seen = excluded.last_seen, deliveries = episodes.deliveries + 1, resolved_at = COALESCE(episodes.resolved_at, excluded.resolved_at)`,
      [e.episode_key, e.fingerprint, e.starts_at, e.site, e.alertname, e.now, e.now, e.resolved ? e.now : null],
    );
    return { resolvedBefore: !!prev?.resolved_at, deliveries: (prev?.deliveries ?? 0) + 1 };
  }

  /** The episode already has a decision audited with this reason. */
  async episodeAudited(_key: string, fingerprint: string, startsAt: string, reason: string): Promise<boolean> {
    return !!(await this.get("SELECT 1 AS one FROM audit WHERE fingerprint = ? AND starts_at = ? AND reason = ? AND kind = 'decision' LIMIT 1", [fingerprint, startsAt, reason]));
  }

  /** Delivery counts of an episode (GET /actions/{id}). */
  episode(key: string): Promise<{ deliveries: number; first_seen: string; last_seen: string; resolved_at: string | null } | undefined> {
    return this.get('SELECT deliveries, first_seen, last_seen, resolved_at FROM episodes WHERE episode_key = ?', [key]);
  }

  async episodeResolved(key: string): Promise<boolean> {
    return !!(await this.get<{ resolved_at: string | null }>('SELECT resolved_at FROM episodes WHERE episode_key = ?', [key]))?.resolved_at;
  }

  // ---- history (REST API) ------------------------------------------------
  /** Finished actions since `sinceIso`, counted by result. */
  async resultsSince(sinceIso: string): Promise<Record<string, number>> {
    const rows = await this.x.all<{ result: string; n: number }>('SELECT result, count(*) AS n FROM actions WHERE result IS NOT NULL AND finished_at >= ? GROUP BY result', [sinceIso]);
    return Object.fromEntries(rows.map((r) => [r.result, r.n]));
  }

  /** Skipped decisions since `sinceIso`, counted by reason. */
  async skipsSince(sinceIso: string): Promise<Record<string, number>> {
    const rows = await this.x.all<{ reason: string; n: number }>("SELECT reason, count(*) AS n FROM audit WHERE kind = 'decision' AND decision = 'skip' AND ts >= ? GROUP BY reason", [sinceIso]);
    return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
  }

  recentActions(n: number): Promise<ActionRow[]> {
    return this.x.all('SELECT * FROM actions ORDER BY id DESC LIMIT ?', [n]);
  }

  /** Actions matching every given filter, newest first. Values are bound, never spliced. */
  findActions(f: { site?: string; result?: string; state?: string; mode?: string; since?: string; until?: string; beforeId?: number }, limit: number): Promise<ActionRow[]> {
    return this.newestFirst('actions', [...equal(f, ['site', 'result', 'state', 'mode']), ...windowConds('created_at', f)], f, limit);
  }

  auditOfAction(id: number): Promise<AuditRow[]> {
    return this.x.all('SELECT * FROM audit WHERE action_id = ? ORDER BY id', [id]);
  }

  /** Audit rows matching every given filter, newest first. */
  findAudit(f: { site?: string; kind?: string; decision?: string; reason?: string; actionId?: number; since?: string; until?: string; beforeId?: number }, limit: number): Promise<AuditRow[]> {
    return this.newestFirst('audit', [...equal(f, ['site', 'kind', 'decision', 'reason']), ['action_id = @actionId', f.actionId], ...windowConds('ts', f)], f, limit);
  }

  private newestFirst<T>(table: 'actions' | 'audit', conds: [string, unknown][], f: object, limit: number): Promise<T[]> {
    return this.x.all(`SELECT * FROM ${table} ${filters(conds)} ORDER BY id DESC LIMIT @limit`, { ...f, limit });
  }

  // ---- health and retention ---------------------------------------------
  /** A trivial query: the database answers. Throws otherwise. */
  async ping(): Promise<void> {
    await this.x.all('SELECT 1 AS one');
  }

  /** Age in ms of the oldest delivery still waiting for its decision (0 when none). */
  async oldestPendingAgeMs(nowMs: number): Promise<number> {
    const r = await this.get<{ t: number | null }>("SELECT min(received_at_ms) AS t FROM inbox WHERE state = 'pending'");
    return r?.t == null ? 0 : Math.max(0, nowMs - r.t);
  }

  static INBOX_KEEP = 1000;

  /**
   * Deletes what the retention policy no longer keeps; returns the counts.
   * Pending deliveries, unfinished actions and their episodes are never deleted.
   */
  async sweep(nowMs: number, o: { inboxRetentionMs: number; auditRetentionMs: number }): Promise<{ inbox: number; audit: number; episodes: number }> {
    const inboxBefore = new Date(nowMs - o.inboxRetentionMs).toISOString();
    const auditBefore = new Date(nowMs - o.auditRetentionMs).toISOString();
    let inbox = await this.x.run("DELETE FROM inbox WHERE state = 'done' AND received_at < ?", [inboxBefore]);
    const cut = await this.get<{ id: number }>("SELECT id FROM inbox WHERE state = 'done' ORDER BY id DESC LIMIT 1 OFFSET ?", [Queries.INBOX_KEEP - 1]);
    if (cut) inbox += await this.x.run("DELETE FROM inbox WHERE state = 'done' AND id < ?", [cut.id]);
    const audit = await this.x.run("DELETE FROM audit WHERE ts < ? AND (action_id IS NULL OR action_id IN (SELECT id FROM actions WHERE state = 'done' AND finished_at < ?))", [auditBefore, auditBefore]);
    const episodes = await this.x.run("DELETE FROM episodes WHERE last_seen < ? AND episode_key NOT IN (SELECT episode_key FROM actions WHERE state != 'done')", [auditBefore]);
    return { inbox, audit, episodes };
  }
}

/** The queries inside one transaction, plus what only a transaction can do. */
export class Tx extends Queries {
  private savepoints = 0;

  /** Runs fn in a savepoint: if it throws, only its own changes are rolled back, and it rethrows. */
  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    const name = `sp${++this.savepoints}`;
    await this.x.run(`SAVEPOINT ${name}`);
    try {
      const v = await fn();
      await this.x.run(`RELEASE SAVEPOINT ${name}`);
      return v;
    } catch (e) {
      await this.x.run(`ROLLBACK TO SAVEPOINT ${name}`);
      await this.x.run(`RELEASE SAVEPOINT ${name}`);
      throw e;
    }
  }

  /**
   * Serializes this transaction with every other one that checks or changes
   * a limit, in every process, until it commits. Call it before the first
   * limit is read.
   */
  async lockLimits(): Promise<void> {
    if (this.dialect.lockLimits) await this.x.all(this.dialect.lockLimits);
  }
}

/** What the service holds: the queries outside a transaction, and transactions. */
export interface Store extends Queries {
  /** Several processes may share it (PostgreSQL): the engine polls for work other replicas left. */
  readonly shared: boolean;
  /** Where it is, for logs (never a password). */
  readonly where: string;
  /**
   * Runs `fn` in a transaction; resolves with its result after the commit
   * (durable). If `fn` throws, nothing of it is committed and the promise
   * rejects. `fn` must only run queries of its Tx (no other I/O): a
   * transaction never waits on the network beyond its database.
   * `lazy`: not on anyone's critical path; the backend may delay the commit
   * a few ms to share it.
   */
  write<T>(fn: (tx: Tx) => Promise<T>, opts?: { lazy?: boolean }): Promise<T>;
  /** Called after each commit with the transactions it held and its duration (metrics). */
  onCommit?: (batchSize: number, ms: number) => void;
  close(): Promise<void>;
}

export const INBOX_KEEP = Queries.INBOX_KEEP;

/** The schema's DDL for a dialect. */
export function schemaFor(idColumn: string): string {
  return SCHEMA.replaceAll('{{ID}}', idColumn);
}

/** Equality filters on the columns of these names (`@name` bound from f). */
function equal<F extends object>(f: F, cols: (keyof F & string)[]): [string, unknown][] {
  return cols.map((c) => [`${c} = @${c}`, f[c]]);
}

/** A history list's time window (on column `t`) and keyset page (rows older than beforeId). */
function windowConds(t: 'created_at' | 'ts', f: { since?: string; until?: string; beforeId?: number }): [string, unknown][] {
  return [
    [`${t} >= @since`, f.since],
    [`${t} < @until`, f.until],
    ['id < @beforeId', f.beforeId],
  ];
}

/** WHERE clause of the conditions whose value is given (the SQL text comes only from the callers' constants). */
function filters(conds: [string, unknown][]): string {
  const on = conds.filter(([, v]) => v !== undefined).map(([c]) => c);
  return on.length ? `WHERE ${on.join(' AND ')}` : '';
}
