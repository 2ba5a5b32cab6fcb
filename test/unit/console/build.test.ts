import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONSOLE_SOURCE_DIR, consoleBuildIsFresh, ensureConsoleBuilt } from '../../../src/console/build';

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
});
