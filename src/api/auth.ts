import type { NextFunction, Request, Response } from 'express';
import { authenticateKeyCached, canManageWebhooks } from '../access/keys';
import type { AuthContext } from '../shared/types';
import { AppError } from '../shared/errors';
import { refuseIfAnsweredAtDeadline } from '../shared/requestScope';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by requireAuth: the organization and user the API key acts as. */
    auth?: AuthContext;
  }
}

/** Any valid, unrevoked key: 401 otherwise. */
export async function requireAuth(req: Request, _res: Response, next: NextFunction): Promise<void> {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw AppError.unauthorized('missing API key: send Authorization: Bearer <key>');
  // The app's AUTH_CACHE_TTL_MS (see createApp).
  const auth = await authenticateKeyCached(match[1], Number(req.app.get('authCacheTtlMs') ?? 0));
  // Answered 503 at its deadline while the key was read (a frozen store): the route must not act now.
  refuseIfAnsweredAtDeadline();
  if (!auth) throw AppError.unauthorized('invalid or revoked API key');
  req.auth = auth;
  next();
}

/** Owners and holders of `manage_webhook`: 403 otherwise. Use after requireAuth. */
export function requireWebhookManager(req: Request, _res: Response, next: NextFunction): void {
  if (!canManageWebhooks(authOf(req))) {
    throw AppError.forbidden('managing webhooks needs the owner role or the manage_webhook permission');
  }
  next();
}

/** The caller of a request that passed requireAuth. */
export function authOf(req: Request): AuthContext {
  if (!req.auth) throw new Error('authOf() used on a route without requireAuth');
  return req.auth;
}
