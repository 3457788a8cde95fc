// `pnpm --filter @quantkit/runtime bench`: the package's benches one after another, each in its own process with
// this script's arguments (GEMM kernels, then whole models). With `--json` each prints its JSON rows as the last
// line of its stdout; they are merged here into one JSON array on stdout, everything else goes to stderr.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BENCHES = ['gemm.bench.mjs', 'models.bench.mjs'];

const args = process.argv.slice(2);
const json = args.includes('--json');
const rows = [];
let failed = false;
for (const bench of BENCHES) {
  const result = spawnSync(process.execPath, [join(import.meta.dirname, bench), ...args], {
    stdio: ['ignore', json ? 'pipe' : 'inherit', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    process.stderr.write(`${bench} exited with ${result.status ?? result.signal}\n`);
    failed = true;
  }
  if (!json) continue;
  const lines = (result.stdout ?? '').trimEnd().split('\n');
  const last = lines.pop() ?? '';
  if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
  try {
    rows.push(...JSON.parse(last));
  } catch {
    process.stderr.write(`${last}\n${bench} printed no JSON rows\n`);
    failed = true;
  }
}
if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
process.exit(failed ? 1 : 0);
