import fs from 'node:fs';
import path from 'node:path';

// The README's layout list is how a newcomer finds their way; a folder it does not name is lost.
const root = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

test('when a folder is added to src/, then the README’s layout list names it with its job', () => {
  const folders = fs
    .readdirSync(path.join(root, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `src/${e.name}/`);
  expect(folders.length).toBeGreaterThan(10);
  expect(folders.filter((f) => !new RegExp(`^- \`${f}\` — \\S`, 'm').test(readme))).toEqual([]);
});
