import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The embedded stack's servers are built from Go modules once per machine, into a cache outside
 * the repository, so that a fresh clone on the same machine starts in seconds.
 */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const FERRETDB_VERSION = 'v1.24.2';

const repoRoot = path.resolve(__dirname, '..', '..');

export function cacheDir(): string {
  return process.env.HOOKRELAY_CACHE_DIR || path.join(os.homedir(), '.cache', 'hookrelay');
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

function requireGo(
  what: string,
  otherwise = 'or point the service at existing servers with TEMPORAL_ADDRESS and MONGODB_URI.',
  minVersion = '1.22',
): string {
  const go = onPath('go');
  if (!go) {
    throw new Error(
      `Go is needed to build ${what} (first run only) but 'go' is not on PATH.\n` +
        `Install Go ${minVersion} or newer (https://go.dev/dl, or 'apt-get install golang'), ${otherwise}`,
    );
  }
  return go;
}

async function runGo(args: string[], cwd: string, env: NodeJS.ProcessEnv, what: string): Promise<void> {
  const go = requireGo(what);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const started = Date.now();
    const progress = setInterval(() => {
      console.error(`  still building ${what}… ${Math.round((Date.now() - started) / 1000)} s`);
    }, 15_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(progress);
      if (code === 0) return resolve();
      const proxyHint = /proxy|dial tcp|no such host|i\/o timeout|connection refused/i.test(stderr)
        ? `\nThe Go module proxy could not be reached (GOPROXY=${process.env.GOPROXY ?? 'default'}); check network access or GOPROXY.`
        : '';
      reject(new Error(`building ${what} failed (go ${args.join(' ')}):\n${stderr.slice(-4000)}${proxyHint}`));
    });
  });
}

/**
 * Returns the path of a cached binary, building it first when missing. A lock directory keeps two
 * processes (say, two test runs) from building the same thing at once.
 */
