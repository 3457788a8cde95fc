// `pnpm bench`: every workspace package's `bench` script, one at a time, after a build (turbo). With `--json`,
// each bench is passed `--json` too, the tables go to stderr, and stdout gets one JSON array of the rows
// ({ name, value, unit, baseline, ratio }) of every bench that prints its rows as a JSON array on its last line;
// benches that do not are run all the same and named on stderr. `--filter=<package name>` runs that one only.

import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const json = process.argv.includes('--json');
const only = process.argv.find((arg) => arg.startsWith('--filter='))?.slice('--filter='.length);
const root = join(import.meta.dirname, '..');
const pnpm = process.platform === 'win32' ? 'pnpm.cmd' : 'pnpm';

if (!json) {
  const filter = only === undefined ? [] : [`--filter=${only}`];
  const { status } = spawnSync(pnpm, ['exec', 'turbo', 'run', 'bench', '--concurrency=1', ...filter], {
    cwd: root,
    stdio: 'inherit',
  });
  process.exit(status ?? 1);
}

// Build what the benches import; its log goes to stderr so stdout stays JSON.
const build = spawnSync(pnpm, ['exec', 'turbo', 'run', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
if (build.status !== 0) process.exit(build.status ?? 1);

const packages = ['packages', 'apps', 'tooling', 'examples'].flatMap((folder) => {
  const path = join(root, folder);
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    if (!entry.isDirectory()) return [];
    try {
      const manifest = JSON.parse(readFileSync(join(path, entry.name, 'package.json'), 'utf8'));
      return manifest.scripts?.bench === undefined
        ? []
        : [{ name: manifest.name, dir: join(path, entry.name) }];
    } catch {
      return [];
    }
  });
});

const rows = [];
let failed = false;
const chosen = packages.filter(({ name }) => only === undefined || name === only);
for (const { name, dir } of chosen.sort((a, b) => a.name.localeCompare(b.name))) {
  process.stderr.write(`\n== ${name}\n`);
  const result = spawnSync(pnpm, ['run', '--silent', 'bench', '--', '--json'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout ?? '');
    process.stderr.write(`${name}: bench exited with ${result.status}\n`);
    failed = true;
    continue;
  }
  const lines = result.stdout.trimEnd().split('\n');
  const last = lines[lines.length - 1] ?? '';
  let parsed;
  if (last.startsWith('[')) {
    try {
      parsed = JSON.parse(last);
    } catch {
      parsed = undefined;
    }
  }
  if (Array.isArray(parsed)) {
    process.stderr.write(lines.slice(0, -1).join('\n'));
    rows.push(...parsed);
  } else {
    process.stderr.write(result.stdout);
    process.stderr.write(`${name}: its bench prints no JSON rows (only its table above)\n`);
  }
}
process.stdout.write(`${JSON.stringify(rows)}\n`);
process.exit(failed ? 1 : 0);
