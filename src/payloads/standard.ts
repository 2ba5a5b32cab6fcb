/**
 * The standard request body of a webhook for an event. Pure: the workflows build payloads with it,
 * and the API's test sends use it too.
 */
import { v1EventTypeFor } from '../shared/catalog';
import type { EventEnvelopeV2, WebhookVersion } from '../shared/types';
import { toV1Payload } from './v1';

/** v2: the envelope as received (its organization already set); v1: derived from the incident. */
export function standardBody(version: WebhookVersion, envelope: EventEnvelopeV2): string {
  if (version === 'v2') return JSON.stringify(envelope);
  const v1Type = v1EventTypeFor(envelope.event.type);
  if (!v1Type) throw new Error(`v1 webhooks do not receive ${envelope.event.type}`);
  return JSON.stringify(toV1Payload(envelope, v1Type));
}
