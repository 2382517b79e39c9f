// Remediation actions of a period, read from the remediation service's
// SQLite database (grafana-app-remediation/service/src/store.ts; default
// var/remediation/remediation.db).
//
// Why not Store itself: @optifiber/remediation-app depends on
// @optifiber/exporter, so importing it here would make the workspaces (and
// the tsc project references) circular, and Store's constructor is a writer
// (it sets WAL/synchronous pragmas and runs CREATE TABLE). This module opens
// the database read-only (the service may be running; WAL readers do not
// block it) and runs one SELECT over the `actions` table, whose columns are
// those of store.ts ActionRow; a missing column or table is reported, not
// guessed.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';

export interface RemediationAction {
  id: number;
  site: string;
  alertname: string;
  createdAt: string; // ISO
  finishedAt: string | null;
  mode: string; // auto | approval | dry_run
  state: string;
  result: string | null;
  reason: string | null;
  summary: string | null; // the alert's summary annotation: why it acted
  approvedBy: string | null;
  approvedAt: string | null;
  modulesBefore: number | null;
  modulesAfter: number | null;
}

export interface AuditRead {
  path: string;
  available: boolean;
  error?: string;
  actions: RemediationAction[];
}

const num = (json: string | null, key: string): number | null => {
  if (!json) return null;
  try {
    const v = (JSON.parse(json) as Record<string, unknown>)[key];
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
};

export function readRemediationActions(path: string, fromIso: string, toIso: string): AuditRead {
  if (!existsSync(path)) return { path, available: false, error: `no remediation database at ${path}`, actions: [] };
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const rows = db
      .prepare(
        `SELECT id, site, alertname, created_at, finished_at, mode, state, result, reason, annotations,
                approved_by, approved_at, baseline, after
           FROM actions WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id`,
      )
      .all(fromIso, toIso) as {
      id: number; site: string; alertname: string; created_at: string; finished_at: string | null; mode: string; state: string;
      result: string | null; reason: string | null; annotations: string; approved_by: string | null; approved_at: string | null;
      baseline: string | null; after: string | null;
    }[];
    return {
      path,
      available: true,
      actions: rows.map((r) => {
        let summary: string | null = null;
        try {
          summary = ((JSON.parse(r.annotations) as Record<string, string>)['summary'] ?? null) as string | null;
        } catch { /* keep null */ }
        return {
          id: r.id, site: r.site, alertname: r.alertname, createdAt: r.created_at, finishedAt: r.finished_at, mode: r.mode,
          state: r.state, result: r.result, reason: r.reason, summary, approvedBy: r.approved_by, approvedAt: r.approved_at,
          modulesBefore: num(r.baseline, 'cmdModules'), modulesAfter: num(r.after, 'cmdModules'),
        };
      }),
    };
  } catch (e) {
    return { path, available: false, error: `cannot read the remediation audit log ${path}: ${(e as Error).message}`, actions: [] };
  } finally {
    db?.close();
  }
}
