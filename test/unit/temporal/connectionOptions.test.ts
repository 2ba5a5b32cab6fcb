import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../src/config';
import { temporalConnectionOptions } from '../../../src/temporal/client';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-tls-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};
const options = (env: Record<string, string>) => temporalConnectionOptions(loadConfig(env));
const text = (b: unknown) => Buffer.from(b as Uint8Array).toString('utf8');

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('temporalConnectionOptions (the SDK environment configuration)', () => {
  test('when nothing is configured, then the connection is plain gRPC to TEMPORAL_ADDRESS', () => {
    expect(options({})).toEqual({ address: '127.0.0.1:7233' });
    expect(options({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_TLS: '' })).toEqual({ address: 'temporal:7233' });
  });

  test('when an API key is set, then TLS is on (Temporal Cloud), unless TEMPORAL_TLS=false', () => {
    const cloud = { TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k-123' };
    expect(options(cloud)).toEqual({ address: cloud.TEMPORAL_ADDRESS, apiKey: 'k-123', tls: true });
    expect(options({ ...cloud, TEMPORAL_TLS: 'false' })).toEqual({
      address: cloud.TEMPORAL_ADDRESS,
      apiKey: 'k-123',
      tls: false,
    });
  });

  test('when mTLS files are named, then their contents are the client pair and the server CA', () => {
    const o = options({
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem', 'CERT'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key', 'KEY'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const tls = o.tls as Exclude<typeof o.tls, boolean | undefined | null>;
    expect(tls.serverNameOverride).toBe('temporal.internal');
    expect(text(tls.serverRootCACertificate)).toBe('CA');
    expect(text(tls.clientCertPair?.crt)).toBe('CERT');
    expect(text(tls.clientCertPair?.key)).toBe('KEY');
  });

  test('when TEMPORAL_TLS=true alone, then TLS uses the system roots', () => {
    expect(options({ TEMPORAL_TLS: 'true' }).tls).toEqual({});
  });

  test('when a TOML profile is named, then its TLS and key apply, but address and namespace stay the service’s', () => {
    const toml = file(
      'temporal.toml',
      [
        '[profile.cloud]',
        'address = "elsewhere:7233"',
        'namespace = "other"',
        'api_key = "from-file"',
        '[profile.cloud.grpc_meta]',
        'x-team = "sre"',
      ].join('\n'),
    );
    const config = loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
    expect(temporalConnectionOptions(config)).toEqual({
      address: '127.0.0.1:7233',
      apiKey: 'from-file',
      tls: true,
      metadata: { 'x-team': 'sre' },
    });
    expect(config.TEMPORAL_NAMESPACE).toBe('default');
    // An environment variable wins over the file.
    expect(options({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud', TEMPORAL_API_KEY: 'env' }).apiKey).toBe(
      'env',
    );
    expect(() => options({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'nope' })).toThrow(/Profile 'nope' not found/);
  });

  test('when the TLS settings are wrong, then loadConfig names the variable and why', () => {
    expect(() => loadConfig({ TEMPORAL_TLS: 'yes' })).toThrow(/TEMPORAL_TLS:/);
    expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'missing.pem') })).toThrow(
      /TEMPORAL_TLS_CLIENT_CERT_PATH: file not found/,
    );
    expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: file('only-cert.pem', 'CERT') })).toThrow(
      /TEMPORAL_TLS_CLIENT_KEY_PATH: required with a client certificate/,
    );
    expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_KEY_DATA: 'KEY' })).toThrow(
      /TEMPORAL_TLS_CLIENT_CERT_PATH: required with a client key/,
    );
  });
});
