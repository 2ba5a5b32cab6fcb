import { loadConfig } from '../../../src/config';
import { ApiKey } from '../../../src/db/apiKey';
import { connectDatabase, disconnectDatabase } from '../../../src/db/connect';
import { AttemptInFlight, DeliveryLog } from '../../../src/db/deliveryLog';
import { StoredEvent, eventKey } from '../../../src/db/event';
import { FailureMail } from '../../../src/db/mail';
import { directStore } from '../../../src/db/postgresDirect';
import { Organization } from '../../../src/db/organization';
import { RetentionMark } from '../../../src/db/retentionMark';
import { Webhook } from '../../../src/db/webhook';
import type { Logger } from '../../../src/logger';
import {
  deleteDataOlderThan,
  retentionCutoff,
  runRetentionSweeper,
  sweepExpiredData,
  type RetentionCounts,
} from '../../../src/retention/sweep';
import { until } from '../../support/deliveries';
import { testConfig } from '../../support/harness';

const DAY = 24 * 60 * 60 * 1000;
const ORGS = ['org-a', 'org-b'];
const now = new Date();
const ago = (ms: number) => new Date(now.getTime() - ms);
/** With 30 days' retention: just past the cutoff (deleted), just inside it and recent (kept). */
const OLD = { long: ago(400 * DAY), edge: ago(30 * DAY + 1000) };
const KEPT = { edge: ago(30 * DAY - 60_000), recent: ago(60_000) };

const attemptRow = (organizationId: string, name: string, timestamp: Date) => ({
  organizationId,
  webhookId: `wh-${organizationId}`,
  deliveryId: `msg_${organizationId}_${name}`,
  eventId: `evt-${name}`,
  eventType: 'incident.triggered',
  url: 'https://example.com/hook',
  method: 'POST',
  attempt: 1,
  maxAttempts: 4,
  timestamp,
});

async function insertLog(organizationId: string, name: string, timestamp: Date) {
  await DeliveryLog.create({ ...attemptRow(organizationId, name, timestamp), outcome: 'delivered', status: 200 });
  return `msg_${organizationId}_${name}`;
}

async function insertEvent(organizationId: string, name: string, receivedAt: Date) {
  const _id = eventKey(organizationId, `evt-${name}`);
  await StoredEvent.create({
    _id,
    organizationId,
    eventId: `evt-${name}`,
    eventType: 'incident.triggered',
    eventAt: receivedAt,
    body: '{}',
    workflowId: `wf-${_id}`,
    receivedAt,
  });
  return _id;
}

/** Written through the model (so `created_at` is the field the app writes), then backdated. */
async function insertMail(organizationId: string, name: string, createdAt: Date) {
  const _id = `mail-${organizationId}-${name}`;
  await FailureMail.create({
    _id,
    organizationId,
    webhookId: `wh-${organizationId}`,
    url: 'https://example.com/hook',
    to: ['oncall@example.com'],
    subject: 'failed',
    text: 'failed',
    status: 'stored',
  });
  await FailureMail.collection.updateOne({ _id: _id as never }, { $set: { created_at: createdAt } });
  return _id;
}

/** Everything the sweep must never touch, each one older than any cutoff. */
async function insertUntouchables(organizationId: string) {
  const long = OLD.long;
  await AttemptInFlight.create({
    _id: `inflight-${organizationId}`,
    ...attemptRow(organizationId, 'inflight', long),
    trigger: 'event',
  });
  // Raw inserts: mongoose would stamp createdAt with now.
  await Organization.collection.insertOne({ slug: organizationId, name: organizationId, createdAt: long });
  await ApiKey.collection.insertOne({
    organizationId,
    userId: 'u',
    hash: `hash-${organizationId}`,
    prefix: 'hr_',
    createdAt: long,
  });
  await Webhook.collection.insertOne({
    organizationId,
    slug: `wh-${organizationId}`,
    name: 'wh',
    trigger_type: 'automatic',
    author_id: 'test',
    created_at: long,
    updated_at: long,
  });
}

interface Seeded {
  oldLogs: string[];
  keptLogs: string[];
  oldEvents: string[];
  keptEvents: string[];
  oldMails: string[];
  keptMails: string[];
}

async function seed(): Promise<Seeded> {
  const s: Seeded = {
    oldLogs: [],
    keptLogs: [],
    oldEvents: [],
    keptEvents: [],
    oldMails: [],
    keptMails: [],
  };
  for (const org of ORGS) {
    for (const [name, at] of Object.entries(OLD)) {
      s.oldLogs.push(await insertLog(org, `old-${name}`, at));
      s.oldEvents.push(await insertEvent(org, `old-${name}`, at));
      s.oldMails.push(await insertMail(org, `old-${name}`, at));
    }
    for (const [name, at] of Object.entries(KEPT)) {
      s.keptLogs.push(await insertLog(org, `kept-${name}`, at));
      s.keptEvents.push(await insertEvent(org, `kept-${name}`, at));
      s.keptMails.push(await insertMail(org, `kept-${name}`, at));
    }
    await insertUntouchables(org);
  }
  return s;
}

