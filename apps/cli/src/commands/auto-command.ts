import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { calibrationFiles } from '@quantkit/calibration/node';
import { QuantError } from '@quantkit/core';
import { type FileUse, checkWrites, writeFileAtomic } from '@quantkit/onnx/node';
import { AUTO_CANDIDATES, UNMIXED_FORMATS, WEIGHT_ONLY_FORMS, autoCandidates } from '@quantkit/quantize';
import {
  type AutoMetric,
  type AutoQuantizeResult,
  autoQuantize,
  sampleSource,
} from '@quantkit/quantize/node';
import { writeAutoReportHtml } from '@quantkit/report/node';
import { Command } from 'commander';
import { type CliIo, toJson, writeJson } from '../cli-io.js';
import { createCliRegistry } from '../cli-registry.js';
import { inFlagTerms } from '../flag-terms.js';
import { collectList, parseChoiceFlag, parseIntegerFlag, parseNumberFlag } from '../flags.js';
import { formatTable } from '../format.js';
import { modelFileUses, readModelFile } from '../model-file.js';
import { exists, requireExisting, requireFilePath, userPath } from '../paths.js';

interface AutoFlags {
  readonly output: string;
  readonly maxSize?: string;
  readonly bitsPerWeight?: string;
  readonly minSqnr?: string;
  readonly maxDrop?: string;
  readonly metric?: string;
  readonly maxLatencyRatio?: string;
  readonly candidates?: readonly string[];
  readonly calib?: string;
  readonly workers?: string;
  readonly weightOnlyForm?: string;
  readonly recipeOut?: string;
  readonly report?: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

/** Samples the comparison runs on: the first few of --calib (as the fidelity floor takes them). */
const AUTO_SAMPLES = 4;

const METRIC_HELP = `
Metric module (--metric), an ES module whose default export scores a model on the user's own data, higher is better:
  export default async function accuracy(run, { model }) {  // model: "float" or "quantized"
    let correct = 0;
    for (const { input, label } of myData) {
      const outputs = await run({ x: { dtype: 'float32', shape: [1, 64], data: Float32Array.from(input) } });
      if (argmax(outputs.y.data) === label) correct++;
    }
    return correct / myData.length;
  }
It runs once on the float model and once per assignment checked; the drop is the float score minus the
assignment's, and --max-drop X keeps it at most X on the written model.`;

/**
 * Loads a --metric module's default export.
 * @throws QuantError NOT_FOUND for a missing file, INVALID_ARGUMENT when it fails to load or exports no function.
 */
async function loadMetric(path: string): Promise<AutoMetric> {
  await requireExisting(path, '--metric module', 'file');
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `--metric module ${path} failed to load: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (typeof module.default !== 'function') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `--metric module ${path} must export a default function (run, context) => number, got ${typeof module.default}`,
    );
  }
  return module.default as AutoMetric;
}

/** The text `quantkit auto` prints. */
export function formatAutoResult(input: string, output: string, result: AutoQuantizeResult): string[] {
  const { report } = result;
  const { chosen } = report;
  const sqnr = chosen.sqnr === null ? 'exact' : `${chosen.sqnr.toFixed(2)} dB`;
  const lines = [
    `${input} -> ${output}`,
    `  chosen       ${chosen.label}`,
    `  size         ${chosen.size} bytes (float ${report.floatSize}; ${chosen.bitsPerWeight.toFixed(2)} bits per weight)`,
    `  output SQNR  ${sqnr} on ${report.samples.count} ${report.samples.origin} samples`,
  ];
  if (chosen.metric !== undefined) {
    lines.push(
      `  metric       ${chosen.metric.quantized} (float ${chosen.metric.float}, drop ${chosen.metric.drop})`,
    );
  }
  if (chosen.latency !== undefined) {
    const reverted =
      chosen.latency.reverted.length === 0
        ? ''
        : `; kept float for it: ${chosen.latency.reverted.join(', ')}`;
    lines.push(`  latency      ${chosen.latency.ratio.toFixed(2)}x the float model${reverted}`);
  }
  const names = report.candidates.map((candidate) => candidate.name);
  const rows = [
    ['layer', 'op', ...names.map((name) => `${name} dB`), 'chosen'],
    ...report.layers.map((layer) => [
      layer.name,
      layer.opType,
      ...names.map((name) => {
        const cell = layer.candidates[name];
        if (cell === undefined) return '-';
        if ('error' in cell) return 'failed';
        if ('skipped' in cell) return 'n/a';
        return cell.sqnr === null ? 'exact' : cell.sqnr.toFixed(1);
      }),
      chosen.assignment[layer.name] ?? 'float',
    ]),
  ];
  lines.push('  sensitivity (output SQNR with the layer alone quantized):');
  lines.push(
    ...formatTable(
      rows,
      names.map((_, index) => index + 2),
    ).map((line) => `    ${line}`),
  );
  lines.push(
    `  measured ${report.points.length} assignments; ${report.points.filter((p) => p.front).length} on the size-vs-SQNR front`,
  );
  return lines;
}

/** `quantkit auto`: see --help. */
export function autoCommand(io: CliIo): Command {
  return new Command('auto')
    .description('choose a quantization per weighted layer under a size, fidelity, metric or latency budget')
    .argument('<input>', 'the float ONNX model')
    .requiredOption('-o, --output <file>', 'write the chosen model here')
    .option('--max-size <MB>', 'the written file holds at most this many megabytes (10^6 bytes)')
    .option(
      '--bits-per-weight <bits>',
      "the layers' weights take at most this many bits each, scales and codes",
    )
    .option('--min-sqnr <dB>', "the worst output's SQNR against the float model is at least this")
    .option(
      '--max-drop <x>',
      'the --metric score drops at most this much from the float model (needs --metric)',
    )
    .option('--metric <module>', 'ES module scoring a model on your data (format below)')
    .option(
      '--max-latency-ratio <r>',
      "the model takes at most r times the float model's latency in onnxruntime",
    )
    .option(
      '--candidates <list>',
      `comma-separated choices per layer (default all: ${AUTO_CANDIDATES.map((c) => c.name).join(', ')})`,
      collectList,
    )
    .option(
      '--calib <dir>',
      `compare outputs on the first ${AUTO_SAMPLES} samples of this folder (default: seeded random inputs)`,
    )
    .option('--workers <n>', 'worker threads for the measurements (default: one per core)')
    .option(
      '--weight-only-form <form>',
      'int8 weights as "dequantize" (DequantizeLinear each run) or "fold" (fp32 at load, fp32 speed); default fold with --max-latency-ratio',
    )
    .option(
      '--recipe-out <file>',
      'write the recipe (per-node overrides), for `quantkit quantize --recipe <file>`',
    )
    .option(
      '--report <file>',
      'write the sensitivity table and Pareto front: an HTML page for .html/.htm, JSON otherwise',
    )
    .option('--force', 'overwrite existing output, --recipe-out and --report files')
    .option('--json', 'print one JSON object on stdout instead of text')
    .addHelpText(
      'after',
      `\nCandidates (all weight-only, mixed per layer in one model):\n${AUTO_CANDIDATES.map(
        (candidate) => `  ${candidate.name.padEnd(7)} ${candidate.description}`,
      ).join('\n')}\nNot offered: ${UNMIXED_FORMATS}.\n${METRIC_HELP}`,
    )
    .action(async (inputArgument: string, flags: AutoFlags) => {
      const maxSizeMb = parseNumberFlag('--max-size', flags.maxSize, 'megabytes');
      const bitsPerWeight = parseNumberFlag('--bits-per-weight', flags.bitsPerWeight, 'bits');
      const minSqnr = parseNumberFlag('--min-sqnr', flags.minSqnr, 'dB');
      const maxDrop = parseNumberFlag('--max-drop', flags.maxDrop, 'metric units');
      const maxLatencyRatio = parseNumberFlag('--max-latency-ratio', flags.maxLatencyRatio, 'times');
      const workers = parseIntegerFlag('--workers', flags.workers, { min: 1 });
      const weightOnlyForm = parseChoiceFlag('--weight-only-form', flags.weightOnlyForm, WEIGHT_ONLY_FORMS);
      if (maxSizeMb !== undefined && !(maxSizeMb > 0))
        throw new QuantError(
          'INVALID_ARGUMENT',
          `--max-size must be above 0 megabytes, got ${flags.maxSize}`,
        );
      if ((flags.maxDrop === undefined) !== (flags.metric === undefined))
        throw new QuantError(
          'INVALID_ARGUMENT',
          flags.metric === undefined ? '--max-drop needs --metric <module>' : '--metric needs --max-drop <x>',
        );
      if (flags.candidates !== undefined) inFlagTermsSync(() => autoCandidates(flags.candidates));

      const input = userPath(io, inputArgument);
      const output = userPath(io, flags.output);
      const recipeOut = flags.recipeOut === undefined ? undefined : userPath(io, flags.recipeOut);
      const reportPath = flags.report === undefined ? undefined : userPath(io, flags.report);
      const calib = flags.calib === undefined ? undefined : userPath(io, flags.calib);
      const file = await readModelFile(input, 'input model');
      await requireFilePath(io, '-o', flags.output, 'model.auto.onnx');
      if (flags.recipeOut !== undefined)
        await requireFilePath(io, '--recipe-out', flags.recipeOut, 'recipe.json');
      if (flags.report !== undefined) await requireFilePath(io, '--report', flags.report, 'auto.html');
      if (calib !== undefined) await requireExisting(calib, 'calibration folder', 'folder');
      const metricPath = flags.metric === undefined ? undefined : userPath(io, flags.metric);
      const reads: FileUse[] = [
        ...modelFileUses('input model', file),
        ...(metricPath !== undefined && (await exists(metricPath))
          ? [{ role: '--metric module', path: metricPath }]
          : []),
        ...(calib !== undefined
          ? (await calibrationFiles(calib)).map((path) => ({ role: '--calib file', path }))
          : []),
      ];
      await checkWrites(
        reads,
        [
          { role: 'output', path: output },
          ...(recipeOut !== undefined ? [{ role: '--recipe-out', path: recipeOut }] : []),
          ...(reportPath !== undefined ? [{ role: '--report', path: reportPath }] : []),
        ],
        { force: flags.force === true },
      ).catch((error: unknown) => {
        throw inFlagTerms(error);
      });
      const metric = metricPath === undefined ? undefined : await loadMetric(metricPath);
      const { executor } = await createCliRegistry([], io.cwd);

      // One status line on a terminal: each model written and measured is a step, and a large model takes many.
      const showProgress = flags.json !== true && io.stderr.isTTY === true;
      let progressShown = false;
      const onProgress = (event: { phase: string; done: number; total: number }) => {
        if (!showProgress) return;
        io.stderr.write(`\r\x1b[2K${event.phase}: ${event.done}/${event.total}`);
        progressShown = true;
      };
      let result: AutoQuantizeResult;
      try {
        result = await autoQuantize(file.bytes, {
          executor,
          onProgress,
          modelName: input,
          ...(maxSizeMb !== undefined && { maxSize: Math.floor(maxSizeMb * 1e6) }),
          ...(bitsPerWeight !== undefined && { bitsPerWeight }),
          ...(minSqnr !== undefined && { minSqnr }),
          ...(maxDrop !== undefined && { maxDrop }),
          ...(metric !== undefined && { metric }),
          ...(maxLatencyRatio !== undefined && { maxLatencyRatio }),
          ...(flags.candidates !== undefined && { candidates: flags.candidates }),
          ...(workers !== undefined && { workers }),
          ...(weightOnlyForm !== undefined && { weightOnlyForm }),
          ...(calib !== undefined && {
            calibrationData: sampleSource({ kind: 'folder', dir: calib }, file.inputs, {
              limit: AUTO_SAMPLES,
            }),
          }),
        });
      } catch (error) {
        throw inFlagTerms(error);
      } finally {
        if (progressShown) io.stderr.write('\r\x1b[2K');
      }
      await writeFileAtomic(output, result.bytes);
      if (recipeOut !== undefined) {
        await writeFileAtomic(
          recipeOut,
          new TextEncoder().encode(`${JSON.stringify(result.recipe, null, 2)}\n`),
        );
      }
      if (reportPath !== undefined) {
        const extension = extname(reportPath).toLowerCase();
        if (extension === '.html' || extension === '.htm')
          await writeAutoReportHtml(reportPath, result.report);
        else await writeFileAtomic(reportPath, new TextEncoder().encode(`${toJson(result.report, 2)}\n`));
      }
      if (flags.json === true) {
        writeJson(io, {
          ok: true,
          command: 'auto',
          input,
          output,
          recipe: recipeOut ?? null,
          report: reportPath ?? null,
          assignment: result.assignment,
          chosen: result.report.chosen,
          floatSize: result.report.floatSize,
        });
      } else {
        const lines = formatAutoResult(input, output, result);
        if (recipeOut !== undefined)
          lines.push(`  recipe       ${recipeOut} (quantkit quantize --recipe ${recipeOut})`);
        if (reportPath !== undefined) lines.push(`  report       ${reportPath}`);
        io.stdout.write(`${lines.join('\n')}\n`);
      }
    });
}

/** Runs a check whose QuantError names options, worded in flags. */
function inFlagTermsSync(check: () => unknown): void {
  try {
    check();
  } catch (error) {
    throw inFlagTerms(error);
  }
}
