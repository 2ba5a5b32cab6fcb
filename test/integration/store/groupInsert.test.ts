/**
 * The hot path's inserts go through the driver in groups: the rows must be the documents mongoose
 * would have stored, concurrent inserts must share commands, and each caller must get its own
 * document's outcome (inserted, duplicate, or its error) out of a shared command.
 */
import mongoose from 'mongoose';
import type { Collection } from 'mongodb';
import { connectDatabase, disconnectDatabase } from '../../../src/db/connect';
import { DeliveryLog, attemptLogId, insertLogRow, type LogRowInput } from '../../../src/db/deliveryLog';
import { StoredEvent, eventKey, insertEventRecord } from '../../../src/db/event';
import { GroupInserter } from '../../../src/db/groupInsert';
import { groupedInserts } from '../../../src/metrics/registry';
import { testConfig } from '../../support/harness';

const raw = (model: mongoose.Model<any>, _id: unknown) => model.collection.findOne({ _id } as never);

describe('grouped inserts', () => {
  beforeAll(async () => {
    await connectDatabase(testConfig().MONGODB_URI);
  });
  afterAll(async () => {
    await mongoose.connection.db?.dropDatabase();
    await disconnectDatabase();
  });

  const row = (deliveryId: string, extra: Partial<LogRowInput> = {}): LogRowInput => ({
    organizationId: 'org-g',
    webhookId: new mongoose.Types.ObjectId().toString(),
    deliveryId,
    eventId: 'e1',
    eventType: 'incident.triggered',
    url: 'https://example.com/hook',
    method: 'POST',
    attempt: 1,
    maxAttempts: 4,
    trigger: 'event',
    workflowId: 'wf-1',
    outcome: 'delivered',
    test: false,
    timestamp: new Date('2026-12-03T10:15:00Z'),
    ...extra,
  });

  it.each([
    [
      'a delivered attempt',
      {
        status: 200,
        durationMs: 12,
        responseBody: 'ok',
        requestBody: '{"a":1}',
        requestHeaders: [{ name: 'webhook-id', value: 'msg_1' }],
      },
    ],
    [
      'a redelivery round that failed',
      { round: 'r2', outcome: 'failed' as const, error: 'HTTP 500', status: 500, trigger: 'redeliver' as const },
    ],
    ['a row with only what is required', {}],
  ])('stores %s exactly as mongoose does', async (_name, extra) => {
    const viaMongoose = row(`m-${_name}`, extra);
    const viaDriver = { ...viaMongoose, deliveryId: `d-${_name}` };
    await DeliveryLog.create({
      _id: attemptLogId(viaMongoose.deliveryId, viaMongoose.url, 1, viaMongoose.round),
      ...viaMongoose,
    });
    expect(await insertLogRow(viaDriver)).toBe('inserted');
    const {
      _id: _ida,
      deliveryId: _a,
      ...fromMongoose
    } = (await raw(DeliveryLog, attemptLogId(viaMongoose.deliveryId, viaMongoose.url, 1, viaMongoose.round)))!;
    const {
      _id: _idb,
      deliveryId: _b,
      ...fromDriver
    } = (await raw(DeliveryLog, attemptLogId(viaDriver.deliveryId, viaDriver.url, 1, viaDriver.round)))!;
    expect(fromDriver).toEqual(fromMongoose);
    expect(Object.keys(fromDriver).sort()).toEqual(Object.keys(fromMongoose).sort());
  });

  it('stores an event record exactly as mongoose does', async () => {
    const record = {
      organizationId: 'org-g',
      eventType: 'incident.triggered',
      incidentId: 'inc-1',
      eventAt: new Date('2026-12-03T10:00:00Z'),
      body: '{"event":{}}',
      workflowId: 'wf-e',
      runId: 'run-1',
      receivedAt: new Date('2026-12-03T10:00:01Z'),
    };
    await StoredEvent.create({ _id: eventKey('org-g', 'ev-m'), eventId: 'ev-m', ...record });
    expect(await insertEventRecord({ eventId: 'ev-d', ...record })).toBe('inserted');
    expect(await insertEventRecord({ eventId: 'ev-d', ...record })).toBe('duplicate');
    const { _id: _ida, eventId: _a, ...fromMongoose } = (await raw(StoredEvent, eventKey('org-g', 'ev-m')))!;
    const { _id: _idb, eventId: _b, ...fromDriver } = (await raw(StoredEvent, eventKey('org-g', 'ev-d')))!;
    expect(fromDriver).toEqual(fromMongoose);
  });

  it('shares commands among concurrent inserts and tells each caller its own outcome', async () => {
    const before =
      (await groupedInserts.get()).values.find(
        (v) =>
          v.metricName === 'hookrelay_store_insert_batch_size_count' &&
          v.labels.collection === DeliveryLog.collection.collectionName,
      )?.value ?? 0;
    // 60 attempts, each written twice at once (a retried write): 60 inserted, 60 duplicates.
    const rows = Array.from({ length: 60 }, (_, i) => row(`c-${i}`));
    const outcomes = await Promise.all([...rows, ...rows].map((r) => insertLogRow(r)));
    expect(outcomes.filter((o) => o === 'inserted')).toHaveLength(60);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(60);
    for (let i = 0; i < 60; i++) expect([outcomes[i], outcomes[i + 60]].sort()).toEqual(['duplicate', 'inserted']);
    expect(await DeliveryLog.countDocuments({ deliveryId: { $in: rows.map((r) => r.deliveryId) } })).toBe(60);
    const after = (await groupedInserts.get()).values.find(
      (v) =>
        v.metricName === 'hookrelay_store_insert_batch_size_count' &&
        v.labels.collection === DeliveryLog.collection.collectionName,
    )!.value;
    // The first command goes alone; the rest queue behind it and go in a few.
    expect(after - before).toBeLessThan(10);
  });

  it('fails only the document the store refused, not the others of its command', async () => {
    const inserter = new GroupInserter(() => mongoose.connection.db!.collection('group_insert_probe') as Collection);
    const results = await Promise.allSettled([
      inserter.insert({ _id: 'first' }),
      inserter.insert({ _id: 'ok-1' }),
      inserter.insert({ _id: ['an', 'array'] }), // no store takes an array as _id
      inserter.insert({ _id: 'ok-2' }),
      inserter.insert({ _id: 'ok-1' }),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([
      'inserted',
      'inserted',
      'rejected',
      'inserted',
      'duplicate',
    ]);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(Error);
    const ids = await mongoose.connection.db!.collection('group_insert_probe').distinct('_id');
    expect(ids.sort()).toEqual(['first', 'ok-1', 'ok-2']);
  });
});
