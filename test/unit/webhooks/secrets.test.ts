import { freshSecret, rotateSecrets } from '../../../src/webhooks/secrets';

describe('rotateSecrets', () => {
  const t0 = new Date('2024-01-01T00:00:00Z');
  const at = (ms: number) => new Date(t0.getTime() + ms);

  test('when a secret is rotated, then the new one leads and the old one expires after the grace period', () => {
    const first = freshSecret(t0);
    const rotated = rotateSecrets([first], at(1000), 60_000);
    expect(rotated).toHaveLength(2);
    expect(rotated[0]).toMatchObject({ expiresAt: null });
    expect(rotated[0].value).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(rotated[1]).toEqual({ ...first, expiresAt: at(61_000) });
  });

  test('when rotated twice within the grace period, then the oldest keeps its own expiry', () => {
    const once = rotateSecrets([freshSecret(t0)], t0, 60_000);
    const twice = rotateSecrets(once, at(10_000), 60_000);
    expect(twice.map((s) => s.expiresAt)).toEqual([null, at(70_000), at(60_000)]);
  });

  test('when the grace period is over or zero, then old secrets are dropped', () => {
    const once = rotateSecrets([freshSecret(t0)], t0, 60_000);
    expect(rotateSecrets(once, at(60_000), 60_000)).toHaveLength(2);
    expect(rotateSecrets([freshSecret(t0)], t0, 0)).toHaveLength(1);
  });
});
