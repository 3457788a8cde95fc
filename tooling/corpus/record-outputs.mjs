// Records the sha256 of the model quantkit writes for every corpus model in every mode, in outputs.json, so that
// a change meant to keep the output (a restructuring, a speed-up) is checked to write the same bytes: corpus.test.ts
// compares every cell against this file. A change meant to alter outputs re-records it, and the diff names the
// cells that changed.
// Usage: node record-outputs.mjs [--models id,id] [--modes mode,mode] [--check]
//   --check compares with outputs.json and exits 1 on a difference, writing nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCorpus } from './corpus.mjs';
import { MODES, floatBaseline, planSnapshot, quantizeCell } from './run-corpus.mjs';

export const outputsJsonPath = join(dirname(fileURLToPath(import.meta.url)), 'outputs.json');
export const plansJsonPath = join(dirname(fileURLToPath(import.meta.url)), 'plans.json');

function option(name) {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
}

const onlyModels = option('--models')?.split(',');
const modes = option('--modes')?.split(',') ?? Object.keys(MODES);
const check = process.argv.includes('--check');

const recorded = JSON.parse(readFileSync(outputsJsonPath, 'utf8'));
const plans = JSON.parse(readFileSync(plansJsonPath, 'utf8'));
const entries = loadCorpus().filter((entry) => onlyModels === undefined || onlyModels.includes(entry.id));
const missing = entries.filter((entry) => !entry.present);
if (missing.length > 0) {
  console.error(
    `missing from the corpus cache: ${missing.map((e) => e.id).join(', ')} (run node fetch-corpus.mjs)`,
  );
  process.exit(1);
}

let differences = 0;
for (const entry of entries) {
  const baseline = await floatBaseline(entry);
  recorded.cells[entry.id] ??= {};
  plans.cells[entry.id] ??= {};
  for (const mode of modes) {
    const cell = await quantizeCell(entry, mode, baseline);
    const value = cell.status === 'written' ? cell.sha256 : `refused ${cell.code}`;
    const before = recorded.cells[entry.id][mode];
    const plan = cell.status === 'written' ? planSnapshot(cell.result.summary.nodes) : null;
    const planBefore = JSON.stringify(plans.cells[entry.id][mode]);
    const status =
      before === value && planBefore === JSON.stringify(plan)
        ? 'same'
        : before === undefined
          ? 'new'
          : 'changed';
    if (status !== 'same') differences++;
    console.log(`${status.padEnd(8)} ${entry.id.padEnd(26)} ${mode.padEnd(17)} ${value}`);
    recorded.cells[entry.id][mode] = value;
    plans.cells[entry.id][mode] = plan;
  }
}
if (check) {
  console.log(differences === 0 ? 'every cell writes the recorded bytes' : `${differences} cells differ`);
  process.exitCode = differences === 0 ? 0 : 1;
} else {
  writeFileSync(outputsJsonPath, `${JSON.stringify(recorded, null, 2)}\n`);
  writeFileSync(plansJsonPath, `${JSON.stringify(plans, null, 1)}\n`);
  console.log(`wrote ${outputsJsonPath} (${differences} cells new or changed)`);
}
