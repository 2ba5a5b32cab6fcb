/**
 * `npm run record-histories`: runs today's workflow code on a throw-away embedded stack (real
 * Temporal dev server, real store, receivers and SMTP on 127.0.0.1) through one run per scenario,
 * and writes each run's `{workflowId, history}` to test/fixtures/histories/<name>.json (the id is
 * needed: the workflow derives child ids from it). The unit test
 * test/unit/replay replays them against the current workflow code, so a change that would break
 * runs in flight fails there (change workflow code through patched(), then record new histories
 * beside the old ones: old ones must keep replaying).
 *
 * An existing file is never overwritten: a new recording of it is written as
 * <name>.<UTC time>.json beside it. `--replace` overwrites instead (once the patch that kept the
 * old histories replaying is removed). `--only name,name` records only those scenarios.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createApiKey } from '../src/access/keys';
import { DeliveryLog } from '../src/db/deliveryLog';
import { Webhook } from '../src/db/webhook';
import { INLINE_DELIVERY_LIMIT, webhookChildWorkflowId } from '../src/shared/delivery';
import { freePorts, startStack } from '../src/stack';
import { ensureJsonnetEvaluator } from '../src/stack/binaries';
import { closeSharedTemplateEngine } from '../src/templates/engine';
import { waitForTemporal } from '../src/temporal/client';
import { createWebhook, deliverEvent, freshEvent, postEvent } from '../test/support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness } from '../test/support/harness';
import { startReceiver, type Receiver } from '../test/support/receiver';
import { startSmtp, type SmtpCatcher } from '../test/support/smtp';

const root = path.resolve(__dirname, '..');
const HISTORIES_DIR = path.join(root, 'test/fixtures/histories');

interface Scene {
  h: Harness;
  receiver: Receiver;
  smtp: SmtpCatcher;
  /** A fresh organization (and owner key), so only this scenario's webhooks match its events. */
  owner(): Promise<{ key: string; organizationId: string; teamIds: string[] }>;
}

/** Each scenario runs one workflow to its end and returns the ids of the runs to keep, by file name. */
type Scenario = (scene: Scene) => Promise<Record<string, string>>;

const url = (s: Scene, p: string) => ({ url: `${s.receiver.url}${p}`, method: 'POST' });