const sorted = (ids: string[]) => [...ids].sort();
const logIds = async () => sorted((await DeliveryLog.find({}, { deliveryId: 1 }).lean()).map((r) => r.deliveryId));
const eventIds = async () => sorted((await StoredEvent.find({}, { _id: 1 }).lean()).map((r) => r._id));
const mailIds = async () => sorted((await FailureMail.find({}, { _id: 1 }).lean()).map((r) => String(r._id)));

async function clearAll() {
  for (const m of [
    DeliveryLog,
    StoredEvent,
    FailureMail,
    AttemptInFlight,
    Organization,
    ApiKey,
    Webhook,
    RetentionMark,
  ]) {
    await m.collection.deleteMany({});
  }
}

async function expectUntouchablesKept() {
  expect(await AttemptInFlight.countDocuments()).toBe(ORGS.length);
  expect(await Organization.countDocuments()).toBe(ORGS.length);
  expect(await ApiKey.countDocuments()).toBe(ORGS.length);
  expect(await Webhook.countDocuments()).toBe(ORGS.length);
}

const silentLogger = () => {
  const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  return logger satisfies Logger;
};

// Both ways a store is swept: mongoose queries (MongoDB, any store), and the embedded store's
// PostgreSQL when the stack runs on one (STORE_POSTGRES_URL).
const sweepPaths: [string, string | undefined][] = [['mongoose queries', undefined]];
if (process.env.STORE_POSTGRES_URL) sweepPaths.push(["the store's PostgreSQL", process.env.STORE_POSTGRES_URL]);

