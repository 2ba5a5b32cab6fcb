// Runs `npm ci` when node_modules is missing or older than package-lock.json, so that every npm
// script of the README works on a fresh clone. Plain JS: it runs before TypeScript tooling exists.
// A lock folder makes a second script (say `npm run receiver` beside `npm start`) wait for the
// install in progress instead of starting another one.
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const marker = path.join(root, 'node_modules', '.package-lock.json');
const lockFile = path.join(root, 'package-lock.json');
const lock = path.join(root, '.npm-install.lock');
const upToDate = () => fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lockFile).mtimeMs;
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

if (!upToDate()) {
  let waited = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // A lock older than 10 minutes belongs to an install that died.
      if (Date.now() - fs.statSync(lock).mtimeMs > 10 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      if (!waited) console.error('waiting for the npm install in progress…');
      waited = true;
      sleep(1000);
    }
  }
  try {
    if (!upToDate()) {
      console.error('installing npm dependencies (npm ci)…');
      execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
