/**
 * The evaluator's own Go tests (tools/jsonnet: evaluation, error positions, the stdin/stdout
 * protocol), run with the rest of the suite so CI runs them too.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

it(
  'when the Go tests of the Jsonnet evaluator run, then they pass',
  async () => {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'go',
        ['test', '-count=1', '.'],
        { cwd: path.resolve(__dirname, '../../../tools/jsonnet') },
        (err, stdout, stderr) => (err ? reject(new Error(`go test failed:\n${stdout}${stderr}`)) : resolve(stdout)),
      );
    });
    expect(output).toMatch(/^ok\s/m);
  },
  5 * 60_000,
);
