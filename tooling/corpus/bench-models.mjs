// `pnpm bench:models`: every corpus model in every mode, as a table: does quantkit write it, does it load in
// onnxruntime-node (optimization level all) and onnxruntime-web, are its outputs finite, how small, how close
// (worst output's SQNR against the float model on held-out inputs) and how fast (latency in onnxruntime-node on
// one thread against the float model, the two timed in turns).
// Besides quantkit's modes, `reference-ort-static` quantizes with reference-quantizer.mjs (onnxruntime-style
// min-max static QDQ) on the same calibration samples, measured the same way, and a last table sets quantkit's
// static-qdq beside it (issue 10: quantkit's SQNR should be at least the reference's on every model).
// Usage: node bench-models.mjs [--models id,id] [--modes mode,mode] [--json file]
//   --modes takes quantkit modes, reference modes, and `reference` for every reference mode.
import { writeFileSync } from 'node:fs';
import { loadCorpus, synthesizeInputs } from './corpus.mjs';
import { referenceQuantizeWithSummary } from './reference-quantizer.mjs';
import { BENCH_MODES, CALIBRATION_SEEDS, floatBaseline, MODES, measureBytes, runCell } from './run-corpus.mjs';

function option(name) {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
}

/**
 * Baselines quantkit is compared with, quantized outside quantkit and measured like its cells. `versus` names the
 * quantkit mode the closing table sets beside each one.
 */
const REFERENCE_MODES = {
  'reference-ort-static': { quantize: referenceQuantizeWithSummary, versus: 'static-qdq' },
};

const onlyModels = option('--models')?.split(',');
const QUANTKIT_MODES = { ...MODES, ...BENCH_MODES };
const modes = (
  option('--modes')?.split(',') ?? [...Object.keys(MODES), ...Object.keys(BENCH_MODES), 'reference']
).flatMap((mode) =>
  mode === 'reference' ? Object.keys(REFERENCE_MODES) : [mode],
);
const unknownModes = modes.filter(
  (mode) => QUANTKIT_MODES[mode] === undefined && REFERENCE_MODES[mode] === undefined,
);
if (unknownModes.length > 0) {
  console.error(
    `unknown mode ${unknownModes.join(', ')}; valid: ${[...Object.keys(QUANTKIT_MODES), ...Object.keys(REFERENCE_MODES), 'reference'].join(', ')}`,
  );
  process.exit(1);
}
const jsonPath = option('--json');

/**
 * One reference cell: the reference quantizer on the model's calibration seeds (the samples quantkit's static
 * modes calibrate on), then the same measurements as a quantkit cell. A reference failure is a row, not a crash.
 */
async function referenceCell(entry, modeName, baseline) {
  const calibrationSamples = CALIBRATION_SEEDS.map((seed) => synthesizeInputs(entry, seed));
  let quantized;
  try {
    quantized = await REFERENCE_MODES[modeName].quantize(baseline.bytes, calibrationSamples);
  } catch (error) {
    return { status: 'failed', message: error.message };
  }
  const { opsetFrom, opsetTo, quantizedNodes } = quantized.summary;
  const nodes = Object.values(quantizedNodes).reduce((sum, count) => sum + count, 0);
  const notes = [];
  if (opsetTo !== opsetFrom) notes.push(`opset ${opsetFrom} -> ${opsetTo}`);
  if (nodes === 0) notes.push('no main-graph node quantized (the compute sits in If branches)');
  const measured = await measureBytes(quantized.bytes, baseline, { latency: true });
  return { status: 'written', ...measured, quantizedNodes: nodes, note: notes.join('; ') || undefined };
}

/** The latency guard's outcome in a few words: regions kept float of all, and the ratio it started from. */
function guardText(guard) {
  if (guard === undefined) return undefined;
  if (!guard.ran) return `not run: ${guard.reason}`;
  const first = guard.trials[0].ratio.toFixed(2);
  if (guard.reverted.length === 0) {
    return guard.ratio > guard.maxRatio ? `slower (${first}x), no region to keep float` : `none kept float (${first}x)`;
  }
  return `${guard.reverted.length}/${guard.regions} regions float (${first}x first, ${guard.trials.length} timings)`;
}

