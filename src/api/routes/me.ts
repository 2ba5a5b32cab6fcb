import { Router } from 'express';
import { canManageWebhooks } from '../../access/keys';
import { Team } from '../../db/team';
import { authOf, requireAuth } from '../auth';
import type { ApiOperation } from '../../openapi/operation';
import { dataOf, meSchema, teamsSchema } from '../../openapi/responses';

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

export const meOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/v3/me',
    summary: 'Who the key acts as: organization, role, permissions, teams',
    tag: 'Access',
    access: 'key',
    responses: { 200: { description: 'The caller', schema: dataOf(meSchema) } },
  },
  {
    method: 'get',
    path: '/v3/teams',
    summary: "The organization's teams",
    tag: 'Access',
    access: 'key',
    responses: { 200: { description: 'Teams by name', schema: dataOf(teamsSchema) } },
  },
];