describe.each(sweepPaths)('data retention sweep through %s', (_path, storePostgresUrl) => {
  beforeAll(async () => {
    await connectDatabase(testConfig().MONGODB_URI, storePostgresUrl);
    expect(directStore() !== null).toBe(storePostgresUrl !== undefined);
  });
  /** What deletes log rows on this path: watched for batches, broken for a failing sweep. */
  const logDeletes = () => {
    const direct = directStore();
    return direct ? jest.spyOn(direct, 'query') : jest.spyOn(DeliveryLog, 'deleteMany');
  };
  afterAll(async () => {
    await disconnectDatabase();
  });
  let seeded: Seeded;
  beforeEach(async () => {
    jest.restoreAllMocks();
    await clearAll();
    seeded = await seed();
  });

  test('when DATA_RETENTION_DAYS is unset, then it is 30; 0 is allowed and negative refused', () => {
    expect(loadConfig({}).DATA_RETENTION_DAYS).toBe(30);
    expect(loadConfig({ DATA_RETENTION_DAYS: '0' }).DATA_RETENTION_DAYS).toBe(0);
    expect(() => loadConfig({ DATA_RETENTION_DAYS: '-1' })).toThrow(/DATA_RETENTION_DAYS/);
    expect(retentionCutoff(0, now)).toBeNull();
    expect(retentionCutoff(30, now)).toEqual(ago(30 * DAY));
  });

  test('when the store is connected, then each swept key has its own index (MongoDB then needs no scan)', async () => {
    const keys = async (m: { collection: { indexes(): Promise<{ key: Record<string, unknown> }[]> } }) =>
      (await m.collection.indexes()).map((i) => i.key);
    expect(await keys(DeliveryLog)).toContainEqual({ period: 1 });
    expect(await keys(StoredEvent)).toContainEqual({ period: 1 });
    expect(await keys(FailureMail)).toContainEqual({ created_at: 1 });
  });

  test('when swept with 30 days, then exactly the older logs, events and mails of both organizations are deleted', async () => {
    const counts = await sweepExpiredData(30, now);

    expect(counts).toEqual<RetentionCounts>({
      deliveryLogs: seeded.oldLogs.length,
      events: seeded.oldEvents.length,
      mails: seeded.oldMails.length,
    });
    expect(counts.deliveryLogs).toBe(4);
    expect(await logIds()).toEqual(sorted(seeded.keptLogs));
    expect(await eventIds()).toEqual(sorted(seeded.keptEvents));
    expect(await mailIds()).toEqual(sorted(seeded.keptMails));
    await expectUntouchablesKept();

    // Nothing left to delete: a second sweep deletes nothing more.
    expect(await sweepExpiredData(30, now)).toEqual({ deliveryLogs: 0, events: 0, mails: 0 });
    expect(await logIds()).toEqual(sorted(seeded.keptLogs));
  });

  test('when more has expired than one batch, then batches delete all of it and nothing else', async () => {
    // Mails in batches of 3 against 4 expired; logs and events hour by hour (the store refuses a
    // delete of tens of thousands at once, so sweeps go in batches).
    const deletes = logDeletes();
    const counts = await deleteDataOlderThan(KEPT.edge, 3);
    expect(counts).toEqual({ deliveryLogs: 4, events: 4, mails: 4 });
    // Really in batches: a full one of 3 (at least), then the rest.
    expect(deletes.mock.calls.length).toBeGreaterThanOrEqual(2);
    deletes.mockRestore();
    expect(await logIds()).toEqual(sorted(seeded.keptLogs));
    expect(await eventIds()).toEqual(sorted(seeded.keptEvents));
    expect(await mailIds()).toEqual(sorted(seeded.keptMails));
    await expectUntouchablesKept();
    expect(await deleteDataOlderThan(KEPT.edge, 2)).toEqual({ deliveryLogs: 0, events: 0, mails: 0 });
  });

  test('when given a cutoff, then rows at the cutoff are kept and those before it deleted', async () => {
    const counts = await deleteDataOlderThan(KEPT.edge);
    expect(counts).toEqual({ deliveryLogs: 4, events: 4, mails: 4 });
    expect(await logIds()).toEqual(sorted(seeded.keptLogs));
    expect(await eventIds()).toEqual(sorted(seeded.keptEvents));
    expect(await mailIds()).toEqual(sorted(seeded.keptMails));
  });

  test('when DATA_RETENTION_DAYS is 0, then nothing is deleted', async () => {
    const before = { logs: await logIds(), events: await eventIds(), mails: await mailIds() };
    expect(before.logs).toHaveLength(8);

    expect(await sweepExpiredData(0, now)).toEqual({ deliveryLogs: 0, events: 0, mails: 0 });
    expect({ logs: await logIds(), events: await eventIds(), mails: await mailIds() }).toEqual(before);
    await expectUntouchablesKept();
  });

  test('when the API runs the sweeper, then it sweeps at start and every interval, logs counts, and its timer does not hold the process', async () => {
    const logger = silentLogger();
    const setIntervalSpy = jest.spyOn(global, 'setInterval');
    const stop = runRetentionSweeper({ retentionDays: 30, logger }, 100);
    try {
      const timer = setIntervalSpy.mock.results[0]?.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);

      await until(async () => logger.info.mock.calls.length === 1, 10_000, 'the first sweep');
      expect(logger.info).toHaveBeenCalledWith('retention sweep deleted old data', {
        retentionDays: 30,
        deliveryLogs: 4,
        events: 4,
        mails: 4,
      });
      expect(await logIds()).toEqual(sorted(seeded.keptLogs));

      // A later tick finds what aged past the cutoff since.
      const late = await insertLog('org-b', 'late', new Date(Date.now() - 30 * DAY - 1000));
      await until(async () => (await DeliveryLog.countDocuments({ deliveryId: late })) === 0, 10_000, 'a later sweep');
      await until(async () => logger.info.mock.calls.length === 2, 10_000, 'its log line');
      expect(logger.info.mock.calls[1][1]).toMatchObject({ deliveryLogs: 1, events: 0, mails: 0 });
      expect(logger.error).not.toHaveBeenCalled();
    } finally {
      await stop();
    }
  });

  test('when a sweep deletes nothing, then nothing is logged', async () => {
    await sweepExpiredData(30, now);
    const logger = silentLogger();
    const deletes = jest.spyOn(FailureMail, 'deleteMany');
    const stop = runRetentionSweeper({ retentionDays: 30, logger }, 50);
    try {
      // FailureMail is swept last: two calls mean at least one whole sweep has finished.
      await until(async () => deletes.mock.calls.length >= 2, 10_000, 'two sweeps');
      expect(logger.info).not.toHaveBeenCalled();
      expect(logger.error).not.toHaveBeenCalled();
    } finally {
      await stop();
    }
  });

  test('when a sweep fails, then the error is logged, not thrown, and the next sweep deletes', async () => {
    const logger = silentLogger();
    logDeletes().mockImplementationOnce(() => {
      throw new Error('store unavailable');
    });
    const stop = runRetentionSweeper({ retentionDays: 30, logger }, 50);
    try {
      await until(async () => logger.error.mock.calls.length === 1, 10_000, 'the failure');
      expect(logger.error).toHaveBeenCalledWith('retention sweep failed', { err: expect.any(Error) });
      await until(async () => logger.info.mock.calls.length === 1, 10_000, 'the next sweep');
      expect(await logIds()).toEqual(sorted(seeded.keptLogs));
      expect(logger.error).toHaveBeenCalledTimes(1);
    } finally {
      await stop();
    }
  });

  test('when DATA_RETENTION_DAYS is 0, then the sweeper never touches the store', async () => {
    const logger = silentLogger();
    const deletes = logDeletes();
    const stop = runRetentionSweeper({ retentionDays: 0, logger }, 10);
    await new Promise((r) => setTimeout(r, 200));
    await stop();
    expect(deletes).not.toHaveBeenCalled();
    expect(await logIds()).toHaveLength(8);
  });
});
