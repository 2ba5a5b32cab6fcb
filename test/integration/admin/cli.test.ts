import { spawn } from 'node:child_process';
import path from 'node:path';
import mongoose from 'mongoose';
import { run as runCli } from '../../../src/admin/cli';
import { call, startHarness, testConfig, type Harness } from '../../support/harness';

const root = path.resolve(__dirname, '../../..');
const BASE = '/v3/extensions/event-webhooks';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with the test database as MONGODB_URI. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const webhook = {
  name: 'CLI check',
  trigger_type: 'automatic',
  triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
  urls: [{ url: 'https://hooks.example.com/cli' }],
};

describe('admin CLI', () => {
  let h: Harness;
  let env: NodeJS.ProcessEnv;
  const admin = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/admin/cli.ts', ...args], env);

  beforeAll(async () => {
    h = await startHarness(testConfig());
    env = { ...process.env, MONGODB_URI: h.config.MONGODB_URI };
  });
  afterAll(async () => h.close());

  test('when an owner key is created, then only the key is printed and it manages webhooks', async () => {
    const res = await admin('create-key', '--org', 'acme', '--role', 'owner');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^hr_[A-Za-z0-9_-]{43}\n$/);
    const key = res.stdout.trim();
    expect((await call(h.api, 'POST', BASE, { key, body: webhook })).status).toBe(201);
  });

  test('when run through npm run -s, then stdout is still only the key', async () => {
    const res = await run('npm', ['run', '-s', 'admin', '--', 'create-key', '--org', 'acme', '--role', 'owner'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^hr_[A-Za-z0-9_-]{43}\n$/);
  });

  test('when a user key is created with or without manage_webhook, then its rights follow', async () => {
    const plain = (await admin('create-key', '--org', 'acme', '--role', 'user', '--team', 'sre')).stdout.trim();
    const manager = (
      await admin(
        'create-key',
        '--org',
        'acme',
        '--role',
        'user',
        '--permission',
        'manage_webhook',
        '--team',
        'sre',
        '--team',
        'ops',
      )
    ).stdout.trim();
    expect((await call(h.api, 'POST', BASE, { key: plain, body: webhook })).status).toBe(403);
    expect((await call(h.api, 'GET', BASE, { key: plain })).status).toBe(200);
    expect((await call(h.api, 'POST', BASE, { key: manager, body: webhook })).status).toBe(201);
  });

  test('when a team is created, then its id is printed, is stable and works in a manual webhook', async () => {
    const first = await admin('create-team', '--org', 'acme', 'payments');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^[0-9a-f]{24}\n$/);
    const again = await admin('create-team', '--org', 'acme', 'payments');
    expect(again.stdout).toBe(first.stdout);
    const owner = (await admin('create-key', '--org', 'acme', '--role', 'owner')).stdout.trim();
    const res = await call(h.api, 'POST', BASE, {
      key: owner,
      body: {
        name: 'Pay',
        trigger_type: 'manual',
        teams: [first.stdout.trim()],
        urls: [{ url: 'https://a.example.com' }],
      },
    });
    expect(res.status).toBe(201);
  });

  test('when keys are listed, then prefixes and ids are shown but never the keys', async () => {
    const key = (await admin('create-key', '--org', 'listco', '--role', 'owner', '--user', 'alice')).stdout.trim();
    const table = await admin('list-keys', '--org', 'listco');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(key.slice(0, 10));
    expect(table.stdout).toContain('alice');
    expect(table.stdout).not.toContain(key);
    const json = await admin('list-keys', '--org', 'listco', '--json');
    const rows = JSON.parse(json.stdout);
    expect(rows).toEqual([
      expect.objectContaining({ prefix: key.slice(0, 10), user: 'alice', role: 'owner', revoked_at: null }),
    ]);
    expect(json.stdout).not.toContain(key);
  });

  test('when a key is revoked by prefix or id, then the API refuses it with 401', async () => {
    const a = (await admin('create-key', '--org', 'revco', '--role', 'owner')).stdout.trim();
    const b = (await admin('create-key', '--org', 'revco', '--role', 'owner')).stdout.trim();
    const byPrefix = await admin('revoke-key', '--org', 'revco', a.slice(0, 10));
    expect(byPrefix.code).toBe(0);
    expect((await call(h.api, 'GET', BASE, { key: a })).status).toBe(401);
    expect((await call(h.api, 'GET', BASE, { key: b })).status).toBe(200);
    const rows = JSON.parse((await admin('list-keys', '--org', 'revco', '--json')).stdout);
    const idOfB = rows.find((r: any) => r.prefix === b.slice(0, 10)).id;
    expect((await admin('revoke-key', '--org', 'revco', idOfB)).code).toBe(0);
    expect((await call(h.api, 'GET', BASE, { key: b })).status).toBe(401);
    const again = await admin('revoke-key', '--org', 'revco', idOfB);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no active key/);
  });

  test('when the org is unknown to list-keys or revoke-key, then it exits 1 naming it', async () => {
    const res = await admin('list-keys', '--org', 'nosuchorg');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/no organization "nosuchorg"/);
    expect((await admin('revoke-key', '--org', 'nosuchorg', 'hr_abcdefg')).code).toBe(1);
  });

  test.each([
    [['frob'], /unknown command "frob"/],
    [[], /Usage/],
    [['create-key', '--role', 'owner'], /--org is required/],
    [['create-key', '--org', '...', '--role', 'owner'], /--org "..." needs a letter or digit/],
    [['create-key', '--org', 'acme'], /--role is required/],
    [['create-key', '--org', 'acme', '--role', 'admin'], /--role must be owner or user/],
    [
      ['create-key', '--org', 'acme', '--role', 'user', '--permission', 'root'],
      /--permission must be one of manage_webhook/,
    ],
    [['create-key', '--org', 'acme', '--role', 'owner', '--colour', 'red'], /Unknown option '--colour'/],
    [['create-key', '--org', 'acme', '--role'], /argument missing/],
    [['create-key', '--org', 'acme', '--role', 'owner', 'extra'], /unexpected argument "extra"/],
    [['revoke-key', '--org', 'acme'], /exactly one <keyId\|prefix>/],
    [['create-team', '--org', 'acme', 'a', 'b'], /exactly one <team>/],
    [['create-team', '--org', 'acme', '!!!'], /needs a letter or digit/],
  ])('when the arguments are %j, then it exits 2 with a clear message', async (args, message) => {
    // In-process: bad arguments are refused before the store is touched.
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, { out: (t) => (stdout += t), err: (t) => (stderr += t) }, env);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stdout).toBe('');
  });

  test('when the command is unknown, then the process exits 2 with the usage on stderr', async () => {
    const res = await admin('frob');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown command "frob"[\s\S]*Usage/);
    expect(res.stdout).toBe('');
  });

  test('when --help is given, then the usage is printed on stdout and it exits 0', async () => {
    const res = await admin('--help');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/create-key --org <org> --role owner\|user/);
    expect((await admin('create-key', '--help')).code).toBe(0);
  });
  test('when MONGODB_URI is unset and MONGODB_PORT names the store, then the CLI uses that port, as npm start does', async () => {
    const port = new URL(process.env.MONGODB_URI!).port;
    const { MONGODB_URI: _uri, ...rest } = process.env;
    const org = `moved-port-${Date.now()}`;
    const res = await run(
      process.execPath,
      ['--import', 'tsx', 'src/admin/cli.ts', 'create-key', '--org', org, '--role', 'owner'],
      { ...rest, MONGODB_PORT: port },
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    // npm start's store database on that port, not whatever may listen on 27017.
    const store = await mongoose.createConnection(`mongodb://127.0.0.1:${port}/hookrelay`).asPromise();
    try {
      expect(await store.collection('organizations').findOne({ slug: org })).toMatchObject({ slug: org });
    } finally {
      await store.close();
    }
  });
});
