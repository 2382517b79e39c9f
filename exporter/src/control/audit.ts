// The control audit trail: one JSON line per control request from an
// authenticated identity, appended and fdatasync'd before the answer (and,
// for a command about to be written, before the write), so the trail and the
// idempotency keys survive a crash or restart. The file rotates once at
// maxBytes (FILE -> FILE.1, one old generation kept); both are read at start.
//
// Idempotency: a request with "Idempotency-Key: K" from identity I is
// recorded under (I, K). A retry finds the first request's outcome and gets
// the same answer without writing anything again; a key whose command was
// being written when the exporter stopped ("pending" without an outcome) is
// answered 409, never re-sent: the command may have taken effect.
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';

export interface AuditRecord {
  ts: string;
  /** pending: about to be written to cmd_control; done: answered; refused: answered without writing. */
  event: 'pending' | 'done' | 'refused' | 'replayed';
  identity: string;
  remote?: string;
  site: string;
  command?: string;
  idempotencyKey?: string;
  status?: number;
  result?: string;
  seq?: number;
  /** The answer's body, kept for replays of the same idempotency key. */
  body?: unknown;
}

export interface IdempotentEntry {
  site: string;
  command: string;
  state: 'pending' | 'done';
  status?: number;
  body?: unknown;
  atMs: number;
  /** Pending in this process (a concurrent retry), as opposed to left pending by a previous run. */
  live: boolean;
}

export interface AuditOptions {
  maxBytes?: number;
  /** Idempotency keys are remembered this long. Default 24 h. */
  keyTtlMs?: number;
  /** And at most this many. Default 10000. */
  maxKeys?: number;
  now?: () => number;
}

export class ControlAudit {
  private readonly keys = new Map<string, IdempotentEntry>();
  private fd: number | undefined;
  private size = 0;
  private readonly maxBytes: number;
  private readonly keyTtlMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  /** Records that could not be parsed when the trail was read (a torn last line after a crash). */
  skippedLines = 0;

  constructor(
    readonly file: string | undefined,
    opts: AuditOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.keyTtlMs = opts.keyTtlMs ?? 24 * 3600_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.now = opts.now ?? Date.now;
    if (file === undefined) return;
    for (const f of [`${file}.1`, file]) if (existsSync(f)) this.replay(readFileSync(f, 'utf8'));
    this.open();
  }

  private open(): void {
    this.fd = openSync(this.file!, 'a', 0o600);
    this.size = statSync(this.file!).size;
  }

  private replay(text: string): void {
    for (const line of text.split('\n')) {
      if (!line) continue;
      let r: AuditRecord;
      try {
        r = JSON.parse(line) as AuditRecord;
      } catch {
        this.skippedLines++;
        continue;
      }
      this.index(r, false);
    }
  }

  private keyOf(identity: string, key: string): string {
    return `${identity}\0${key}`;
  }

  private index(r: AuditRecord, live: boolean): void {
    if (r.idempotencyKey === undefined || (r.event !== 'pending' && r.event !== 'done')) return;
    const atMs = Date.parse(r.ts);
    if (!(this.now() - atMs < this.keyTtlMs)) return;
    const k = this.keyOf(r.identity, r.idempotencyKey);
    const e: IdempotentEntry = { site: r.site, command: r.command ?? '', state: r.event, atMs, live };
    if (r.status !== undefined) e.status = r.status;
    if (r.body !== undefined) e.body = r.body;
    this.keys.delete(k);
    this.keys.set(k, e);
    while (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value!);
  }

  lookup(identity: string, key: string): IdempotentEntry | undefined {
    const e = this.keys.get(this.keyOf(identity, key));
    if (e && this.now() - e.atMs >= this.keyTtlMs) {
      this.keys.delete(this.keyOf(identity, key));
      return undefined;
    }
    return e;
  }

  /** Appends (and syncs) one record; indexes its idempotency key. */
  append(r: Omit<AuditRecord, 'ts'>): void {
    const rec: AuditRecord = { ts: new Date(this.now()).toISOString(), ...r };
    this.index(rec, true);
    if (this.fd === undefined) return;
    const line = Buffer.from(JSON.stringify(rec) + '\n');
    if (this.size + line.length > this.maxBytes && this.size > 0) {
      closeSync(this.fd);
      renameSync(this.file!, `${this.file}.1`);
      this.open();
    }
    writeSync(this.fd, line);
    fdatasyncSync(this.fd);
    this.size += line.length;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
