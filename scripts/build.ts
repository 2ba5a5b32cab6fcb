/**
 * `npm run build`: the production form of the service in dist/: src/ compiled to JavaScript
 * (tsconfig.build.json), the files src/ reads at run time (template library, sample events) beside
 * it, the web console's bundle (dist/web-console), and the workflow bundle prebuilt once
 * (dist/workflow-bundle.js), so a worker loads it instead of running webpack at every start.
 * `npm start -- --production` and the Dockerfile use it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureConsoleBuilt } from '../src/console/build';
import { bundleWorkflows } from '../src/worker/bundle';

const root = path.resolve(__dirname, '..');
export const DIST = path.join(root, 'dist');
/** Where the worker finds the prebuilt bundle (src/worker/options.ts looks beside the compiled code). */
export const WORKFLOW_BUNDLE = path.join(DIST, 'workflow-bundle.js');
/** Written last: dist/ is complete when this exists. */
const STAMP = path.join(DIST, '.built');
/** Data files src/ reads through __dirname, copied to the same place under dist/. */
const ASSETS = ['templates/library', 'payloads/fixtures'];

/** The node arguments of one of the service's processes: dist/ compiled, or src/ through tsx. */
export function serviceProcessArgs(name: 'api' | 'worker' | 'service', compiled: boolean): string[] {
  return compiled ? [`dist/${name}/main.js`] : ['--import', 'tsx', `src/${name}/main.ts`];
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Whether dist/ is complete and newer than every file in src/ and the build configuration. */
export function buildIsCurrent(): boolean {
  if (!fs.existsSync(STAMP)) return false;
  const built = fs.statSync(STAMP).mtimeMs;
  const inputs = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map(
    (f) => fs.statSync(path.join(root, f)).mtimeMs,
  );
  return Math.max(newestMtime(path.join(root, 'src')), ...inputs) <= built;
}

export async function build(log: (line: string) => void = console.error): Promise<void> {
  const t0 = Date.now();
  let tsc: string;
  try {
    tsc = require.resolve('typescript/bin/tsc');
  } catch {
    // NODE_ENV=production makes `npm ci` skip the dev dependencies, TypeScript among them.
    throw new Error('building dist/ needs the dev dependencies (TypeScript): run `npm ci --include=dev`, then again');
  }
  fs.rmSync(DIST, { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  for (const dir of ASSETS) fs.cpSync(path.join(root, 'src', dir), path.join(DIST, dir), { recursive: true });
  // The web console's bundle: a production image has no sources to build it from at start.
  ensureConsoleBuilt();
  const code = await bundleWorkflows();
  fs.writeFileSync(WORKFLOW_BUNDLE, code);
  fs.writeFileSync(STAMP, new Date().toISOString() + '\n');
  log(
    `built dist/ in ${((Date.now() - t0) / 1000).toFixed(1)} s (workflow bundle ${Math.round(code.length / 1024)} KiB)`,
  );
}

if (require.main === module) {
  build().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