const scenarios: Record<string, Scenario> = {
  async 'event-delivered-two-urls'(s) {
    const owner = await s.owner();
    await createWebhook(owner.organizationId, { urls: [url(s, '/ok-a'), url(s, '/ok-b')] });
    const { res } = await deliverEvent(s.h.api, owner.key, s.h.temporal, freshEvent());
    return { 'event-delivered-two-urls': res.body.data.workflow_id };
  },

  async 'event-failed-after-retries-mailed'(s) {
    const owner = await s.owner();
    await createWebhook(owner.organizationId, {
      urls: [url(s, '/down')],
      max_retry: 2,
      mail_ids: ['oncall@acme.test'],
    });
    const mails = s.smtp.mails.length;
    const { res } = await deliverEvent(s.h.api, owner.key, s.h.temporal, freshEvent());
    await s.smtp.waitForMails(mails + 1);
    return { 'event-failed-after-retries-mailed': res.body.data.workflow_id };
  },

  async 'event-cancelled-webhook-disabled'(s) {
    const owner = await s.owner();
    const wh = await createWebhook(owner.organizationId, { urls: [url(s, '/disable-me')], max_retry: 8 });
    let hits = 0;
    s.receiver.setHandler((req) => {
      if (req.path === '/disable-me' && ++hits === 2) {
        void Webhook.updateOne({ _id: wh.id }, { $set: { enabled: false } }).exec();
      }
      return replies(req.path);
    });
    try {
      const { res } = await deliverEvent(s.h.api, owner.key, s.h.temporal, freshEvent());
      return { 'event-cancelled-webhook-disabled': res.body.data.workflow_id };
    } finally {
      s.receiver.setHandler((req) => replies(req.path));
    }
  },

  async 'event-fan-out-children'(s) {
    const owner = await s.owner();
    // Two webhooks whose URLs together pass the inline limit: one child workflow per webhook.
    const per = Math.floor(INLINE_DELIVERY_LIMIT / 2) + 1;
    const urls = (tag: string) => Array.from({ length: per }, (_, i) => url(s, `/fan-${tag}-${i}`));
    const first = await createWebhook(owner.organizationId, { urls: urls('a') });
    await createWebhook(owner.organizationId, { urls: urls('b') });
    const { res } = await deliverEvent(s.h.api, owner.key, s.h.temporal, freshEvent());
    const parent: string = res.body.data.workflow_id;
    return {
      'event-fan-out-parent': parent,
      'event-fan-out-child': webhookChildWorkflowId(parent, first.id),
    };
  },

  async 'event-custom-payload'(s) {
    const owner = await s.owner();
    await createWebhook(owner.organizationId, {
      payload_type: 'custom',
      custom_payload: `{ text: 'Incident: ' + root.data.resource_data.message, type: root.event.type }`,
      urls: [url(s, '/custom')],
    });
    const { res } = await deliverEvent(s.h.api, owner.key, s.h.temporal, freshEvent());
    return { 'event-custom-payload': res.body.data.workflow_id };
  },

  async 'event-custom-payload-render-failed'(s) {
    const owner = await s.owner();
    await createWebhook(owner.organizationId, {
      payload_type: 'custom',
      custom_payload: `{ a: root.data.no_such_field.x }`,
      urls: [url(s, '/never')],
    });
    const { res } = await deliverEvent(s.h.api, owner.key, s.h.temporal, freshEvent());
    return { 'event-custom-payload-render-failed': res.body.data.workflow_id };
  },

  async 'event-rate-limited'(s) {
    const owner = await s.owner();
    // A URL limited to 2/s that fails once, beside an unlimited one: the second event's first
    // attempt waits for a slot (a timer), and its retry claims another.
    await createWebhook(owner.organizationId, {
      urls: [{ ...url(s, '/limited-flaky'), rate_per_second: 2 }, url(s, '/ok-unlimited')],
      max_retry: 2,
    });
    let hits = 0;
    s.receiver.setHandler((req) =>
      req.path === '/limited-flaky' && ++hits <= 2 ? { status: 503 } : replies(req.path),
    );
    try {
      const first = await postEvent(s.h.api, owner.key, freshEvent());
      const { res } = await deliverEvent(s.h.api, owner.key, s.h.temporal, freshEvent());
      await s.h.temporal.workflow.getHandle(first.body.data.workflow_id).result();
      return { 'event-rate-limited': res.body.data.workflow_id };
    } finally {
      s.receiver.setHandler((req) => replies(req.path));
    }
  },

  async 'manual-fire'(s) {
    const owner = await s.owner();
    const triggered = freshEvent('incident.triggered');
    const accepted = await postEvent(s.h.api, owner.key, triggered);
    await s.h.temporal.workflow.getHandle(accepted.body.data.workflow_id).result();
    const wh = await createWebhook(owner.organizationId, {
      trigger_type: 'manual',
      triggers: [],
      is_all_teams_configured: true,
      urls: [url(s, '/manual')],
    });
    const incident = String(triggered.data.resource_data.id);
    const fired = await call(s.h.api, 'POST', `/v3/incidents/${incident}/actions/webhook/${wh.id}`, {
      key: owner.key,
    });
    if (fired.status >= 300) throw new Error(`manual fire answered ${fired.status} ${JSON.stringify(fired.body)}`);
    // Found by type, not read from the answer: the route's answer shape is not this script's concern.
    const id = await onlyRun(s.h.temporal, `WorkflowType = 'manualFireWorkflow'`);
    await s.h.temporal.workflow.getHandle(id).result();
    return { 'manual-fire': id };
  },
  async redeliver(s) {
    const owner = await s.owner();
    const { wh, logId } = await failedDelivery(s, owner, '/down-then-redelivered');
    const res = await call(s.h.api, 'POST', `/v3/extensions/event-webhooks/${wh.id}/logs/${logId}/redeliver`, {
      key: owner.key,
    });
    if (res.status !== 202) throw new Error(`redeliver answered ${res.status} ${JSON.stringify(res.body)}`);
    await s.h.temporal.workflow.getHandle(res.body.data.workflow_id).result();
    return { redeliver: res.body.data.workflow_id };
  },

  async recover(s) {
    const owner = await s.owner();
    const since = new Date(Date.now() - 1000).toISOString();
    const { wh } = await failedDelivery(s, owner, '/down-then-recovered');
    const res = await call(s.h.api, 'POST', `/v3/extensions/event-webhooks/${wh.id}/recover`, {
      key: owner.key,
      body: { since, until: new Date().toISOString() },
    });
    if (res.status !== 202) throw new Error(`recover answered ${res.status} ${JSON.stringify(res.body)}`);
    const id = await onlyRun(s.h.temporal, `WorkflowType = 'recoverWorkflow' AND WebhookIds = '${wh.id}'`);
    await s.h.temporal.workflow.getHandle(id).result();
    return { recover: id };
  },
};

