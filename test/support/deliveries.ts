/** Helpers for delivery tests: webhooks written straight to the store, events, logs, waiting. */
import crypto from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Webhook } from '../../src/db/webhook';
import { DeliveryLog } from '../../src/db/deliveryLog';
import { sampleEvent } from '../../src/payloads/samples';
import type { EventEnvelopeV2 } from '../../src/shared/types';
import { call } from './harness';

export const newSecret = () => `whsec_${crypto.randomBytes(32).toString('base64')}`;

export async function createWebhook(organizationId: string, fields: Record<string, unknown> = {}) {
  const slug = `wh-${crypto.randomBytes(4).toString('hex')}`;
  const doc = await Webhook.create({
    organizationId,
    slug,
    name: slug,
    trigger_type: 'automatic',
    version: 'v2',
    triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
    urls: [],
    secrets: [{ value: newSecret(), createdAt: new Date(), expiresAt: null }],
    author_id: 'test',
    ...fields,
  });
  return { id: String(doc._id), secret: doc.secrets[0]?.value as string, doc };
}

/** A sample event of this type with a fresh id (so every test's event is new). */
export function freshEvent(type = 'incident.triggered', id = `evt-${crypto.randomUUID()}`): EventEnvelopeV2 {
  const e = sampleEvent(type);
  e.event.id = id;
  return e;
}

export async function postEvent(api: string, key: string, envelope: unknown) {
  return call(api, 'POST', '/v3/events', { key, body: envelope });
}

/** Posts an event and waits for its workflow's result. */
export async function deliverEvent(api: string, key: string, temporal: Client, envelope: EventEnvelopeV2) {
  const res = await postEvent(api, key, envelope);
  if (res.status !== 202) throw new Error(`post failed: ${res.status} ${JSON.stringify(res.body)}`);
  const result = await temporal.workflow.getHandle(res.body.data.workflow_id).result();
  return { res, result };
}

export async function logsOf(webhookId: string) {
  return DeliveryLog.find({ webhookId }).sort({ timestamp: 1, attempt: 1 }).lean();
}

export async function until<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
