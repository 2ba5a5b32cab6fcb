/**
 * Webhook signing secrets: `whsec_` + base64 of 32 random bytes (the Standard Webhooks format).
 * A webhook keeps its secrets newest first; rotating adds a new one and lets the previous one
 * sign too until `expiresAt`, so receivers can switch without dropping deliveries.
 */
import crypto from 'node:crypto';

export interface StoredSecret {
  value: string;
  createdAt: Date;
  expiresAt: Date | null;
}

export const newSecretValue = (): string => `whsec_${crypto.randomBytes(32).toString('base64')}`;

export const freshSecret = (now: Date): StoredSecret => ({ value: newSecretValue(), createdAt: now, expiresAt: null });

/**
 * The secrets after a rotation at `now`: a new current one, and the previous ones valid for at
 * most `graceMs` more (never extended). A grace of 0 retires every previous secret at once, for
 * a secret that leaked.
 */
export function rotateSecrets(secrets: readonly StoredSecret[], now: Date, graceMs: number): StoredSecret[] {
  const graceEnd = new Date(now.getTime() + graceMs);
  const previous = secrets.map((s) => ({
    value: s.value,
    createdAt: s.createdAt,
    expiresAt: s.expiresAt === null || s.expiresAt > graceEnd ? graceEnd : s.expiresAt,
  }));
  return [freshSecret(now), ...previous.filter((s) => s.expiresAt !== null && s.expiresAt > now)];
}
