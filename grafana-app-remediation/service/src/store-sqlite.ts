// The SQLite backend of the Store (store.ts): the embedded default, one
// process per database file.
//
// better-sqlite3 in WAL mode with synchronous=FULL, so a transaction that
// returned is on disk (the WAL is fsync'd at every commit) and survives
// SIGKILL and power loss. Writes go through a group committer: every write
// requested during one turn of the event loop shares one transaction and one
// fsync (about 6 ms here), each in its own savepoint, so 100 webhooks/s cost
// a few fsyncs per second instead of hundreds. A caller's promise resolves
// only after its batch committed.
//
// One process: the store holds an exclusive lock on `<file>.lock` (a SQLite
// EXCLUSIVE transaction there, i.e. an fcntl lock the kernel drops when the
// process dies, kill -9 included). A second service on the same file cannot
// take it and refuses to start; readers of the database itself (optifiber
// report) are not blocked. Because no other process can run its actions,
// the leases a previous process left are void at open.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrateEpisodeKeys } from './episode-keys.js';
import { schemaFor, Queries, Tx, type Dialect, type Exec, type Params, type Store } from './store.js';

interface Pending {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

const DIALECT: Dialect = { name: 'sqlite', skipLocked: '' };

/** Thrown at open when another process holds the database. */
export class StoreLockedError extends Error {
  constructor(readonly path: string) {
    super(
      `the SQLite database ${path} is in use by another process (it holds ${path}.lock): one remediation service per SQLite file; ` +
        'stop the other one, or run several replicas on PostgreSQL (storage.url)',
    );
    this.name = 'StoreLockedError';
  }
}

/** Prepared statements by SQL text, bound from `?` arrays or `@name` objects. */
class SqliteExec implements Exec {
  /** Compiling SQL cost more CPU than running it; bounded so SQL built from input never grows it without limit. */
  private readonly stmts = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}

  stmt(sql: string): Database.Statement {
    let st = this.stmts.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      if (this.stmts.size < 256) this.stmts.set(sql, st);
    }
    return st;
  }

  allSync<T>(sql: string, params?: Params): T[] {
    const st = this.stmt(sql);
    return (params === undefined ? st.all() : Array.isArray(params) ? st.all(...params) : st.all(params)) as T[];
  }

  runSync(sql: string, params?: Params): number {
    const st = this.stmt(sql);
    return (params === undefined ? st.run() : Array.isArray(params) ? st.run(...params) : st.run(params)).changes;
  }

  async all<T>(sql: string, params?: Params): Promise<T[]> {
    return this.allSync<T>(sql, params);
  }

  async run(sql: string, params?: Params): Promise<number> {
    return this.runSync(sql, params);
  }
}

export class SqliteStore extends Queries implements Store {
  readonly shared = false;
  readonly where: string;
  /** The connection (tests inspect and break it). */
  readonly db: Database.Database;
  private readonly lock?: Database.Database;
  private readonly exec: SqliteExec;
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing = false;
  private lastFlushEnd = 0;
  private lastFlushMs = 0;
  private lazyTimer?: NodeJS.Timeout;
  onCommit?: (batchSize: number, ms: number) => void;

  /** Longest delay of a lazy write. */
  static LAZY_MS = 10;

  constructor(path: string) {
    let lock: Database.Database | undefined;
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true });
      lock = takeLock(path);
    }
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (e) {
      lock?.close();
      throw e;
    }
    const exec = new SqliteExec(db);
    super(exec, DIALECT);
    this.exec = exec;
    this.db = db;
    this.lock = lock;
    this.where = path;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.exec(schemaFor('INTEGER PRIMARY KEY AUTOINCREMENT'));
    // Databases of older versions: add the columns added since.
    const cols = new Set((db.prepare('PRAGMA table_info(actions)').all() as { name: string }[]).map((c) => c.name));
    for (const [c, t] of [['unknown_since', 'TEXT'], ['if_no_job', 'TEXT'], ['owner', 'TEXT'], ['lease_until', 'DOUBLE PRECISION']]) if (!cols.has(c!)) db.exec(`ALTER TABLE actions ADD COLUMN ${c} ${t}`);
    // Upper-case episode keys of older versions (issue 12, finding 21); a PostgreSQL store never had them.
    migrateEpisodeKeys(db);
    // We hold the file lock: whoever held these leases is gone.
    db.exec("UPDATE actions SET owner = NULL, lease_until = NULL WHERE owner IS NOT NULL");
    // The WAL is truncated back to this size after a checkpoint (it would otherwise keep its largest size).
    db.pragma('journal_size_limit = 4194304');
  }

  write<T>(fn: (tx: Tx) => Promise<T>, opts: { lazy?: boolean } = {}): Promise<T> {
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
        }, SqliteStore.LAZY_MS);
        return;
      }
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // Adaptive group commit: leave at least as much time between two
    // commits as the last one took, so under load the fsync duty cycle
    // stays <= 50 % and more writes share each fsync.
    const gap = this.lastFlushMs - (performance.now() - this.lastFlushEnd);
    if (gap > 0.5) setTimeout(() => void this.flush(), gap);
    else setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.lazyTimer) {
      clearTimeout(this.lazyTimer);
      this.lazyTimer = undefined;
    }
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    this.flushing = true;
    const started = performance.now();
    const results: { ok: boolean; v: unknown }[] = [];
    try {
      this.exec.runSync('BEGIN IMMEDIATE');
      const tx = new Tx(this.exec, DIALECT);
      for (const p of batch) {
        try {
          results.push({ ok: true, v: await tx.savepoint(() => p.fn(tx)) });
        } catch (e) {
          results.push({ ok: false, v: e });
        }
      }
      this.exec.runSync('COMMIT');
    } catch (e) {
      if (this.db.open && this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const p of batch) p.reject(e);
      return;
    } finally {
      this.flushing = false;
      if (this.queue.length > 0 && !this.lazyTimer) this.schedule();
    }
    this.lastFlushEnd = performance.now();
    this.lastFlushMs = this.lastFlushEnd - started;
    this.onCommit?.(batch.length, this.lastFlushMs);
    batch.forEach((p, i) => (results[i]!.ok ? p.resolve(results[i]!.v) : p.reject(results[i]!.v)));
  }

  async close(): Promise<void> {
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    if (this.db.open) this.db.close();
    if (this.lock?.open) this.lock.close();
  }
}

/**
 * The process-wide lock of one database file: an EXCLUSIVE transaction on
 * `<path>.lock`, held until close() or the process ends. The wait is short:
 * long enough for a predecessor that is just closing.
 */
function takeLock(path: string): Database.Database {
  const lock = new Database(`${path}.lock`, { timeout: 1000 });
  try {
    lock.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    lock.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new StoreLockedError(path);
    throw e;
  }
  return lock;
}
