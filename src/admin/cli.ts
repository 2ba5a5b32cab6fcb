/**
 * The admin CLI: `npm run admin -- <command> …`. Connects to MONGODB_URI, runs one command,
 * prints its result on stdout (create-key prints only the key) and errors on stderr.
 * Exit codes: 0 done, 1 the command failed, 2 bad arguments.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../config';
import { connectDatabase, disconnectDatabase } from '../db/connect';
import {
  AdminError,
  UsageError,
  checkCreateKeyArgs,
  checkName,
  createKey,
  type CreateKeyArgs,
  createTeam,
  formatKeyTable,
  listKeys,
  revokeKey,
} from './commands';

export const USAGE = `Usage: npm run admin -- <command> [options]

Commands:
  create-key --org <org> --role owner|user [--permission manage_webhook]... [--team <team>]... [--user <name>]
      Create an API key; the org, teams and user are created on first mention.
      Prints only the key (it is shown once: only its hash is stored).
  list-keys --org <org> [--json]
      List the org's keys: ids and prefixes, never the keys.
  revoke-key --org <org> <keyId|prefix>
      Revoke one key; requests with it are refused from then on.
  create-team --org <org> <team>
      Create a team (and the org) if new; prints the team id for webhooks' "teams".

Options:
  -h, --help   Show this help.

Environment:
  MONGODB_URI  The store to use (default mongodb://127.0.0.1:27017/hookrelay).
  MONGODB_PORT Without MONGODB_URI: the port of the store \`npm start\` runs (default 27017).

Exit codes: 0 done, 1 the command failed, 2 bad arguments.
npm prints its own banner on stdout; to capture the key in a script use
  KEY=$(npm run -s admin -- create-key --org acme --role owner)`;

/**
 * As `npm start` does: without MONGODB_URI, the embedded store on MONGODB_PORT, so the CLI finds
 * the store `npm start` runs on a moved port.
 */
export function withStorePort(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.MONGODB_URI || !env.MONGODB_PORT) return env;
  if (!/^\d{1,5}$/.test(env.MONGODB_PORT))
    throw new Error(`invalid configuration:\n  MONGODB_PORT: must be a port number`);
  return { ...env, MONGODB_URI: `mongodb://127.0.0.1:${env.MONGODB_PORT}/hookrelay` };
}

type Command = 'create-key' | 'list-keys' | 'revoke-key' | 'create-team';

const OPTIONS: Record<Command, NonNullable<ParseArgsConfig['options']>> = {
  'create-key': {
    org: { type: 'string' },
    role: { type: 'string' },
    permission: { type: 'string', multiple: true },
    team: { type: 'string', multiple: true },
    user: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  'list-keys': { org: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  'revoke-key': { org: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  'create-team': { org: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
};

const POSITIONALS: Record<Command, string | null> = {
  'create-key': null,
  'list-keys': null,
  'revoke-key': '<keyId|prefix>',
  'create-team': '<team>',
};

const createKeyArgs = (values: Record<string, unknown>): CreateKeyArgs => ({
  org: values.org as string,
  role: values.role as string,
  permissions: (values.permission as string[] | undefined) ?? [],
  teams: (values.team as string[] | undefined) ?? [],
  user: values.user as string | undefined,
});

interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Runs the CLI on `argv` (without node and the script) and resolves to the exit code. */
export async function run(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.err : io.out)(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (!(command in OPTIONS)) {
    io.err(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const cmd = command as Command;
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: OPTIONS[cmd], allowPositionals: true, strict: true }));
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (typeof values.org !== 'string' || !values.org.trim()) throw new UsageError('--org is required');
    const wanted = POSITIONALS[cmd];
    if (wanted === null && positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (wanted !== null && positionals.length !== 1) throw new UsageError(`${cmd} takes exactly one ${wanted}`);
    if (cmd === 'create-key') {
      if (typeof values.role !== 'string') throw new UsageError('--role is required');
      checkCreateKeyArgs(createKeyArgs(values));
    }
    if (cmd === 'create-team') checkName('team', positionals[0]);
    checkName('--org', values.org);
  } catch (err) {
    io.err(`${cmd}: ${(err as Error).message}\nRun "npm run admin -- --help" for usage.`);
    return 2;
  }

  let config;
  try {
    config = loadConfig(withStorePort(env));
  } catch (err) {
    io.err((err as Error).message);
    return 1;
  }
  try {
    await connectDatabase(config.MONGODB_URI, config.STORE_POSTGRES_URL);
  } catch (err) {
    io.err(`cannot reach the store at MONGODB_URI: ${(err as Error).message}`);
    return 1;
  }
  try {
    const org = values.org as string;
    switch (cmd) {
      case 'create-key':
        io.out(await createKey(createKeyArgs(values)));
        break;
      case 'list-keys': {
        const rows = await listKeys(org);
        io.out(values.json ? JSON.stringify(rows, null, 2) : formatKeyTable(rows));
        break;
      }
      case 'revoke-key':
        io.err(await revokeKey(org, positionals[0]));
        break;
      case 'create-team':
        io.out(await createTeam(org, positionals[0]));
        break;
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${cmd}: ${err.message}\nRun "npm run admin -- --help" for usage.`);
      return 2;
    }
    io.err(err instanceof AdminError ? `${cmd}: ${err.message}` : `${cmd} failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await disconnectDatabase();
  }
}

if (require.main === module) {
  run(process.argv.slice(2), {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  }).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
