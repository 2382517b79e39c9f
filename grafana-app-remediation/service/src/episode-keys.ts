// Upgrade step of the SQLite database, run where its schema is opened
// (store.ts): its own file so the store's backends can change around it.
import type Database from 'better-sqlite3';

/**
 * Databases written before fingerprints were lower-cased (issue 12, finding
 * 21) hold episode keys "FP|startsAt" with an upper-case FP, which the
 * lower-cased keys of new deliveries never match: the same alert would open a
 * second episode and a second MCP job. Lower-cases the fingerprint part of
 * every key (not the time part) and the fingerprint columns of episodes and
 * actions, in one transaction; idempotent (a second run changes nothing).
 * An episode already present under the lower-case key absorbs the old row
 * (deliveries summed, first/last seen widened). An action whose lower-case key
 * is taken by a newer action keeps its old key: both are history, and the
 * newer one is what later deliveries match. Actions keep their
 * idempotency_key (the MCP knows their jobs by it); audit rows are history
 * and are not rewritten.
 */
export function migrateEpisodeKeys(db: Database.Database): { episodes: number; actions: number } {
  const lowKey = "lower(substr(episode_key, 1, instr(episode_key, '|') - 1)) || substr(episode_key, instr(episode_key, '|'))";
  const stale = `episode_key != ${lowKey}`;
  return db.transaction(() => {
    db.prepare(
      `INSERT INTO episodes (episode_key, fingerprint, starts_at, site, alertname, first_seen, last_seen, deliveries, resolved_at)
       SELECT ${lowKey}, lower(fingerprint), starts_at, site, alertname, first_seen, last_seen, deliveries, resolved_at FROM episodes WHERE ${stale} AND true
       ON CONFLICT(episode_key) DO UPDATE SET deliveries = deliveries + excluded.deliveries,
         first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
         resolved_at = COALESCE(resolved_at, excluded.resolved_at)`,
    ).run();
    const episodes = db.prepare(`DELETE FROM episodes WHERE ${stale}`).run().changes;
    const actions = db.prepare(`UPDATE OR IGNORE actions SET episode_key = ${lowKey}, fingerprint = lower(fingerprint) WHERE ${stale}`).run().changes;
    return { episodes, actions };
  })();
}
