// What happened, read-only for every role: the overview, the actions and the
// audit log (filtered, newest first, keyset-paged by before_id).
import type { Router } from 'express';
import type { HttpDeps } from '../http.js';
import { SITE_RE } from '../policy.js';
import { HttpError } from './errors.js';
import { enumParam, idParam, limitParam, nextBeforeId, only, windowParams, wordParam, type Query } from './params.js';
import { publicAction, publicAudit } from './views.js';

const RESULTS = ['succeeded', 'failed', 'unverified', 'dry_run', 'rejected', 'cancelled', 'expired', 'skipped', 'aborted'];
const STATES = ['pending_approval', 'ready', 'baseline', 'submitted', 'job_succeeded', 'unknown', 'done'];
const MODES = ['auto', 'approval', 'dry_run'];

export function registerHistory(api: Router, d: HttpDeps): void {
  api.get('/overview', async (_req, res) => {
    res.json(await overview(d));
  });
  api.get('/actions', async (req, res) => {
    const q = req.query as Query;
    only(q, ['site', 'result', 'state', 'mode', 'since', 'until', 'limit', 'before_id']);
    if (q.site !== undefined && (typeof q.site !== 'string' || !SITE_RE.test(q.site))) throw new HttpError(400, 'site: not a site name');
    const f = { site: q.site as string | undefined, result: enumParam(q.result, 'result', RESULTS), state: enumParam(q.state, 'state', STATES), mode: enumParam(q.mode, 'mode', MODES), ...windowParams(q) };
    const limit = limitParam(q);
    const rows = await d.store.findActions(f, limit);
    res.json({ actions: rows.map(publicAction), nextBeforeId: nextBeforeId(rows, limit) });
  });
  api.get('/actions/:id', async (req, res) => {
    const a = await d.store.action(idParam(req.params.id)!);
    if (!a) throw new HttpError(404, `no action ${req.params.id}`);
    const audit = (await d.store.auditOfAction(a.id)).map(publicAudit);
    // Re-sent deliveries are counted here rather than audited one row each (retention).
    const ep = await d.store.episode(a.episode_key);
    res.json({ action: publicAction(a), audit, episode: ep ? { deliveries: ep.deliveries, firstSeen: ep.first_seen, lastSeen: ep.last_seen, resolvedAt: ep.resolved_at } : null });
  });
  api.get('/audit', async (req, res) => {
    const q = req.query as Query;
    only(q, ['site', 'kind', 'decision', 'reason', 'action_id', 'since', 'until', 'limit', 'before_id']);
    const f = { site: wordParam(q.site, 'site'), kind: wordParam(q.kind, 'kind'), decision: wordParam(q.decision, 'decision'), reason: wordParam(q.reason, 'reason'), actionId: idParam(q.action_id, 'action_id'), ...windowParams(q) };
    const limit = limitParam(q);
    const rows = await d.store.findAudit(f, limit);
    res.json({ audit: rows.map(publicAudit), nextBeforeId: nextBeforeId(rows, limit) });
  });
}

/** The app's landing page: health, switches, what waits for a person, the last day in counts. */
async function overview(d: HttpDeps) {
  const since = new Date(Date.now() - 86_400_000).toISOString();
  const byResult = await d.store.resultsSince(since);
  const recent = (await d.store.recentActions(10)).map(publicAction);
  const pending = (await d.store.pendingApprovals()).map(publicAction);
  const skipped = await d.store.skipsSince(since);
  return {
    health: {
      status: 'ok',
      uptimeSeconds: Math.round((Date.now() - d.startedAt) / 1000),
      queueDepth: await d.store.queueDepth(),
      actionsInFlight: (await d.store.activeActions()).length,
      mcp: { url: d.urls.mcp, ...d.engine.health.mcp },
      exporter: { url: d.urls.exporter, ...d.engine.health.exporter },
    },
    killSwitch: await d.engine.killSwitch(),
    policy: await d.engine.policy(),
    pendingApprovals: pending,
    recentActions: recent,
    last24h: { actionsByResult: byResult, skipsByReason: skipped },
  };
}
