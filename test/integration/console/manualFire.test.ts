/**
 * The console for people who fire manual webhooks, in real Chromium against the real stack: an
 * owner configures a manual webhook for one team, a member of that team fires it on an incident,
 * a user of another team sees nothing to fire, no plain user ever sees a URL, and a revoked key
 * sends the tab back to sign-in with the reason.
 */
import type { Browser, Page } from 'playwright-core';
import { createApiKey, revokeApiKey, type CreatedKey } from '../../../src/access/keys';
import { freshEvent, postEvent } from '../../support/deliveries';
import { startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';
import { startReceiver, type Receiver } from '../../support/receiver';
import { describeInBrowser, launch, shot, signIn } from './browser';

jest.setTimeout(120_000);

describeInBrowser('console: manual webhooks and plain users', () => {
  const config = testConfig({ SMTP_URL: '' });
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let browser: Browser;
  let owner: CreatedKey;
  let sre: CreatedKey;
  let dba: CreatedKey;
  const org = `console-manual-${Date.now()}`;
  const event = freshEvent('incident.triggered');
  const incidentId = String(event.data.resource_data.id);

  const newPage = async (width = 1280): Promise<Page> => {
    const page = await (await browser.newContext({ viewport: { width, height: 800 } })).newPage();
    page.setDefaultTimeout(10_000);
    return page;
  };

  beforeAll(async () => {
    [h, receiver, browser] = await Promise.all([startHarness(config), startReceiver(), launch()]);
    worker = await startWorker(config);
    owner = await createApiKey({ org, role: 'owner', teams: ['sre', 'dba'] });
    sre = await createApiKey({ org, role: 'user', teams: ['sre'] });
    dba = await createApiKey({ org, role: 'user', teams: ['dba'] });
    // The incident the manual webhook is fired on: its latest event is what gets sent.
    expect((await postEvent(h.api, owner.key, event)).status).toBe(202);
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await receiver?.close();
    await h?.close();
  });

  it('lets an owner make a manual webhook for one team, picked by name', async () => {
    const page = await newPage();
    await signIn(page, h.api, owner.key);
    await page.getByRole('link', { name: 'Add Webhook' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Page SRE');
    await page.getByLabel('URL 1', { exact: true }).fill(`${receiver.url}/manual`);
    await page.getByRole('link', { name: '2. Type' }).click();
    await page.getByLabel('Manual: fired on demand for one incident').check();
    await page.getByLabel('All teams').uncheck();
    await page.getByRole('checkbox', { name: 'sre' }).check();
    await shot(page, '20-add-type-manual-teams');
    await page.getByRole('button', { name: 'Save webhook' }).click();
    await page
      .getByRole('dialog', { name: 'Webhook “Page SRE” created' })
      .getByRole('button', { name: 'I have stored it' })
      .click();
    await page.locator('tr[data-webhook="Page SRE"]').waitFor();
    await page.close();
  });

  it('lets a member of that team fire it on an incident, without ever showing a URL', async () => {
    const page = await newPage();
    await signIn(page, h.api, sre.key);
    const row = page.locator('tr[data-webhook="Page SRE"]');
    await row.waitFor();
    expect(await page.getByRole('columnheader').allTextContents()).toEqual(['Name', 'Type', 'Enabled', 'Actions']);
    expect(await page.content()).not.toContain(receiver.url);
    expect(await row.getByRole('link', { name: 'Edit Page SRE' }).count()).toBe(0);
    await shot(page, '21-list-plain-user');

    await row.getByRole('link', { name: 'Fire Page SRE' }).click();
    await page.getByLabel('Incident id').fill(incidentId);
    await page.getByRole('button', { name: 'Fire webhook' }).click();
    const done = page.getByRole('status').filter({ hasText: 'Fired “Page SRE”' });
    await done.waitFor();
    expect(await done.textContent()).toContain(incidentId);
    const [request] = await receiver.waitForRequests(1);
    expect(request.path).toBe('/manual');
    expect(JSON.parse(request.body).data.resource_data.id).toBe(incidentId);
    expect(await page.content()).not.toContain(receiver.url);
    await shot(page, '22-fire-manual');

    // The key is revoked meanwhile: the next request sends the tab back to sign-in, saying why.
    await revokeApiKey(sre.organizationId, sre.keyId);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('alert').filter({ hasText: 'revoked' }).waitFor();
    await page.getByLabel('API key').waitFor();
    await shot(page, '23-key-revoked');
    await page.close();
  });

  it('shows a user of another team nothing to fire (signed in and navigated with the keyboard alone)', async () => {
    const page = await newPage(390);
    await page.goto(`${h.api}/console`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe('api-key');
    await page.keyboard.type(dba.key);
    await page.keyboard.press('Enter');
    await page.getByText('No manual webhook is configured for your teams.').waitFor();
    // Tab through the top bar to the fire page's link and follow it with Enter.
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      const text = await page.evaluate(() => (globalThis as any).document.activeElement?.textContent);
      if (text === 'Fire a manual webhook') break;
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Fire a manual webhook' }).waitFor();
    await page.getByText('No manual webhook is configured for your teams.').waitFor();
    expect(await page.content()).not.toContain(receiver.url);
    await shot(page, '24-plain-user-other-team-narrow');
    await page.close();
  });
});
