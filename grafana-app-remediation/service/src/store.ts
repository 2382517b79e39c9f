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
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type ActionState = 'pending_approval' | 'ready' | 'baseline' | 'submitted' | 'job_succeeded' | 'done';
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
  expires_at TEXT
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
    return this.prepare("SELECT * FROM actions WHERE state IN ('ready','baseline','submitted','job_succeeded') ORDER BY id").all() as ActionRow[];
  }

  updateAction(id: number, fields: Partial<ActionRow>): void {
    const keys = Object.keys(fields);
    const sets = [...keys.map((k) => `${k} = @${k}`), 'updated_at = @updated_at'].join(', ');
    this.prepare(`UPDATE actions SET ${sets} WHERE id = @id`).run({ ...fields, updated_at: new Date().toISOString(), id });
  }
}
