import { attemptLogId, deliveryLogKeys, periodOf } from '../../../src/db/deliveryLog';
import { mergePage, type InFlightRow, type LogRow } from '../../../src/deliveryLogs/view';

const base = (deliveryId: string, at: number) => ({
  organizationId: 'org',
  webhookId: 'wh',
  deliveryId,
  eventId: `evt-${deliveryId}`,
  eventType: 'incident.triggered',
  url: 'https://example.com/hook',
  method: 'POST',
  attempt: 1,
  maxAttempts: 3,
  requestHeaders: [{ name: 'webhook-signature', value: 'v1,********' }],
  requestBody: '{}',
  workflowId: null,
  timestamp: new Date(at),
});
const row = (deliveryId: string, at: number, outcome = 'delivered'): LogRow =>
  ({
    _id: attemptLogId(deliveryId, 'https://example.com/hook', 1),
    ...base(deliveryId, at),
    outcome,
    status: 200,
    error: null,
    durationMs: 5,
    responseBody: 'ok',
    trigger: 'event',
    test: false,
  }) as unknown as LogRow;
const mark = (deliveryId: string, at: number): InFlightRow =>
  ({ _id: `${deliveryId}:1`, ...base(deliveryId, at), trigger: 'event' }) as unknown as InFlightRow;

describe('mergePage', () => {
  const rows = [row('d5', 5000), row('d3', 3000), row('d1', 1000)];

  test('when attempts are in flight, then they are merged with the finished rows newest first, as in_progress with the id their row will get', () => {
    const page = mergePage(rows, [mark('d4', 4000)], 0, 10);
    expect(page.map((a) => a.delivery_id)).toEqual(['d5', 'd4', 'd3', 'd1']);
    expect(page[1]).toMatchObject({
      id: String(attemptLogId('d4', 'https://example.com/hook', 1)),
      outcome: 'in_progress',
      status: null,
      response: null,
      request: { headers: { 'webhook-signature': 'v1,********' }, body: '{}' },
    });
    expect(page[0]).toMatchObject({ outcome: 'delivered', status: 200, response: { body: 'ok' }, duration_ms: 5 });
  });

  test('when an offset and limit are given, then the page is cut from the merged list', () => {
    expect(mergePage(rows, [mark('d4', 4000)], 1, 2).map((a) => a.delivery_id)).toEqual(['d4', 'd3']);
    expect(mergePage(rows, [], 3, 2)).toEqual([]);
  });

  test('when two attempts have the same time, then the larger id comes first (MongoDB’s _id: -1)', () => {
    const a = row('a', 1000);
    const b = row('b', 1000);
    const [first] = mergePage([a, b], [], 0, 1);
    expect(first.id).toBe([String(a._id), String(b._id)].sort().reverse()[0]);
  });
});

describe('bucket keys', () => {
  test('when a row is keyed, then its hour and day belong to its webhook and its period names month, day and hour (UTC)', () => {
    const at = new Date('2026-11-03T04:59:59.999Z');
    expect(deliveryLogKeys('wh1', at)).toEqual({
      logHour: 'wh1@2026-11-03T04',
      logDay: 'wh1@2026-11-03',
      period: ['2026-11', '2026-11-03', '2026-11-03T04'],
    });
    expect(periodOf(new Date('2026-12-31T23:00:00Z'))).toEqual(['2026-12', '2026-12-31', '2026-12-31T23']);
  });
});