/**
 * A webhook with one URL and no retries, and an event whose delivery to it failed; the URL answers
 * 200 from then on, for a redelivery. The failed row's id.
 */
async function failedDelivery(s: Scene, owner: { key: string; organizationId: string }, urlPath: string) {
  const wh = await createWebhook(owner.organizationId, { urls: [url(s, urlPath)], max_retry: 0 });
  s.receiver.setHandler((req) => (req.path === urlPath ? { status: 500 } : replies(req.path)));
  try {
    await deliverEvent(s.h.api, owner.key, s.h.temporal, freshEvent());
  } finally {
    s.receiver.setHandler((req) => replies(req.path));
  }
  const row = await DeliveryLog.findOne({ webhookId: wh.id }).lean();
  if (row?.outcome !== 'failed') throw new Error(`expected a failed delivery, found ${row?.outcome}`);
  return { wh, logId: String(row._id) };
}

/** What the shared receiver answers: /down and /disable-me fail, everything else is delivered. */
function replies(p: string) {
  return { status: p === '/down' || p === '/disable-me' ? 500 : 200 };
}

const replace = process.argv.includes('--replace');
const recordedAt = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13); // 20261201T0930

/** `<name>.json`, or beside an existing one `<name>.<UTC time>.json`, so old histories stay. */
function fileFor(name: string): string {
  const plain = `${name}.json`;
  return replace || !fs.existsSync(path.join(HISTORIES_DIR, plain)) ? plain : `${name}.${recordedAt}.json`;
}

async function onlyRun(temporal: Client, query: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for await (const w of temporal.workflow.list({ query })) return w.workflowId;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no workflow found for ${query}`);
}

async function main() {
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]?.split(',') : null;
  const chosen = Object.entries(scenarios).filter(([name]) => !only || only.includes(name));
  if (!chosen.length) throw new Error(`no such scenario; known: ${Object.keys(scenarios).join(', ')}`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-record-'));
  const [temporalPort, uiPort, storePort] = await freePorts(3);
  const stack = await startStack({
    dataDir,
    temporal: { port: temporalPort, uiPort },
    store: { port: storePort, database: 'record' },
  });
  const smtp = await startSmtp();
  const receiver = await startReceiver((req) => replies(req.path));
  try {
    await Promise.all([waitForTemporal(stack.temporalAddress!), ensureJsonnetEvaluator()]);
    process.env.TEMPORAL_ADDRESS = stack.temporalAddress;
    process.env.MONGODB_URI = stack.mongoUri;
    const config = testConfig({
      ALLOW_PRIVATE_TARGETS: 'true',
      SMTP_URL: smtp.url,
      RETRY_INITIAL_INTERVAL_MS: '100',
      RETRY_BACKOFF_COEFFICIENT: '2',
      DELIVERY_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'error',
    });
    const h = await startHarness(config);
    const worker = await startWorker(config);
    let orgs = 0;
    const scene: Scene = {
      h,
      receiver,
      smtp,
      owner: () => createApiKey({ org: `acme-${++orgs}`, role: 'owner' }),
    };
    try {
      fs.mkdirSync(HISTORIES_DIR, { recursive: true });
      for (const [name, run] of chosen) {
        const runs = await run(scene);
        for (const [file, workflowId] of Object.entries(runs)) {
          const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
          const json = JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) }, null, 1);
          const target = fileFor(file);
          fs.writeFileSync(path.join(HISTORIES_DIR, target), json + '\n');
          console.log(`${name}: ${target} (${history.events?.length ?? 0} events)`);
        }
      }
    } finally {
      await worker.stop();
      await h.close();
      await closeSharedTemplateEngine();
    }
  } finally {
    await receiver.close();
    await smtp.close();
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
