/**
 * TLS and mTLS to Temporal, against the suite's real dev server behind a TLS-terminating proxy on
 * 127.0.0.1 (the dev server itself speaks plain gRPC only). Certificates are made per run with
 * the openssl CLI (Node cannot issue certificates). API keys: the dev server ignores them, so a
 * stand-in gRPC server over TLS records what arrives and refuses it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../../src/config';
import { connectTemporalClient, temporalConnectionOptions } from '../../../src/temporal/client';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-tls-'));
const p = (name: string) => path.join(dir, name);

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA. */
function makeCertificates() {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ]) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    fs.writeFileSync(p(`${name}.ext`), ext + '\n');
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  }
}

describe('Temporal over TLS (src/temporal/client.ts)', () => {
  let proxy: tls.Server;
  let address: string;
  let accepted = 0;

  beforeAll(async () => {
    makeCertificates();
    const [host, port] = process.env.TEMPORAL_ADDRESS!.split(':');
    // Requires a client certificate signed by the CA; forwards the decrypted HTTP/2 to the dev server.
    proxy = tls.createServer(
      {
        key: fs.readFileSync(p('server.key')),
        cert: fs.readFileSync(p('server.pem')),
        ca: fs.readFileSync(p('ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket) => {
        accepted++;
        const upstream = net.connect(Number(port), host);
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      },
    );
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const mtls = () =>
    loadConfig({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: p('ca.pem'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: p('client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: p('client.key'),
    });

  test('when mTLS is configured, then the API’s client and the worker’s connection both reach Temporal', async () => {
    const before = accepted;
    const client = await connectTemporalClient(mtls());
    try {
      const ns = await client.workflowService.describeNamespace({ namespace: 'default' });
      expect(ns.namespaceInfo?.name).toBe('default');
    } finally {
      await client.connection.close();
    }
    const native = await NativeConnection.connect(temporalConnectionOptions(mtls()));
    try {
      const ns = await native.workflowService.describeNamespace({ namespace: 'default' });
      expect(ns.namespaceInfo?.name).toBe('default');
    } finally {
      await native.close();
    }
    expect(accepted).toBeGreaterThanOrEqual(before + 2);
  });

  test('when the client certificate is missing, or TLS is off, then the connection fails', async () => {
    const noClientCert = loadConfig({ TEMPORAL_ADDRESS: address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: p('ca.pem') });
    await expect(NativeConnection.connect(temporalConnectionOptions(noClientCert))).rejects.toThrow();
    const plain = loadConfig({ TEMPORAL_ADDRESS: address });
    await expect(NativeConnection.connect(temporalConnectionOptions(plain))).rejects.toThrow();
  });

  test('when the server’s CA is not trusted, then the connection fails', async () => {
    // System roots only: the test CA is unknown, so the server certificate is refused.
    const systemRoots = loadConfig({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TLS: 'true',
      TEMPORAL_TLS_CLIENT_CERT_PATH: p('client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: p('client.key'),
    });
    await expect(NativeConnection.connect(temporalConnectionOptions(systemRoots))).rejects.toThrow();
  });

  test('when an API key is set, then TLS is on and every call carries the key as a bearer token', async () => {
    const seen: unknown[] = [];
    const server = http2.createSecureServer({
      key: fs.readFileSync(p('server.key')),
      cert: fs.readFileSync(p('server.pem')),
    });
    // server.close() leaves open sessions alone: track them to end them, or jest's worker stays up.
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (session) => sessions.add(session));
    server.on('stream', (stream, headers) => {
      seen.push(headers.authorization);
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'unknown key' },
        { endStream: true },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const config = loadConfig({
        TEMPORAL_ADDRESS: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
        TEMPORAL_API_KEY: 'k-123',
        TEMPORAL_TLS_SERVER_NAME: 'localhost',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: p('ca.pem'),
      });
      await expect(connectTemporalClient(config)).rejects.toThrow();
      expect(seen).toContain('Bearer k-123');
      seen.length = 0;
      await expect(NativeConnection.connect(temporalConnectionOptions(config))).rejects.toThrow();
      expect(seen).toContain('Bearer k-123');
      expect(seen.every((h) => h === 'Bearer k-123')).toBe(true);
    } finally {
      for (const session of sessions) session.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
