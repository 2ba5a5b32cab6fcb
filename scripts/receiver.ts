/**
 * `npm run receiver -- [--port 4000] [--secret whsec_…] [--status 200]`: a tiny webhook receiver
 * for demos. Prints every request and, given the webhook's secret, checks its Standard Webhooks
 * signature. Listens on 127.0.0.1 only.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4000' },
    secret: { type: 'string' },
    status: { type: 'string', default: '200' },
  },
});
const verifier = values.secret ? new Webhook(values.secret) : undefined;

http
  .createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let signature = 'not checked (no --secret)';
      if (verifier) {
        try {
          verifier.verify(body, req.headers as Record<string, string>);
          signature = 'valid';
        } catch (err) {
          signature = `INVALID: ${(err as Error).message}`;
        }
      }
      console.log(`\n${req.method} ${req.url}  webhook-id=${req.headers['webhook-id']}  signature ${signature}`);
      try {
        console.log(JSON.stringify(JSON.parse(body), null, 2));
      } catch {
        console.log(body);
      }
      res.writeHead(Number(values.status)).end();
    });
  })
  .listen(Number(values.port), '127.0.0.1', () => {
    console.log(`receiver listening on http://127.0.0.1:${values.port}/ (answering ${values.status})`);
  });
