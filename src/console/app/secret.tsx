/** The signing secret, shown once (after create or rotate) with a copy button and how to verify. */
import { useState } from 'preact/hooks';
import { Dialog } from './ui';

export const verificationSnippet = (secret: string) => `// npm install standardwebhooks
import { Webhook } from 'standardwebhooks';

const wh = new Webhook('${secret}');
// In your handler, with the raw request body (a string, not parsed JSON):
const payload = wh.verify(rawBody, {
  'webhook-id': req.headers['webhook-id'],
  'webhook-timestamp': req.headers['webhook-timestamp'],
  'webhook-signature': req.headers['webhook-signature'],
}); // throws when the signature or timestamp is wrong`;

export function SecretDialog({ secret, title, onClose }: { secret: string; title: string; onClose: () => void }) {
  const [copied, setCopied] = useState('');
  const copy = async (text: string, what: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(`${what} copied.`);
    } catch {
      setCopied('Copying is not allowed here: select the text and copy it by hand.');
    }
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <p>
        This is the only time the signing secret is shown. Store it where your receiver reads it; it verifies the{' '}
        <code>webhook-signature</code> header (Standard Webhooks).
      </p>
      <label for="secret-value">Signing secret</label>
      <div class="row">
        <input id="secret-value" class="mono" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={() => copy(secret, 'Secret')}>
          Copy secret
        </button>
      </div>
      <h3>Verify in your receiver (Node.js)</h3>
      <pre class="code" tabIndex={0} aria-label="Verification snippet">
        {verificationSnippet(secret)}
      </pre>
      <div class="row">
        <button type="button" onClick={() => copy(verificationSnippet(secret), 'Snippet')}>
          Copy snippet
        </button>
        <span role="status">{copied}</span>
      </div>
      <div class="actions">
        <button type="button" class="primary" onClick={onClose}>
          I have stored it
        </button>
      </div>
    </Dialog>
  );
}
