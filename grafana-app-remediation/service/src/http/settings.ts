// The switches that govern every decision: the policy (Editors tighten,
// Admins loosen or change the mode) and the kill switch (Admin). Each change
// is one audited commit (engine.setPolicy / setKillSwitch).
import type { Router } from 'express';
import type { HttpDeps } from '../http.js';
import { validatePolicy } from '../policy.js';
import { can, policyChangeNeeds, type Role } from '../roles.js';
import { need } from './auth.js';
import { errorBody, HttpError } from './errors.js';
import { isObject, noteParam, objectBody } from './params.js';

export function registerSettings(api: Router, d: HttpDeps): void {
  const storedPolicy = async () => {
    const s = (await d.store.getSetting('policy'))!;
    return { policy: s.value, updatedAt: s.updated_at, updatedBy: s.updated_by };
  };
  api.get('/policies', async (_req, res) => {
    res.json(await storedPolicy());
  });
  api.put('/policies', need('editThresholds'), async (req, res, next) => {
    // Keys left out keep their current value (the body is merged onto the stored policy).
    const body = req.body as unknown;
    if (!isObject(body)) throw new HttpError(400, 'body must be a JSON object of policy keys');
    const before = await d.engine.policy();
    const v = validatePolicy({ ...before, ...body });
    if (!v.policy) {
      res.status(400).json({ ...errorBody(400, `invalid policy: ${v.problems.join('; ')}`), problems: v.problems });
      return;
    }
    const role = res.locals.role as Role;
    const needs = policyChangeNeeds(before, v.policy);
    if (needs.mode.length && !can(role, 'changeMode')) throw new HttpError(403, `changing the mode (${needs.mode.join(', ')}) needs permission changeMode (Admin); you have ${role}`);
    if (needs.loosened.length && !can(role, 'raiseLimits')) throw new HttpError(403, `loosening a limit (${needs.loosened.join(', ')}) needs permission raiseLimits (Admin); you have ${role}`);
    d.engine
      .setPolicy(v.policy, res.locals.user as string)
      .then(async () => {
        d.logger.info({ user: res.locals.user, role: res.locals.role, policy: v.policy }, 'policy changed');
        res.json(await storedPolicy());
      })
      .catch(next);
  });

  api.get('/kill-switch', async (_req, res) => {
    res.json(await d.engine.killSwitch());
  });
  api.put('/kill-switch', need('killSwitch'), (req, res, next) => {
    const shape = '{"enabled": true|false, "reason"?: string}';
    if (!isObject(req.body) || typeof req.body.enabled !== 'boolean') throw new HttpError(400, `body must be ${shape}`);
    const b = objectBody(req.body, ['enabled', 'reason'], shape);
    const reason = noteParam(b.reason, 'reason');
    d.engine
      .setKillSwitch(b.enabled as boolean, reason, res.locals.user as string)
      .then((ks) => res.json(ks))
      .catch(next);
  });
}
