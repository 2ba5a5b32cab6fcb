import type { Config } from '../config';
import type { EventLag } from '../events/lag';
import type { Logger } from '../logger';
import { createMailer, type Mailer } from '../mail/mailer';
import { createSlotClaimer } from '../rateLimit/slots';
import { deliveryActivities } from './deliver';
import { eventActivities } from './events';
import { failureActivities } from './failures';
import { rateLimitActivities } from './rateLimit';
import { redeliveryActivities } from './redelivery';
import { templateActivities } from './templates';
import { webhookActivities } from './webhooks';

export interface ActivityDeps {
  config: Config;
  logger: Logger;
  /** Defaults to SMTP from the configuration (none without SMTP_URL: mails are only stored). */
  mailer?: Mailer | null;
  /** Where the runs' first steps report how late they start (MAX_EVENT_LAG_MS), if the API shares this process. */
  eventLag?: EventLag;
}

/**
 * Every activity the worker registers, built once with its dependencies. Workflows type their
 * proxies with `ReturnType<typeof createActivities>` through a type-only import.
 */
export function createActivities(deps: ActivityDeps) {
  const mailer = deps.mailer === undefined ? createMailer(deps.config) : deps.mailer;
  // One per worker: its claims for a URL queue up instead of racing each other.
  const claimSlot = createSlotClaimer();
  return {
    ...webhookActivities(deps),
    ...eventActivities(deps),
    ...deliveryActivities({ config: deps.config, claimSlot }),
    ...failureActivities({ config: deps.config, mailer }),
    ...templateActivities(deps),
    ...rateLimitActivities({ claimSlot }),
    ...redeliveryActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
