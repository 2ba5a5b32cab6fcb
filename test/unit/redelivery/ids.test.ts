import crypto from 'node:crypto';
import { attemptLogId } from '../../../src/db/deliveryLog';
import { parseRecoverWindow, recoverIdOf } from '../../../src/redelivery/service';

describe('redelivery ids', () => {
  test('when an attempt has no round, then its log row id is the one it always had; a round gives another', () => {
    const before = crypto.createHash('sha256').update('msg_1\nhttps://r.test/h\n2').digest('hex').slice(0, 24);
    expect(String(attemptLogId('msg_1', 'https://r.test/h', 2))).toBe(before);
    expect(String(attemptLogId('msg_1', 'https://r.test/h', 2, null))).toBe(before);
    const redelivered = String(attemptLogId('msg_1', 'https://r.test/h', 2, 'rd_a'));
    expect(redelivered).not.toBe(before);
    expect(String(attemptLogId('msg_1', 'https://r.test/h', 2, 'rd_b'))).not.toBe(redelivered);
  });

  test('when the same window is asked for again, in another notation, then the recover id is the same', () => {
    const a = recoverIdOf('org', 'wh', new Date('2026-12-01T10:00:00Z'), new Date('2026-12-01T11:00:00Z'));
    const b = recoverIdOf('org', 'wh', new Date('2026-12-01T11:00:00+01:00'), new Date('2026-12-01T11:00:00.000Z'));
    expect(a).toMatch(/^[0-9a-f]{24}$/);
    expect(b).toBe(a);
    expect(recoverIdOf('org2', 'wh', new Date('2026-12-01T10:00:00Z'), new Date('2026-12-01T11:00:00Z'))).not.toBe(a);
    expect(recoverIdOf('org', 'wh', new Date('2026-12-01T10:00:00Z'), null)).not.toBe(a);
  });

  test('when a window is checked, then retention 0 allows any past since', () => {
    const now = new Date('2026-12-02T00:00:00Z');
    expect(parseRecoverWindow({ since: '2020-01-01T00:00:00Z' }, 0, now)).toEqual({
      since: new Date('2020-01-01T00:00:00Z'),
      until: null,
    });
    expect(() => parseRecoverWindow({ since: '2020-01-01T00:00:00Z' }, 30, now)).toThrow(/within the last 30 days/);
  });
});
