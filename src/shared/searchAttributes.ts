import { defineSearchAttributeKey } from '@temporalio/common';
import type { EventEnvelopeV2 } from './types';

/**
 * Custom search attributes set by the delivery workflows, so an admin can find runs in the
 * Temporal Web UI, e.g. `WebhookEventType = "incident.triggered"`. The embedded stack and
 * docker-compose register exactly this list (see SEARCH_ATTRIBUTE_REGISTRATIONS).
 */
export const SA_ORGANIZATION = defineSearchAttributeKey('WebhookOrganization', 'KEYWORD');
export const SA_EVENT_TYPE = defineSearchAttributeKey('WebhookEventType', 'KEYWORD');
export const SA_EVENT_ID = defineSearchAttributeKey('WebhookEventId', 'KEYWORD');
export const SA_WEBHOOK_IDS = defineSearchAttributeKey('WebhookIds', 'KEYWORD_LIST');
export const SA_DELIVERY_STATUS = defineSearchAttributeKey('WebhookDeliveryStatus', 'KEYWORD');

/** `name=Type` pairs as `temporal server start-dev --search-attribute` and the admin CLI take them. */
export const SEARCH_ATTRIBUTE_REGISTRATIONS: readonly string[] = [
  'WebhookOrganization=Keyword',
  'WebhookEventType=Keyword',
  'WebhookEventId=Keyword',
  'WebhookIds=KeywordList',
  'WebhookDeliveryStatus=Keyword',
];

/** The search attributes a delivery workflow starts with (event, manual fire or per-webhook child). */
export function startSearchAttributes(organizationId: string, envelope: EventEnvelopeV2, webhookIds: string[] = []) {
  return [
    { key: SA_ORGANIZATION, value: organizationId },
    { key: SA_EVENT_TYPE, value: envelope.event.type },
    { key: SA_EVENT_ID, value: envelope.event.id },
    ...(webhookIds.length ? [{ key: SA_WEBHOOK_IDS, value: webhookIds }] : []),
  ];
}

/** The same for a delivery started from a log row (a redelivery), which knows the event by type and id only. */
export function deliverySearchAttributes(
  organizationId: string,
  eventType: string,
  eventId: string,
  webhookIds: string[],
) {
  return [
    { key: SA_ORGANIZATION, value: organizationId },
    { key: SA_EVENT_TYPE, value: eventType },
    { key: SA_EVENT_ID, value: eventId },
    ...(webhookIds.length ? [{ key: SA_WEBHOOK_IDS, value: webhookIds }] : []),
  ];
}
