import { disableReasonOf, isDue } from '../../../src/autoDisable/check';
import { composeDisableMail } from '../../../src/autoDisable/mail';
import { loadConfig } from '../../../src/config';

describe('AUTO_DISABLE_AFTER', () => {
  const after = (v?: string) => loadConfig(v === undefined ? {} : { AUTO_DISABLE_AFTER: v }).AUTO_DISABLE_AFTER;

  test('when unset, then it is 5 days, as Svix', () => {
    expect(after()).toBe(5 * 24 * 3600 * 1000);
    expect(after('')).toBe(5 * 24 * 3600 * 1000);
  });

  test('when written with a unit or as milliseconds, then it is read in milliseconds', () => {
    expect(after('5d')).toBe(432_000_000);
    expect(after('12h')).toBe(43_200_000);
    expect(after('30m')).toBe(1_800_000);
    expect(after('90s')).toBe(90_000);
    expect(after('250ms')).toBe(250);
    expect(after('60000')).toBe(60_000);
    expect(after('0')).toBe(0);
  });

  test('when it is not a duration, then the configuration names it', () => {
    for (const bad of ['5 days', '-1s', '1.5h', 'soon']) {
      expect(() => after(bad)).toThrow(/AUTO_DISABLE_AFTER: must be a duration/);
    }
    expect(() => loadConfig({ AUTO_DISABLE_MIN_FAILURES: '0' })).toThrow(/AUTO_DISABLE_MIN_FAILURES/);
    expect(loadConfig({}).AUTO_DISABLE_MIN_FAILURES).toBe(10);
  });
});

describe('isDue', () => {
  const config = { AUTO_DISABLE_AFTER: 2000, AUTO_DISABLE_MIN_FAILURES: 3 };
  const since = new Date('2026-12-01T00:00:00Z');
  const streak = (failures: number, disabledAt: Date | null = null) => ({
    _id: 'w:k',
    organizationId: 'o',
    webhookId: 'w',
    urlKey: 'k',
    since,
    failures,
    disabledAt,
  });
  const at = (ms: number) => new Date(since.getTime() + ms);

  test('when both the time and the count are reached, then it is due, and not before either', () => {
    expect(isDue(streak(3), config, at(2000))).toBe(true);
    expect(isDue(streak(2), config, at(60_000))).toBe(false);
    expect(isDue(streak(50), config, at(1999))).toBe(false);
  });

  test('when the streak is already disabled, then it is not due again', () => {
    expect(isDue(streak(9, at(2500)), config, at(3000))).toBe(false);
  });

  test('when the reason is written, then it says how many, since when, and the settings', () => {
    expect(disableReasonOf(streak(4), { AUTO_DISABLE_AFTER: 432_000_000, AUTO_DISABLE_MIN_FAILURES: 10 })).toBe(
      'auto-disabled: 4 deliveries in a row failed since 2026-12-01T00:00:00.000Z (AUTO_DISABLE_AFTER 5d, AUTO_DISABLE_MIN_FAILURES 10)',
    );
  });
});

describe('composeDisableMail', () => {
  const report = {
    organizationId: 'o',
    webhookId: 'wh1',
    webhookName: 'Jira',
    mailIds: ['ops@x.test'],
    url: 'https://hooks.example.com/in',
    method: 'POST',
    since: new Date('2026-11-27T10:00:00Z'),
    failures: 42,
    disabledAt: new Date('2026-12-02T10:00:00Z'),
  };

  test('when one URL of several is disabled, then the mail names it, since when, how many, and how to enable', () => {
    const { subject, text } = composeDisableMail({ ...report, scope: 'url' });
    expect(subject).toBe(
      'Disabled: URL https://hooks.example.com/in of webhook "Jira", failing since 2026-11-27T10:00:00.000Z',
    );
    expect(text).toContain('URL:             POST https://hooks.example.com/in');
    expect(text).toContain('Failing since:   2026-11-27T10:00:00.000Z');
    expect(text).toContain('Failed:          42 deliveries in a row');
    expect(text).toContain('/v3/extensions/event-webhooks/wh1/enable');
    expect(text).toContain('other URLs still receive events');
  });

  test('when the webhook itself is disabled, then the mail says so', () => {
    const { subject, text } = composeDisableMail({ ...report, scope: 'webhook' });
    expect(subject).toMatch(/^Disabled: webhook "Jira"/);
    expect(text).toContain('Disabled:        the webhook');
  });
});
