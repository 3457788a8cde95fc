// `pnpm bench:models`: every corpus model in every mode, as a table: does quantkit write it, does it load in
// onnxruntime-node (optimization level all) and onnxruntime-web, are its outputs finite, how small, how close
// (worst output's SQNR against the float model on held-out inputs) and how fast (latency in onnxruntime-node on
// one thread against the float model, the two timed in turns).
// Usage: node bench-models.mjs [--models id,id] [--modes mode,mode] [--json file]
import { writeFileSync } from 'node:fs';
import { loadCorpus } from './corpus.mjs';
import { MODES, floatBaseline, runCell } from './run-corpus.mjs';

function option(name) {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
}

const onlyModels = option('--models')?.split(',');
const modes = option('--modes')?.split(',') ?? Object.keys(MODES);
const jsonPath = option('--json');

const entries = loadCorpus().filter((entry) => onlyModels === undefined || onlyModels.includes(entry.id));
const missing = entries.filter((entry) => !entry.present);
if (missing.length > 0) {
  console.error(
    `missing from the corpus cache: ${missing.map((e) => e.id).join(', ')} (run node fetch-corpus.mjs)`,
  );
  process.exit(1);
}

const fmt = (value, digits = 1) =>
  value === undefined ? '-' : Number.isFinite(value) ? value.toFixed(digits) : 'inf';
const rows = [];
console.log(
  '| model | mode | written | loads node | loads web | finite | size | SQNR dB | floor | latency x | fp32 ms | ' +
    'quantized ops in onnxruntime |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const entry of entries) {
  const baseline = await floatBaseline(entry);
  for (const mode of modes) {
    const cell = await runCell(entry, mode, baseline, { latency: true });
    const floor = MODES[mode].floor;
    const row =
      cell.status === 'refused'
        ? { model: entry.id, mode, written: `refused (${cell.code})`, message: cell.message }
        : {
            model: entry.id,
            mode,
            written: 'yes',
            loadsNode: cell.loadsNode,
            loadsWeb: cell.loadsWeb,
            finite: cell.finite,
            size: cell.sizeRatio,
            sqnr: cell.sqnr,
            floor,
            latency: cell.latencyRatio,
            floatMs: cell.floatMs,
            fusedOps: cell.fusedOps,
          };
    rows.push(row);
    console.log(
      `| ${row.model} | ${mode} | ${row.written} | ${row.loadsNode ?? '-'} | ${row.loadsWeb ?? '-'} | ${row.finite ?? '-'} | ` +
        `${fmt(row.size, 3)} | ${fmt(row.sqnr)} | ${floor ?? '-'} | ${fmt(row.latency, 2)} | ${fmt(row.floatMs, 2)} | ` +
        `${
          Object.entries(row.fusedOps ?? {})
            .map(([op, count]) => `${op} ${count}`)
            .join(', ') || '-'
        } |`,
    );
    if (row.message !== undefined)
      console.log(`|  | | ${row.message.replace(/\|/g, '/').slice(0, 300)} | | | | | | | | | |`);
  }
}
console.log(
  '\nsize: output bytes / input bytes; SQNR: worst float output over 2 held-out inputs; latency: quantized / float,',
);
console.log(
  'medians of float and quantized runs taken in turns in onnxruntime-node, one thread, level all (at least 9 rounds,',
);
console.log("more up to 2 s per cell). Floors: the test suite's per-mode minimum.");
if (jsonPath !== undefined) writeFileSync(jsonPath, `${JSON.stringify(rows, null, 2)}\n`);
