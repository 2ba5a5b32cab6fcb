/**
 * Standard Webhooks ids and signatures (https://www.standardwebhooks.com): `webhook-id` is stable
 * for one delivery; `webhook-signature` is `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for
 * every valid secret, space-separated, so receivers keep verifying while a secret rotates.
 */
import crypto from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** `msg_` + a hash of (organization, event id, webhook id): the same for every retry and URL. */
export function deliveryIdOf(organizationId: string, eventId: string, webhookId: string): string {
  const digest = crypto.createHash('sha256').update(`${organizationId}\n${eventId}\n${webhookId}`).digest('base64url');
  return `msg_${digest.slice(0, 32)}`;
}

export interface StoredSecret {
  value?: string | null;
  expiresAt?: Date | null;
}

/** The secrets that sign at `now`: those without an expiry or expiring later. */
export function activeSecrets(secrets: readonly StoredSecret[], now: Date): string[] {
  return secrets
    .filter((s) => s.value && (!s.expiresAt || s.expiresAt.getTime() > now.getTime()))
    .map((s) => s.value as string);
}

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  const mac = crypto.createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string) {
  return secrets.map((s) => sign(s, id, timestampSeconds, body)).join(' ');
}
