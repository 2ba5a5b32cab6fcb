/**
 * A success ends its URL's failure streak without a store write for every delivery: a worker that
 * found the URL clean skips the reset for 10 s, unless it counted a failure meanwhile. A failure
 * another worker counts inside that window outlives one success by at most the window.
 */
import { afterFinalFailure, afterSuccess } from '../../../src/autoDisable/check';
import { countFailure, streakIdOf } from '../../../src/autoDisable/streaks';
import { UrlFailureStreak } from '../../../src/db/urlFailureStreak';
import { startHarness, testConfig, type Harness } from '../../support/harness';

describe('auto-disable: resets after successes', () => {
  const config = testConfig({ AUTO_DISABLE_AFTER: '86400000', AUTO_DISABLE_MIN_FAILURES: '1000' });
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(config);
  });
  afterAll(async () => {
    await h?.close();
  });

  const url = { organizationId: 'clean-window', webhookId: `wh-${Date.now()}`, urlKey: 'k1' };
  const streakExists = async () =>
    (await UrlFailureStreak.countDocuments({ _id: streakIdOf(url.webhookId, url.urlKey) })) > 0;
  const failureElsewhere = (n: number) => countFailure({ ...url, deliveryId: `other-worker-${n}`, at: new Date() });

  test('when successes follow each other, then the first writes and those within 10 s do not, unless this worker counted a failure', async () => {
    const t0 = Date.now();
    await failureElsewhere(1);
    await afterSuccess(url, config, t0);
    expect(await streakExists()).toBe(false);

    // Another worker counts a failure; a success here 1 s after the last reset skips the write.
    await failureElsewhere(2);
    await afterSuccess(url, config, t0 + 1_000);
    expect(await streakExists()).toBe(true);
    // Past the window, the next success ends it.
    await afterSuccess(url, config, t0 + 10_001);
    expect(await streakExists()).toBe(false);

    // A failure this worker counts ends the window at once.
    await afterFinalFailure(
      { ...url, url: 'https://receiver.test/x', deliveryId: 'this-worker-1' },
      { config, mailer: null },
    );
    expect(await streakExists()).toBe(true);
    await afterSuccess(url, config, t0 + 10_002);
    expect(await streakExists()).toBe(false);
  });
});
