import { extname } from 'node:path';
import { calibrationFiles } from '@quantkit/calibration/node';
import { type ExecutorPlugin, QuantError } from '@quantkit/core';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import { checkWrites, writeFileAtomic } from '@quantkit/onnx/node';
import {
  type CompareReport,
  type ComparedModel,
  DEFAULT_RANDOM_SAMPLES,
  DEFAULT_SEED,
  type ModelComparison,
  RANDOM_DATA_TEXT,
  buildCompareReport,
  compareModels,
} from '@quantkit/quantize';
import { type SampleOrigin, sampleSource } from '@quantkit/quantize/node';
import { writeReportHtml } from '@quantkit/report/node';
import { Command } from 'commander';
import { type CliIo, toJson, writeJson } from '../cli-io.js';
import { inFlagTerms } from '../flag-terms.js';
import { collectRepeated, parseChoiceFlag, parseIntegerFlag } from '../flags.js';
import { createCliRegistry } from '../cli-registry.js';
import { RUNTIMES, executorFor } from '../runtime-choice.js';
import { formatMetric, formatTable } from '../format.js';
import { type ModelFile, modelFileUses, readModelFile } from '../model-file.js';
import { exists, requireExisting, requireFilePath, userPath } from '../paths.js';

/** Rows of the per-layer table printed without --all. */
export const LAYER_ROWS_SHOWN = 20;

/** What `quantkit compare` found: the two files, where the inputs came from, and the comparison. */
export interface CompareRun extends ModelComparison {
  readonly reference: string;
  readonly candidate: string;
  /** Where the inputs came from: a folder, or random data with the seed used. */
  readonly data: SampleOrigin;
}

export interface CompareOptions {
  readonly dataDir?: string | undefined;
  readonly samples?: number | undefined;
  readonly seed?: number;
  /** Also compare every value both models compute. */
  readonly perLayer?: boolean;
  /** What runs both models (default onnxruntime-node). */
  readonly executor?: ExecutorPlugin;
}

/** A model file as compareModels takes it: named by its path, run from the bytes read. */
function compared(file: ModelFile): ComparedModel {
  return { name: file.path, model: file.model, bytes: file.bytes };
}

/**
 * Runs two model files on the same inputs with onnxruntime-node (compareModels): the --data folder or seeded
 * random inputs.
 *
 * @example const run = await compareModelFiles(await readModelFile('a.onnx'), await readModelFile('b.onnx'), {});
 * @throws QuantError NOT_FOUND for a missing data folder, plus everything compareModels throws, worded in flags.
 */
export async function compareModelFiles(
  reference: ModelFile,
  candidate: ModelFile,
  options: CompareOptions,
): Promise<CompareRun> {
  if (options.dataDir !== undefined) await requireExisting(options.dataDir, 'data folder', 'folder');
  const data: SampleOrigin =
    options.dataDir === undefined
      ? { kind: 'random', seed: options.seed ?? DEFAULT_SEED }
      : { kind: 'folder', dir: options.dataDir };
  // A factory, so the per-layer comparison can read the same samples again in as many passes as it needs. Random
  // data that cannot be made asks for dataDir, which flag-terms words as --data.
  const samples = sampleSource(data, reference.inputs, {
    limit: options.samples ?? (data.kind === 'random' ? DEFAULT_RANDOM_SAMPLES : undefined),
    dataOption: 'dataDir',
  });
  try {
    const comparison = await compareModels(compared(reference), compared(candidate), {
      executor: options.executor ?? createOrtNodeExecutor(),
      samples,
      perLayer: options.perLayer === true,
      samplesFrom: options.dataDir,
    });
    return { reference: reference.path, candidate: candidate.path, data, ...comparison };
  } catch (error) {
    throw inFlagTerms(error);
  }
}

/** Writes the report file: the HTML page for .html/.htm, JSON otherwise (as `quantize --report` does). */
async function writeCompareReport(path: string, report: CompareReport): Promise<void> {
  const extension = extname(path).toLowerCase();
  if (extension === '.html' || extension === '.htm') {
    await writeReportHtml(path, report);
  } else {
    await writeFileAtomic(path, new TextEncoder().encode(`${toJson(report, 2)}\n`));
  }
}

/** The text `quantkit compare` prints. */
export function formatCompareReport(report: CompareRun, options: { readonly all?: boolean } = {}): string[] {
  const source =
    report.data.kind === 'folder'
      ? `${report.samples} samples from ${report.data.dir}`
      : `${report.samples} random samples (seed ${report.data.seed}; ${RANDOM_DATA_TEXT}; ` +
        'pass --data <dir> for real inputs)';
  const rows = [
    ['output', 'SQNR dB', 'cosine', 'max abs err', 'top-1'],
    ...report.outputs.map((output) => [
      output.output,
      formatMetric(output.sqnr, 2),
      formatMetric(output.cosine, 6),
      formatMetric(output.maxAbsError, 6),
      output.top1Agreement === null ? 'n/a' : `${(output.top1Agreement * 100).toFixed(1)}%`,
    ]),
  ];
  const lines = [
    `${report.candidate} vs ${report.reference}`,
    `inputs: ${source}`,
    ...formatTable(rows, [1, 2, 3, 4]).map((line) => `  ${line}`),
  ];
  if (report.layers !== undefined) {
    const shown = options.all === true ? report.layers : report.layers.slice(0, LAYER_ROWS_SHOWN);
    const more =
      shown.length < report.layers.length
        ? ` (the worst ${shown.length} of ${report.layers.length}; --all shows every one)`
        : '';
    lines.push(`layers: ${report.layers.length} values both models compute, worst first${more}`);
    const layerRows = [
      ['value', 'op', 'SQNR dB', 'cosine', 'max abs err'],
      ...shown.map((layer) => [
        layer.value,
        layer.opType,
        formatMetric(layer.sqnr, 2),
        formatMetric(layer.cosine, 6),
        formatMetric(layer.maxAbsError, 6),
      ]),
    ];
    lines.push(...formatTable(layerRows, [2, 3, 4]).map((line) => `  ${line}`));
  }
  return lines;
}

