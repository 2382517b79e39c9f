// What waits for an Admin: the pending approvals, and approve/reject of one
// (engine.approve re-checks every limit in the approval's own commit).
import type { Router } from 'express';
import type { HttpDeps } from '../http.js';
import { need } from './auth.js';
import { errorBody } from './errors.js';
import { idParam, noteParam, objectBody } from './params.js';
import { publicAction } from './views.js';

/** The optional body {"comment"?: string}; its comment goes to the audit. */
function comment(b: unknown): string | undefined {
  if (b === undefined || b === null) return undefined;
  return noteParam(objectBody(b, ['comment'], 'a JSON object {"comment"?: string}').comment, 'comment');
}

export function registerApprovals(api: Router, d: HttpDeps): void {
  api.get('/approvals', async (_req, res) => {
    res.json({ approvals: (await d.store.pendingApprovals()).map(publicAction) });
  });
  for (const verb of ['approve', 'reject'] as const) {
    api.post(`/actions/:id/${verb}`, need('approve'), (req, res, next) => {
      const id = idParam(req.params.id)!;
      const c = comment(req.body);
      d.engine[verb](id, res.locals.user as string, c)
        .then((r) => {
          d.logger.info({ action: id, user: res.locals.user, role: res.locals.role, verb, status: r.status }, `action ${verb}`);
          if (r.status !== 200) res.status(r.status).json(errorBody(r.status, r.message));
          else res.json({ status: r.message, action: r.action ? publicAction(r.action) : null });
        })
        .catch(next);
    });
  }
}
