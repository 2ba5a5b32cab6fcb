/**
 * "Test webhook": one real request per URL, no retries, answered synchronously. Runs in the API
 * process rather than through Temporal because it must also work for an unsaved config, whose
 * header values and secret may not go into workflow history. Every attempt is logged with
 * `test: true`.
 */
import crypto from 'node:crypto';
import { StoredEvent } from '../db/event';
import { organizationName } from '../access/organizations';
import { sampleEvent } from '../payloads/samples';
import { V1_FROM_V2 } from '../shared/catalog';
import type { EventEnvelopeV2, WebhookVersion } from '../shared/types';
import { attemptAndLog, type AttemptConfig } from '../delivery/attempt';
import { renderCustomBody } from '../delivery/custom';
import type { TemplateConfig } from '../templates/engine';
import { standardBody } from '../payloads/standard';
import { responseExcerpt } from '../delivery/request';
import { deliveryIdOf } from '../delivery/signing';
import { refuseIfAnsweredAtDeadline } from '../shared/requestScope';

export interface TestTarget {
  organizationId: string;
  /** The saved webhook's id, or `unsaved` for a config that was not saved. */
  webhookId: string;
  trigger_type: string;
  version: WebhookVersion;
  triggers: { event_type?: string | null }[];
  urls: { url?: string | null; method?: string | null }[];
  headers: { name?: string | null; value?: string | null }[];
  secrets: string[];
  payload_type: string;
  custom_payload: string;
}

export interface TestUrlResult {
  url: string;
  method: string;
  outcome: 'delivered' | 'failed';
  status: number | null;
  error: string | null;
  duration_ms: number;
  response_body: string;
}

export interface TestResult {
  event_type: string;
  event_id: string;
  delivery_id: string;
  results: TestUrlResult[];
}

/** The v2 event type a test sends: the first trigger (manual webhooks: incident.triggered). */
export function testEventType(target: Pick<TestTarget, 'trigger_type' | 'version' | 'triggers'>): string {
  const first = target.trigger_type === 'automatic' ? target.triggers[0]?.event_type : undefined;
  if (!first) return 'incident.triggered';
  return target.version === 'v1' ? (V1_FROM_V2[first] ?? 'incident.triggered') : first;
}

/** The last real event of that type in the organization, else the built-in sample. */
export async function testEvent(organizationId: string, eventType: string): Promise<EventEnvelopeV2> {
  const last = await StoredEvent.findOne({ organizationId, eventType }, { body: 1 }).sort({ receivedAt: -1 }).lean();
  if (last) return JSON.parse(last.body) as EventEnvelopeV2;
  const sample = sampleEvent(eventType);
  sample.data.organization = { id: organizationId, name: await organizationName(organizationId) };
  return sample;
}

/** Builds the body (a custom template's errors are thrown as TemplateError) and sends it to every URL. */
export async function sendTest(target: TestTarget, config: AttemptConfig & TemplateConfig): Promise<TestResult> {
  const envelope = await testEvent(target.organizationId, testEventType(target));
  const body =
    target.payload_type === 'custom'
      ? await renderCustomBody(target.custom_payload, envelope, config, target)
      : standardBody(target.version, envelope);
  const eventId = `test-${crypto.randomUUID()}`;
  const deliveryId = deliveryIdOf(target.organizationId, eventId, target.webhookId);
  refuseIfAnsweredAtDeadline();
  const results = await Promise.all(
    target.urls
      .filter((u) => u.url)
      .map(async (u): Promise<TestUrlResult> => {
        const url = u.url as string;
        const method = (u.method ?? 'POST').toUpperCase();
        const { verdict, result } = await attemptAndLog(
          {
            organizationId: target.organizationId,
            webhookId: target.webhookId,
            deliveryId,
            eventId,
            eventType: envelope.event.type,
            url,
            method,
            body,
            attempt: 1,
            maxAttempts: 1,
            extraHeaders: target.headers,
            secrets: target.secrets,
            trigger: 'test',
            workflowId: null,
          },
          config,
        );
        return {
          url,
          method,
          outcome: verdict.kind,
          status: result.status ?? null,
          error: verdict.kind === 'failed' ? verdict.error : null,
          duration_ms: result.durationMs,
          response_body: responseExcerpt(result.responseBody),
        };
      }),
  );
  return { event_type: envelope.event.type, event_id: envelope.event.id, delivery_id: deliveryId, results };
}
