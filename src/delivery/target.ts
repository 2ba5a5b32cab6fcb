/**
 * How history names a webhook URL without revealing it (a `UrlTarget`), and how activities find
 * the URL again. Activity side only: workflow code cannot hash.
 */
import crypto from 'node:crypto';
import type { UrlTarget } from '../shared/delivery';
import type { HttpMethod } from '../shared/types';

export const urlKeyOf = (url: string): string => crypto.createHash('sha256').update(url).digest('hex').slice(0, 16);

/** `scheme://host[:port]`, without user info, path or query. */
export function originOf(url: string): string {
  try {
    const parsed = new URL(url);
    // `origin` is "null" for schemes other than http(s) (refused at save anyway).
    return parsed.origin === 'null' ? parsed.protocol : parsed.origin;
  } catch {
    return 'invalid URL';
  }
}

export const urlTargetOf = (url: string, method: HttpMethod, ratePerSecond?: number | null): UrlTarget => ({
  key: urlKeyOf(url),
  method,
  origin: originOf(url),
  // Only when set: unlimited URLs' plans (and histories) stay as they were.
  ...(ratePerSecond ? { ratePerSecond } : {}),
});

/** The URL with this key among a webhook's URLs, or undefined when it is not (or no longer) one of them. */
export function urlByKey(urls: readonly { url?: string | null }[] | null | undefined, key: string): string | undefined {
  for (const u of urls ?? []) if (u.url && urlKeyOf(u.url) === key) return u.url;
  return undefined;
}
