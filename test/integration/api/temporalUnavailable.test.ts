import { createApiKey } from '../../../src/access/keys';
import { RETRY_AFTER_SECONDS } from '../../../src/api/errors';
import { StoredEvent } from '../../../src/db/event';
import { acceptEvent } from '../../../src/events/accept';
import { eventEnvelopeSchema } from '../../../src/events/schema';
import { eventWorkflowId } from '../../../src/shared/workflowIds';
import { connectTemporalClient } from '../../../src/temporal/client';
import { sampleEvent } from '../../../src/payloads/samples';
import { call, startHarness, testConfig, type Harness } from '../../support/harness';
import { startCuttableProxy } from '../../support/proxy';

test('when Temporal cannot be reached, then POST /v3/events answers 503 with Retry-After, and the repost it asks for starts the event', async () => {
  const direct = testConfig();
  const [hostname, port] = direct.TEMPORAL_ADDRESS.split(':');
  const proxy = await startCuttableProxy({ hostname, port });
  const h: Harness = await startHarness({ ...direct, TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}` });
  try {
    const owner = await createApiKey({ org: 'acme', role: 'owner' });
    proxy.cut();
    const event = sampleEvent('incident.triggered');
    event.event.id = `temporal-down-${Date.now()}`;
    const started = Date.now();
    const res = await call(h.api, 'POST', '/v3/events', { key: owner.key, body: event });
    expect(res.status).toBe(503);
    expect(res.body.meta.error_message).toMatch(/Temporal is unreachable/);
    // Bounded by the start deadline, not by the client's own retries (some 20 s).
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
    // Not accepted: nothing half-done is left behind for anyone to finish.
    expect(await StoredEvent.countDocuments({ eventId: event.event.id })).toBe(0);

    // Once Temporal answers again, the repost the 503 asked for starts the event.
    const temporal = await connectTemporalClient(direct);
    try {
      const repost = eventEnvelopeSchema.parse(structuredClone(event));
      const accepted = await acceptEvent({ temporal, config: direct }, owner.organizationId, repost);
      expect(accepted).toMatchObject({
        duplicate: false,
        workflow_id: eventWorkflowId(owner.organizationId, event.event.id),
      });
      const run = await temporal.workflow.getHandle(accepted.workflow_id).describe();
      expect(run.type).toBe('eventDeliveryWorkflow');
    } finally {
      await temporal.connection.close();
    }
  } finally {
    await h.close();
  }
}, 60_000);
