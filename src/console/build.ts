/**
 * Builds the web console's browser bundle (src/console/app → dist/web-console) with esbuild when it
 * is missing or older than its sources, the way scripts/ensure-deps.js installs what is missing. One
 * bundle, built in about a tenth of a second, so the API can do it at start with no build step.
 * `npm run build` builds it too, for a production image that holds dist/ and no sources. Not in
 * dist/console: that is where the compiled form of this folder goes, and a build there removed it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';

const root = path.resolve(__dirname, '../..');
// From the root, not __dirname: the compiled form of this file (dist/console) finds them too.
export const CONSOLE_SOURCE_DIR = path.join(root, 'src', 'console', 'app');
export const CONSOLE_BUILD_DIR = path.join(root, 'dist', 'web-console');
/** Files the bundle is made of besides the app folder: a new esbuild or Preact rebuilds it. */
const OTHER_INPUTS = [
  path.join(root, 'package-lock.json'),
  path.join(root, 'src', 'shared', 'workflowIds.ts'),
  path.join(root, 'src', 'shared', 'delivery.ts'),
  path.join(root, 'src', 'console', 'build.ts'),
];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

const stampOf = (dir: string) => path.join(dir, 'build-stamp');

/**
 * Whether the bundle in `outDir` is newer than every source. Where the sources are not (a
 * production image holds only dist/), any bundle is: there is nothing to build it from.
 */
export function consoleBuildIsFresh(outDir = CONSOLE_BUILD_DIR, sourceDir = CONSOLE_SOURCE_DIR): boolean {
  const stamp = stampOf(outDir);
  if (!fs.existsSync(stamp)) return false;
  if (!fs.existsSync(sourceDir)) return true;
  const inputs = OTHER_INPUTS.filter((f) => fs.existsSync(f)).map((f) => fs.statSync(f).mtimeMs);
  return fs.statSync(stamp).mtimeMs >= Math.max(newestMtime(sourceDir), ...inputs);
}

/** Where a process that may not write to the repository (the Docker image's `node` user) builds. */
export const FALLBACK_BUILD_DIR = path.join(os.tmpdir(), 'hookrelay-console');

function writable(dir: string): boolean {
  try {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.accessSync(path.dirname(dir), fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds into a temporary folder and renames it into place, so two processes starting at once
 * (the API and a test file) never serve a half-written bundle. Answers the folder to serve: `outDir`,
 * or a folder under the OS's temp dir when `outDir` cannot be written and holds no fresh bundle.
 */
export function ensureConsoleBuilt(
  outDir = CONSOLE_BUILD_DIR,
  sourceDir = CONSOLE_SOURCE_DIR,
): { dir: string; built: boolean; ms: number } {
  if (consoleBuildIsFresh(outDir, sourceDir)) return { dir: outDir, built: false, ms: 0 };
  if (!fs.existsSync(sourceDir)) {
    throw new Error(
      `no console bundle in ${outDir} and no sources in ${sourceDir} to build one: run \`npm run build\``,
    );
  }
  const dir = writable(outDir) ? outDir : FALLBACK_BUILD_DIR;
  return { dir, ...buildInto(dir, sourceDir) };
}

function buildInto(outDir: string, sourceDir: string): { built: boolean; ms: number } {
  const t0 = Date.now();
  if (consoleBuildIsFresh(outDir, sourceDir)) return { built: false, ms: 0 };
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    buildSync({
      entryPoints: [path.join(sourceDir, 'main.tsx'), path.join(sourceDir, 'styles.css')],
      outdir: tmp,
      bundle: true,
      minify: true,
      sourcemap: 'linked',
      format: 'esm',
      target: ['chrome110', 'firefox110', 'safari16'],
      jsx: 'automatic',
      jsxImportSource: 'preact',
      logLevel: 'silent',
    });
    fs.copyFileSync(path.join(sourceDir, 'index.html'), path.join(tmp, 'index.html'));
    fs.writeFileSync(stampOf(tmp), new Date().toISOString());
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.renameSync(tmp, outDir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Another process renamed its fresh build into place first: that one is as good.
    if (consoleBuildIsFresh(outDir, sourceDir)) return { built: false, ms: Date.now() - t0 };
    throw err;
  }
  return { built: true, ms: Date.now() - t0 };
}
