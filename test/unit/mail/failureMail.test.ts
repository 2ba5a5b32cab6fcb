import { mailErrorSummary } from '../../../src/mail/outbox';

describe('mailErrorSummary', () => {
  test('when SMTP rejects a recipient, then the summary keeps the codes and drops the addresses', () => {
    const err = Object.assign(new Error("Can't send mail - all recipients were rejected: 550 5.1.1 <bob@x.example>"), {
      code: 'EENVELOPE',
      responseCode: 550,
      command: 'RCPT TO',
      rejected: ['bob@x.example'],
    });
    const summary = mailErrorSummary(err);
    expect(summary).toBe('EENVELOPE, SMTP 550, on RCPT TO');
    expect(summary).not.toContain('bob');
  });

  test('when the error has no codes, then the summary is generic', () => {
    expect(mailErrorSummary(new Error('<alice@y.example> refused'))).toBe('mail transport error');
    expect(mailErrorSummary(undefined)).toBe('mail transport error');
  });
});
