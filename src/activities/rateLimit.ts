import { withStoreRetry } from '../db/storeRetry';
import { slotKeyOf, type SlotClaimer } from '../rateLimit/slots';

export function rateLimitActivities(deps: { claimSlot: SlotClaimer }) {
  const { claimSlot } = deps;
  return {
    /**
     * Reserves the next start time for an attempt to a rate-limited URL (see src/rateLimit/slots.ts)
     * and returns it as epoch ms and as the wait from now; the workflow waits on a timer that long. Not idempotent: a retry
     * (or a replayed local activity) reserves another slot, which only leaves a gap in the
     * schedule, never two attempts in one slot. Store errors are retried.
     */
    async claimDeliverySlot(input: {
      organizationId: string;
      webhookId: string;
      urlKey: string;
      perSecond: number;
    }): Promise<{ slotAt: number; waitMs: number }> {
      const key = slotKeyOf(input.organizationId, input.webhookId, input.urlKey, input.perSecond);
      const slotAt = await withStoreRetry(() => claimSlot(key, input.perSecond));
      // The wait as of now: the workflow's clock stands still while its local activities run.
      return { slotAt, waitMs: Math.max(0, Math.ceil(slotAt - Date.now())) };
    },
  };
}