interface CompareFlags {
  readonly data?: string;
  readonly samples?: string;
  readonly seed?: string;
  readonly perLayer?: boolean;
  readonly all?: boolean;
  readonly report?: string;
  readonly force?: boolean;
  readonly json?: boolean;
  readonly runtime?: string;
  readonly plugin?: string[];
}

/** `quantkit compare`: see --help. */
export function compareCommand(io: CliIo): Command {
  return new Command('compare')
    .description('run two models (e.g. float and quantized) on the same inputs and compare their outputs')
    .argument('<reference>', 'the reference model (usually the float original)')
    .argument('<candidate>', 'the model to measure (usually the quantized one)')
    .option('--data <dir>', 'input data in the calibration layout (random inputs when omitted)')
    .option('--samples <n>', `use at most this many samples (random data: default ${DEFAULT_RANDOM_SAMPLES})`)
    .option('--seed <n>', `seed for random inputs (default ${DEFAULT_SEED})`)
    .option('--per-layer', 'also compare every value both models compute, worst first')
    .option('--runtime <name>', `what runs both models: ${RUNTIMES.join(', ')} (default ort-node)`)
    .option(
      '--plugin <path-or-package>',
      'load kernel and backend plugins for --runtime quantkit (repeatable)',
      collectRepeated,
    )
    .option('--all', `with --per-layer, list every layer (default: the worst ${LAYER_ROWS_SHOWN})`)
    .option(
      '--report <file>',
      'write the per-layer comparison: an HTML page for .html/.htm, JSON otherwise (implies --per-layer)',
    )
    .option('--force', 'overwrite an existing --report file')
    .option('--json', 'print one JSON object on stdout instead of text')
    .action(async (referenceArgument: string, candidateArgument: string, flags: CompareFlags) => {
      const samples = parseIntegerFlag('--samples', flags.samples, { min: 1 });
      const seed = parseIntegerFlag('--seed', flags.seed, { min: 0, max: 2 ** 32 - 1 });
      if (seed !== undefined && flags.data !== undefined) {
        throw new QuantError(
          'INVALID_ARGUMENT',
          '--seed applies to random inputs only; drop it or drop --data',
        );
      }
      const perLayer = flags.perLayer === true || flags.report !== undefined;
      if (flags.all === true && !perLayer)
        throw new QuantError('INVALID_ARGUMENT', '--all needs --per-layer');
      const reference = await readModelFile(userPath(io, referenceArgument));
      const candidate = await readModelFile(userPath(io, candidateArgument));
      const reportPath = flags.report === undefined ? undefined : userPath(io, flags.report);
      if (flags.report !== undefined && reportPath !== undefined) {
        await requireFilePath(io, '--report', flags.report, 'report.html');
        const dataDir = flags.data === undefined ? undefined : userPath(io, flags.data);
        await checkWrites(
          [
            ...modelFileUses('reference model', reference),
            ...modelFileUses('candidate model', candidate),
            ...(dataDir !== undefined && (await exists(dataDir))
              ? (await calibrationFiles(dataDir)).map((path) => ({ role: '--data file', path }))
              : []),
          ],
          [{ role: '--report', path: reportPath }],
          { force: flags.force === true },
        ).catch((error: unknown) => {
          throw inFlagTerms(error);
        });
      }

      const runtime = parseChoiceFlag('--runtime', flags.runtime, RUNTIMES) ?? 'ort-node';
      const { registry } = await createCliRegistry(flags.plugin ?? [], io.cwd);
      const report = await compareModelFiles(reference, candidate, {
        executor: executorFor(runtime, 1, registry),
        dataDir: flags.data === undefined ? undefined : userPath(io, flags.data),
        samples,
        perLayer,
        ...(seed !== undefined && { seed }),
      });
      if (reportPath !== undefined) {
        const document = buildCompareReport(report, compared(reference), compared(candidate));
        await writeCompareReport(reportPath, document);
      }
      if (flags.json === true) {
        writeJson(io, { ok: true, command: 'compare', ...report, report: reportPath ?? null });
      } else {
        const lines = formatCompareReport(report, { all: flags.all === true });
        if (reportPath !== undefined) lines.push(`report: ${reportPath}`);
        io.stdout.write(`${lines.join('\n')}\n`);
      }
    });
}
