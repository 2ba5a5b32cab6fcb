/**
 * Workflow ids come from business ids, never random ones, so that a repeated start of the same
 * event is refused by Temporal (reject-duplicate policy) and answered as "already accepted".
 */
export const eventWorkflowId = (organizationId: string, eventId: string): string =>
  `event-${organizationId}-${eventId}`;