async function ensureBuilt(name: string, build: (outFile: string) => Promise<void>): Promise<string> {
  const dir = path.join(cacheDir(), 'bin');
  const outFile = path.join(dir, name);
  if (fs.existsSync(outFile)) return outFile;
  fs.mkdirSync(dir, { recursive: true });
  const lock = `${outFile}.lock`;
  const started = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (fs.existsSync(outFile)) return outFile;
      // A lock older than 30 minutes belongs to a build that died.
      if (Date.now() - fs.statSync(lock).mtimeMs > 30 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() - started > 30 * 60_000) throw new Error(`timed out waiting for another build of ${name}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    if (fs.existsSync(outFile)) return outFile;
    const tmp = `${outFile}.tmp-${process.pid}`;
    await build(tmp);
    fs.renameSync(tmp, outFile);
    return outFile;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** A Temporal CLI of the user's own: HOOKRELAY_TEMPORAL_BIN, else a `temporal` on PATH. */
export const ownTemporalCli = () => process.env.HOOKRELAY_TEMPORAL_BIN || onPath('temporal');

/**
 * The Temporal CLI (`temporal server start-dev`): the user's own, else the pinned one built from
 * tools/temporal with two of its modules patched: the SQLite driver keeps each connection's prepared
 * statements (tools/temporal/_sqlite), and the server writes a run's started visibility row only
 * once the run has been open 2 s (tools/temporal/_server).
 */
export async function ensureTemporalCli(): Promise<string> {
  const existing = ownTemporalCli();
  if (existing) return existing;
  const srcDir = path.join(repoRoot, 'tools', 'temporal');
  return ensureBuilt(`temporal-${TEMPORAL_CLI_VERSION}-${sourceHash(srcDir)}`, async (outFile) => {
    console.error(
      `building the Temporal dev server ${TEMPORAL_CLI_VERSION} from the Go module proxy, first run only, a few minutes…`,
    );
    const what = 'the Temporal CLI';
    const work = fs.mkdtempSync(path.join(cacheDir(), 'temporal-build-'));
    try {
      const replaces = PATCHED_TEMPORAL_MODULES.map(({ module, dir }) => {
        const copy = path.join(work, dir);
        patchedModuleCopy(goModuleDir(srcDir, module, what), path.join(srcDir, dir), copy, what);
        return `replace ${module} => ${copy}\n`;
      });
      const goMod = fs.readFileSync(path.join(srcDir, 'go.mod'), 'utf8');
      fs.writeFileSync(path.join(work, 'go.mod'), `${goMod}\n${replaces.join('')}`);
      fs.copyFileSync(path.join(srcDir, 'go.sum'), path.join(work, 'go.sum'));
      const modfile = `-modfile=${path.join(work, 'go.mod')}`;
      // The patched driver is tested first (main_test.go): a binary is kept only if it passes.
      await runGo(['test', modfile, '-count=1', '-timeout=3m', '.'], srcDir, {}, `${what} (its SQLite driver's tests)`);
      await runGo(['build', modfile, '-trimpath', '-ldflags=-s -w', '-o', outFile, '.'], srcDir, {}, what);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
}

/** The modules the pinned Temporal CLI is built with patched, each from its folder in tools/temporal. */
const PATCHED_TEMPORAL_MODULES = [
  { module: 'modernc.org/sqlite', dir: '_sqlite' },
  { module: 'go.temporal.io/server', dir: '_server' },
];

/**
 * A module's copy in `copy` for a `replace` directive: links to the proxy's files (which cannot be
 * edited or overlaid), but the files that `patchDir`'s *.patch files change, copied and patched;
 * `patchDir`'s .go files are added at its root.
 */
function patchedModuleCopy(proxyCopy: string, patchDir: string, copy: string, what: string): void {
  const patches = fs.readdirSync(patchDir).filter((name) => name.endsWith('.patch'));
  const patched = patches.flatMap((name) =>
    [...fs.readFileSync(path.join(patchDir, name), 'utf8').matchAll(/^\+\+\+ b\/(\S+)/gm)].map((m) => m[1]),
  );
  linkTree(proxyCopy, copy, patched);
  for (const name of patches) {
    // Outside any repository (the ceiling), `git apply` patches plain files in its directory.
    try {
      execFileSync('git', ['apply', path.join(patchDir, name)], {
        cwd: copy,
        env: { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(copy) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (err) {
      throw new Error(`building ${what} failed: git could not apply ${name}: ${String(err)}`, { cause: err });
    }
  }
  for (const name of fs.readdirSync(patchDir).filter((n) => n.endsWith('.go'))) {
    fs.copyFileSync(path.join(patchDir, name), path.join(copy, name));
  }
}

/**
 * `from`'s tree in `to` as links, but for the `own` files (paths under `from`), copied writable,
 * with real folders on their way (go:embed refuses a linked file, not a file in a linked folder).
 */
function linkTree(from: string, to: string, own: string[]): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    const inside = own.filter((p) => p === name || p.startsWith(`${name}/`));
    if (inside.length === 0) fs.symlinkSync(path.join(from, name), path.join(to, name));
    else if (inside.includes(name)) {
      fs.copyFileSync(path.join(from, name), path.join(to, name));
      fs.chmodSync(path.join(to, name), 0o644);
    } else
      linkTree(
        path.join(from, name),
        path.join(to, name),
        inside.map((p) => p.slice(name.length + 1)),
      );
  }
}

/** Where the Go module proxy's copy of `modulePath` (as `srcDir`'s go.mod pins it) is, downloading it first. */
function goModuleDir(srcDir: string, modulePath: string, what: string): string {
  const go = requireGo(what);
  const out = execFileSync(go, ['mod', 'download', '-json', modulePath], { cwd: srcDir, encoding: 'utf8' });
  const dir = (JSON.parse(out) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`building ${what} failed: 'go mod download ${modulePath}' gave no directory`);
  return dir;
}

/**
 * tools/temporal-sqlite, which creates the dev server's SQLite file and drops the visibility indexes
 * nothing here searches by (see its main.go): only for the pinned CLI, whose schema it was built
 * against. With another `temporal` (HOOKRELAY_TEMPORAL_BIN or on PATH) the server makes its own file.
 */
export async function ensureTemporalSqliteTool(): Promise<string | undefined> {
  if (ownTemporalCli()) return undefined;
  const srcDir = path.join(repoRoot, 'tools', 'temporal-sqlite');
  return ensureBuilt(`temporal-sqlite-${sourceHash(srcDir)}`, async (outFile) => {
    console.error("building the Temporal dev server's SQLite schema tool, first run only, about a minute…");
    await runGo(['build', '-trimpath', '-ldflags=-s -w', '-o', outFile, '.'], srcDir, {}, 'the SQLite schema tool');
  });
}

/** A hash of the Go sources and patches in `srcDir` and its folders, so an edit to them builds a new binary. */
function sourceHash(srcDir: string): string {
  const hash = crypto.createHash('sha256');
  const walk = (dir: string, prefix: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const name = prefix + entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), `${name}/`);
      else if (/\.go$|\.patch$|^go\.(mod|sum)$/.test(entry.name) && !entry.name.endsWith('_test.go'))
        hash.update(name).update(fs.readFileSync(path.join(dir, entry.name)));
    }
  };
  walk(srcDir, '');
  return hash.digest('hex').slice(0, 12);
}

/** FerretDB (PostgreSQL or SQLite backend), built from tools/ferretdb (our tiny main embedding FerretDB's package). */
export async function ensureFerretDb(): Promise<string> {
  const srcDir = path.join(repoRoot, 'tools', 'ferretdb');
  return ensureBuilt(`ferretdb-${FERRETDB_VERSION}-${sourceHash(srcDir)}`, async (outFile) => {
    console.error(`building FerretDB ${FERRETDB_VERSION} from the Go module proxy, first run only, a few minutes…`);
    await runGo(['build', '-o', outFile, '.'], srcDir, {}, 'FerretDB');
  });
}

/** A real `mongod` on PATH, used instead of FerretDB when present. */
export function findMongod(): string | undefined {
  if (process.env.HOOKRELAY_USE_FERRETDB === 'true') return undefined;
  const mongod = onPath('mongod');
  if (!mongod) return undefined;
  try {
    execFileSync(mongod, ['--version'], { stdio: 'ignore' });
    return mongod;
  } catch {
    return undefined;
  }
}

/**
 * The template engine's Jsonnet evaluator (go-jsonnet behind a stdin/stdout protocol, see
 * tools/jsonnet): HOOKRELAY_JSONNET_BIN when set (the container image builds it in), else built
 * into the cache under a hash of its sources, so an edit to them rebuilds it.
 */
export async function ensureJsonnetEvaluator(): Promise<string> {
  if (process.env.HOOKRELAY_JSONNET_BIN) return process.env.HOOKRELAY_JSONNET_BIN;
  const srcDir = path.join(repoRoot, 'tools', 'jsonnet');
  return ensureBuilt(`jsonnet-${sourceHash(srcDir)}`, async (outFile) => {
    requireGo(
      'the Jsonnet evaluator of custom payloads',
      'then retry: custom payloads cannot render until it is built.',
      '1.24.5',
    );
    console.error('building the Jsonnet evaluator (go-jsonnet), first run only, about half a minute…');
    await runGo(['build', '-trimpath', '-ldflags=-s -w', '-o', outFile, '.'], srcDir, {}, 'the Jsonnet evaluator');
  });
}