const entries = loadCorpus().filter((entry) => onlyModels === undefined || onlyModels.includes(entry.id));
const missing = entries.filter((entry) => !entry.present);
if (missing.length > 0) {
  console.error(
    `missing from the corpus cache: ${missing.map((e) => e.id).join(', ')} (run node fetch-corpus.mjs)`,
  );
  process.exit(1);
}

const fmt = (value, digits = 1) =>
  value === undefined || Number.isNaN(value)
    ? '-'
    : Number.isFinite(value)
      ? value.toFixed(digits)
      : value > 0
        ? 'inf'
        : '-inf';
const rows = [];
console.log(
  '| model | mode | written | loads node | loads web | finite | size | SQNR dB | floor | latency x | fp32 ms | ' +
    'quantize s | latency guard | quantized ops in onnxruntime |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const entry of entries) {
  const baseline = await floatBaseline(entry);
  for (const mode of modes) {
    const isReference = REFERENCE_MODES[mode] !== undefined;
    const cell = isReference
      ? await referenceCell(entry, mode, baseline)
      : await runCell(entry, mode, baseline, { latency: true });
    const floor = QUANTKIT_MODES[mode]?.floor;
    const row =
      cell.status === 'refused' || cell.status === 'failed'
        ? {
            model: entry.id,
            mode,
            written: cell.status === 'failed' ? 'failed' : `refused (${cell.code})`,
            message: cell.message,
          }
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
            seconds: cell.seconds,
            guard: guardText(cell.summary?.latencyGuard),
            ...(isReference && { quantizedNodes: cell.quantizedNodes, message: cell.note }),
          };
    rows.push(row);
    console.log(
      `| ${row.model} | ${mode} | ${row.written} | ${row.loadsNode ?? '-'} | ${row.loadsWeb ?? '-'} | ${row.finite ?? '-'} | ` +
        `${fmt(row.size, 3)} | ${fmt(row.sqnr)} | ${floor ?? '-'} | ${fmt(row.latency, 2)} | ${fmt(row.floatMs, 2)} | ` +
        `${fmt(row.seconds)} | ${row.guard ?? '-'} | ` +
        `${
          Object.entries(row.fusedOps ?? {})
            .map(([op, count]) => `${op} ${count}`)
            .join(', ') || '-'
        } |`,
    );
    if (row.message !== undefined)
      console.log(`|  | | ${row.message.replace(/\|/g, '/').slice(0, 300)} | | | | | | | | | | | |`);
  }
}
console.log(
  '\nsize: output bytes / input bytes; SQNR: worst float output over 2 held-out inputs; latency: quantized / float,',
);
console.log(
  'medians of float and quantized runs taken in turns in onnxruntime-node, one thread, level all (at least 9 rounds,',
);
console.log("more up to 2 s per cell). Floors: the test suite's per-mode minimum.");

// quantkit against each reference it is meant to match, one line per model that ran both.
for (const [reference, { versus }] of Object.entries(REFERENCE_MODES)) {
  const pairs = entries
    .map((entry) => ({
      model: entry.id,
      ours: rows.find((row) => row.model === entry.id && row.mode === versus),
      theirs: rows.find((row) => row.model === entry.id && row.mode === reference),
    }))
    .filter((pair) => pair.ours !== undefined && pair.theirs !== undefined);
  if (pairs.length === 0) continue;
  console.log(`\n${versus} against ${reference}:\n`);
  console.log(
    `| model | ${versus} SQNR dB | ${reference} SQNR dB | difference dB | ${versus} latency x | ` +
      `${reference} latency x | reference nodes quantized |`,
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const { model, ours, theirs } of pairs) {
    const difference =
      ours.sqnr === undefined || theirs.sqnr === undefined ? undefined : ours.sqnr - theirs.sqnr;
    console.log(
      `| ${model} | ${fmt(ours.sqnr)} | ${fmt(theirs.sqnr)} | ${fmt(difference)} | ` +
        `${fmt(ours.latency, 2)} | ${fmt(theirs.latency, 2)} | ${theirs.quantizedNodes ?? '-'} |`,
    );
  }
}
if (jsonPath !== undefined) writeFileSync(jsonPath, `${JSON.stringify(rows, null, 2)}\n`);
