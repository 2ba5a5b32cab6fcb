import { Router } from 'express';
import { canManageWebhooks } from '../../access/keys';
import { Team } from '../../db/team';
import { authOf, requireAuth } from '../auth';

/**
 * `GET /v3/me`: who the key acts as (role, permissions, teams), so a client such as the web console
 * shows what the key may do instead of guessing from 403s. `GET /v3/teams`: the organization's
 * teams, to pick the teams of a manual webhook by name.
 */
export function meRoutes(): Router {
  const router = Router();
  router.get('/v3/me', requireAuth, async (req, res) => {
    const auth = authOf(req);
    const teams = await Team.find({ organizationId: auth.organizationId, _id: { $in: auth.teamIds } }).lean();
    res.json({
      data: {
        organization: { id: auth.organizationId, slug: auth.organizationSlug },
        user_id: auth.userId,
        role: auth.role,
        permissions: auth.permissions,
        can_manage_webhooks: canManageWebhooks(auth),
        teams: teams.map((t) => ({ id: String(t._id), slug: t.slug, name: t.name })),
      },
    });
  });
  router.get('/v3/teams', requireAuth, async (req, res) => {
    const teams = await Team.find({ organizationId: authOf(req).organizationId })
      .sort({ name: 1 })
      .limit(1000)
      .lean();
    res.json({ data: teams.map((t) => ({ id: String(t._id), slug: t.slug, name: t.name })) });
  });
  return router;
}
