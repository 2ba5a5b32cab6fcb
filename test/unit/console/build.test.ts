import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CONSOLE_BUILD_DIR,
  CONSOLE_SOURCE_DIR,
  consoleBuildIsFresh,
  ensureConsoleBuilt,
} from '../../../src/console/build';

describe('console bundle build', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'console-build-')), 'console');
  afterAll(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));

  it('builds what is missing, then reuses it until a source is newer', () => {
    expect(consoleBuildIsFresh(out)).toBe(false);
    const first = ensureConsoleBuilt(out);
    expect(first).toMatchObject({ dir: out, built: true });
    for (const file of ['index.html', 'main.js', 'styles.css']) expect(fs.existsSync(path.join(out, file))).toBe(true);
    // No CDN, no network: the page loads only its own files.
    expect(fs.readFileSync(path.join(out, 'index.html'), 'utf8')).not.toMatch(/https?:\/\//);
    expect(ensureConsoleBuilt(out)).toMatchObject({ built: false });

    // A source newer than the stamp (as after an edit) rebuilds.
    const stamp = path.join(out, 'build-stamp');
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(stamp, past, past);
    const source = fs.statSync(path.join(CONSOLE_SOURCE_DIR, 'main.tsx'));
    if (source.mtimeMs <= past.getTime()) {
      fs.utimesSync(stamp, new Date(source.mtimeMs - 1000), new Date(source.mtimeMs - 1000));
    }
    expect(consoleBuildIsFresh(out)).toBe(false);
    expect(ensureConsoleBuilt(out)).toMatchObject({ built: true });
  });

  it('serves a bundle built before where its sources are not (a production image), and says what to run where there is none', () => {
    const noSources = path.join(path.dirname(out), 'no-sources');
    ensureConsoleBuilt(out);
    // Made stale first: without sources it is still the one to serve, not rebuilt.
    const past = new Date(Date.now() - 3_600_000);
    fs.utimesSync(path.join(out, 'build-stamp'), past, past);
    expect(ensureConsoleBuilt(out, noSources)).toEqual({ dir: out, built: false, ms: 0 });
    const empty = path.join(path.dirname(out), 'empty');
    expect(() => ensureConsoleBuilt(empty, noSources)).toThrow(/no console bundle .* run `npm run build`/);
  });

  it('builds outside dist/console, where the compiled console server lives', () => {
    // A build there (the API at start) removed dist/console/server.js, and `npm start --
    // --production` then failed with "Cannot find module '../console/server'".
    const compiledConsole = path.join(CONSOLE_SOURCE_DIR, '..', '..', '..', 'dist', 'console');
    expect(path.relative(compiledConsole, CONSOLE_BUILD_DIR).startsWith('..')).toBe(true);
  });
});
