import type { CalibrationInput } from '@quantkit/calibration';
import { QuantError, type Registry, listChoices } from '@quantkit/core';
import {
  type LayerReport,
  OUTPUT_FORMATS,
  QUANTIZE_MODES,
  WEIGHT_RANGES,
  type QuantizeOptions,
  type QuantizeReport,
  type QuantizeSummary,
  createDefaultRegistry,
} from '@quantkit/quantize';
import { quantizeFile } from '@quantkit/quantize/node';
import { Command } from 'commander';
import { type CliIo, writeJson } from '../cli-io.js';
import { collectList, collectRepeated, parseChoiceFlag, parseIntegerFlag } from '../flags.js';
import { formatBytes, formatMetric, formatTable } from '../format.js';
import { createCliRegistry } from '../cli-registry.js';
import { readModelFile } from '../model-file.js';
import { createProgressReporter } from '../progress.js';
import { requireExisting, userPath } from '../paths.js';
import { DEFAULT_RANDOM_SAMPLES, DEFAULT_SEED } from '../random-samples.js';
import { type SampleFactory, type SampleOrigin, sampleSource } from '../sample-source.js';

/** Targets `--target` accepts today; hardware profiles will add names here. */
export const CLI_TARGETS: readonly string[] = ['auto'];

const GRANULARITY_CHOICES = ['tensor', 'channel', 'block'] as const;

/** The raw option bag commander hands the quantize action. */
export interface QuantizeFlags {
  readonly output: string;
  readonly mode?: string;
  readonly quantizer?: string;
  readonly bits?: string;
  readonly granularity?: string;
  readonly blockSize?: string;
  readonly symmetric?: boolean;
  readonly asymmetric?: boolean;
  readonly activationSymmetric?: boolean;
  readonly activationBits?: string;
  readonly weightRange?: string;
  readonly accuracyLevel?: string;
  readonly calib?: string;
  readonly calibMethod?: string;
  readonly calibSamples?: string;
  readonly calibBatch?: string;
  readonly saveCalib?: string;
  readonly loadCalib?: string;
  readonly overrides?: string;
  readonly format?: string;
  readonly exclude?: readonly string[];
  readonly plugin?: readonly string[];
  readonly force?: boolean;
  readonly json?: boolean;
  readonly target?: string;
  readonly report?: string;
  readonly reportSamples?: string;
}

/** Flag values checked and converted; what the action passes to quantizeFile besides registry and callbacks. */
/** The pipeline options flags set directly; files (report, overrides, caches) travel separately as paths. */
export type FlagOptions = Omit<QuantizeOptions, 'report' | 'overrides' | 'calibrationData' | 'calibrationCache'>;

export interface QuantizeRequest {
  readonly options: FlagOptions;
  readonly calibrationDir: string | undefined;
  readonly calibrationLimit: number | undefined;
  readonly calibrationBatch: number | undefined;
  /** Paths as typed; the action resolves them against the working folder. */
  readonly loadCalibration: string | undefined;
  readonly saveCalibration: string | undefined;
  readonly overrides: string | undefined;
  readonly report: string | undefined;
  /** Samples the report compares on (--report-samples, default DEFAULT_RANDOM_SAMPLES). */
  readonly reportSamples: number;
}

/**
 * Checks every quantize flag that can be checked without reading files, and turns the flags into QuantizeOptions.
 *
 * @example parseQuantizeFlags({ output: 'out.onnx', mode: 'dynamic' }).options.mode // 'dynamic'
 * @throws QuantError INVALID_ARGUMENT naming the flag and the valid values; UNSUPPORTED for a --target that does
 * not exist yet.
 */
export function parseQuantizeFlags(flags: QuantizeFlags): QuantizeRequest {
  if (flags.target !== undefined && !CLI_TARGETS.includes(flags.target)) {
    throw new QuantError(
      'UNSUPPORTED',
      `--target ${JSON.stringify(flags.target)} is not available yet; valid targets: ${listChoices(CLI_TARGETS)}`,
    );
  }
  const mode = parseChoiceFlag('--mode', flags.mode, QUANTIZE_MODES) ?? 'static';
  const bits = parseIntegerFlag('--bits', flags.bits, { min: 2, max: 16 });
  const granularity = parseChoiceFlag('--granularity', flags.granularity, GRANULARITY_CHOICES);
  const blockSize = parseIntegerFlag('--block-size', flags.blockSize, { min: 1 });
  if (blockSize !== undefined && granularity !== 'block') {
    throw new QuantError('INVALID_ARGUMENT', '--block-size needs --granularity block');
  }
  const format = parseChoiceFlag('--format', flags.format, OUTPUT_FORMATS);
  if (flags.symmetric === true && flags.asymmetric === true) {
    throw new QuantError('INVALID_ARGUMENT', 'pass --symmetric or --asymmetric, not both');
  }
  const symmetric = flags.symmetric === true ? true : flags.asymmetric === true ? false : undefined;
  const activationBits = parseChoiceFlag('--activation-bits', flags.activationBits, ['8', '16'] as const);
  if (activationBits !== undefined && mode !== 'static') {
    throw new QuantError('INVALID_ARGUMENT', '--activation-bits applies to --mode static only');
  }
  const weightRange = parseChoiceFlag('--weight-range', flags.weightRange, WEIGHT_RANGES);
  const accuracyLevel = parseIntegerFlag('--accuracy-level', flags.accuracyLevel, { min: 0, max: 4 });
  const calibrationLimit = parseIntegerFlag('--calib-samples', flags.calibSamples, { min: 1 });

  const calibrationBatch = parseIntegerFlag('--calib-batch', flags.calibBatch, { min: 1 });
  const reportSamples = parseIntegerFlag('--report-samples', flags.reportSamples, { min: 1 });
  if (reportSamples !== undefined && flags.report === undefined) {
    throw new QuantError('INVALID_ARGUMENT', '--report-samples needs --report <file>');
  }

  if (mode === 'static') {
    if (flags.calib !== undefined && flags.loadCalib !== undefined) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        'pass --calib <dir> or --load-calib <file>, not both: choose one (--load-calib reuses saved ranges instead of calibrating)',
      );
    }
    if (flags.calib === undefined && flags.loadCalib === undefined) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        'static mode needs calibration data: pass --calib <dir> or --load-calib <file>, or use --mode dynamic or --mode weight-only',
      );
    }
    if (flags.loadCalib !== undefined) {
      // These shape how a folder is read; with saved ranges there is no folder, and silently ignoring them misleads.
      const folderFlags = [
        flags.calibSamples !== undefined && '--calib-samples',
        flags.calibBatch !== undefined && '--calib-batch',
      ].filter((flag): flag is string => flag !== false);
      if (folderFlags.length > 0) {
        throw new QuantError(
          'INVALID_ARGUMENT',
          `${folderFlags.join(' and ')} ${folderFlags.length === 1 ? 'applies' : 'apply'} to --calib <dir>, not --load-calib`,
        );
      }
    }
  } else {
    // Calibration flags in a data-free mode mean the user expects calibration that will not happen. --calib is the
    // exception when a report is asked for: it is then the data the report compares on.
    const stray = [
      flags.calib !== undefined && flags.report === undefined && '--calib',
      flags.calibMethod !== undefined && '--calib-method',
      flags.calibSamples !== undefined && '--calib-samples',
      flags.calibBatch !== undefined && '--calib-batch',
      flags.saveCalib !== undefined && '--save-calib',
      flags.loadCalib !== undefined && '--load-calib',
    ].filter((flag): flag is string => flag !== false);
    if (stray.length > 0) {
      const hint = stray.includes('--calib') ? ' (with --report, --calib gives the report its inputs)' : '';
      throw new QuantError(
        'INVALID_ARGUMENT',
        `${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} used only with --mode static, not --mode ${mode}${hint}`,
      );
    }
  }

  const options: FlagOptions = {
    mode,
    ...(flags.quantizer !== undefined && { quantizer: flags.quantizer }),
    ...(bits !== undefined && { bits }),
    ...(granularity !== undefined && { granularity }),
    ...(blockSize !== undefined && { blockSize }),
    ...(symmetric !== undefined && { symmetric }),
    ...(flags.activationSymmetric === true && { activationSymmetric: true }),
    ...(activationBits !== undefined && { activationBits: Number(activationBits) as 8 | 16 }),
    ...(weightRange !== undefined && { weightRange }),
    ...(accuracyLevel !== undefined && { accuracyLevel: accuracyLevel as 0 | 1 | 2 | 3 | 4 }),
    ...(flags.calibMethod !== undefined && { calibrationMethod: flags.calibMethod }),
    ...(format !== undefined && { format }),
    ...(flags.exclude !== undefined && flags.exclude.length > 0 && { exclude: [...flags.exclude] }),
  };
  return {
    options,
    calibrationDir: flags.calib,
    calibrationLimit,
    calibrationBatch,
    loadCalibration: flags.loadCalib,
    saveCalibration: flags.saveCalib,
    overrides: flags.overrides,
    report: flags.report,
    reportSamples: reportSamples ?? DEFAULT_RANDOM_SAMPLES,
  };
}

/** Fails early, naming the flag, when --quantizer or --calib-method names no registered plugin. */
function checkPluginNames(registry: Registry, options: FlagOptions): void {
  const checks = [
    ['--quantizer', 'quantizer', options.quantizer],
    ['--calib-method', 'observer', options.calibrationMethod],
  ] as const;
  for (const [flag, kind, name] of checks) {
    if (name === undefined || registry.find(kind, name) !== undefined) continue;
    const names = registry.list(kind).map((plugin) => plugin.name);
    throw new QuantError(
      'PLUGIN_NOT_FOUND',
      `${flag} must be ${listChoices(names)} (or a ${kind} loaded with --plugin), got ${JSON.stringify(name)}`,
      { details: { kind, name, available: names } },
    );
  }
}

/** The files quantizeFile reads or writes, by the word its messages use, and the flag that names each here. */
const FILE_FLAGS = {
  write: [
    ['calibration cache', '--save-calib'],
    ['report', '--report'],
    ['output', '--output'],
  ],
  read: [
    ['overrides file', '--overrides file'],
    ['overrides', '--overrides'],
    ['calibration cache', '--load-calib file'],
  ],
} as const;

/**
 * quantizeFile checks and reads its files itself and names them in its own words ("report", "calibration cache");
 * on the command line the user knows them by their flags, so the message is reworded to name the flag. Errors from
 * anywhere else pass through unchanged.
 */
export function withFlagNames(error: unknown): unknown {
  if (!QuantError.is(error)) return error;
  const names = error.code === 'OUTPUT_CONFLICT' ? FILE_FLAGS.write : FILE_FLAGS.read;
  let message = error.message.replace('pass force (--force)', 'pass --force');
  for (const [word, flag] of names) {
    // Only where a message starts with the word, or names it as a file ("cannot read ...", "x and y are ...").
    message = message.replace(new RegExp(`(^|^cannot read | and )${word}(?= )`), `$1${flag}`);
  }
  if (message === error.message) return error;
  return new QuantError(error.code, message, { cause: error, ...(error.details && { details: error.details }) });
}

function describeRecipe(summary: QuantizeSummary): string {
  const recipe = summary.recipe;
  const weights = `${recipe.quantizer} int${recipe.bits} ${recipe.granularity === 'tensor' ? 'per-tensor' : `per-${recipe.granularity}`} ${recipe.symmetric ? 'symmetric' : 'asymmetric'} weights`;
  return `${recipe.mode}, ${weights}`;
}

function ratio(before: number, after: number): string {
  if (before === 0 || after === 0) return '';
  // Tiny models can grow (Q/DQ nodes and scales outweigh the saved bytes); say so rather than print "0.2x smaller".
  return after <= before
    ? ` (${(before / after).toFixed(2)}x smaller)`
    : ` (${(after / before).toFixed(2)}x larger)`;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts.entries()];
}

/** The human summary: sizes, which op types were quantized and which stayed float and why. */
export function formatQuantizeSummary(
  input: string,
  output: string,
  summary: QuantizeSummary,
  loadedCache?: string,
): string[] {
  const quantized = summary.nodes.filter((node) => node.quantized);
  const kept = summary.nodes.filter((node) => !node.quantized);
  const lines = [
    `quantized ${input} -> ${output} (${describeRecipe(summary)})`,
    `  model size    ${formatBytes(summary.sizeBefore)} -> ${formatBytes(summary.sizeAfter)}${ratio(summary.sizeBefore, summary.sizeAfter)}`,
    `  weight bytes  ${formatBytes(summary.weightBytesBefore)} -> ${formatBytes(summary.weightBytesAfter)}${ratio(summary.weightBytesBefore, summary.weightBytesAfter)}`,
  ];
  const quantizedOps = countBy(quantized, (node) => node.opType).map(([op, count]) => `${op} x${count}`);
  lines.push(`  quantized     ${quantizedOps.length === 0 ? 'nothing' : quantizedOps.join(', ')}`);
  // Reasons usually start with the op type ("Relu has no quantized form; ..."); dropping it lets ops that stay
  // float for the same reason share one line.
  const byReason = new Map<string, Map<string, number>>();
  for (const node of kept) {
    const reason =
      (node.reason.startsWith(`${node.opType} `) ? node.reason.slice(node.opType.length + 1) : node.reason) ||
      'no reason given';
    const ops = byReason.get(reason) ?? new Map<string, number>();
    ops.set(node.opType, (ops.get(node.opType) ?? 0) + 1);
    byReason.set(reason, ops);
  }
  if (byReason.size === 0) lines.push('  kept float    nothing');
  [...byReason].forEach(([reason, ops], index) => {
    const list = [...ops].map(([op, count]) => `${op} x${count}`).join(', ');
    lines.push(`  ${index === 0 ? 'kept float' : ''.padEnd(10)}    ${list}: ${reason}`);
  });
  if (summary.mode === 'static') {
    const from = loadedCache === undefined ? '' : ` (ranges from ${loadedCache})`;
    lines.push(`  calibration   ${summary.calibrationSamples} samples${from}`);
  }
  return lines;
}

/** Layers worst first (lowest SQNR); layers whose SQNR is not a number go last. */
export function worstLayers(layers: readonly LayerReport[]): LayerReport[] {
  const key = (layer: LayerReport) => (Number.isNaN(layer.sqnr) ? Infinity : layer.sqnr);
  return [...layers].sort((a, b) => key(a) - key(b));
}

/** How many of the worst layers the human summary lists. */
export const WORST_LAYERS_SHOWN = 3;

/** The report lines of the human summary: where it went, what it compared on, and the worst layers. */
export function formatReportSummary(path: string, report: QuantizeReport, data: SampleOrigin): string[] {
  // Static runs get here without data only with --load-calib, where --calib is not allowed as well.
  const advice =
    report.summary.mode === 'static'
      ? 'ranges from --load-calib are judged on them, so clipping may differ on real data'
      : 'pass --calib <dir> to compare on real data';
  const flagged = report.layers.filter((layer) => layer.flagged).length;
  const lines = [
    `  report        ${path} (${report.layers.length} layers compared on ${report.samples} samples, ${flagged} flagged)`,
  ];
  if (data.kind === 'random') {
    lines.push(
      `  report data   random inputs (seed ${data.seed}; floats uniform in [-1, 1), symbolic dims set to 1); ` +
        advice,
    );
  }
  const worst = worstLayers(report.layers).slice(0, WORST_LAYERS_SHOWN);
  if (worst.length === 0) {
    lines.push('  worst layers  none (no quantized layer to compare)');
    return lines;
  }
  const rows = worst.map((layer) => [
    layer.node,
    `${formatMetric(layer.sqnr, 2)} dB`,
    layer.suggestion === undefined ? '' : `suggestion: ${layer.suggestion}`,
  ]);
  formatTable(rows, [1]).forEach((row, index) => {
    lines.push(`  ${index === 0 ? 'worst layers' : ''.padEnd(12)}  ${row}`);
  });
  return lines;
}

/** A flagged layer as --json prints it: the numbers and the suggestion, without the histograms. */
function flaggedLayerJson(layer: LayerReport) {
  return {
    node: layer.node,
    opType: layer.opType,
    output: layer.output,
    sqnr: layer.sqnr,
    cosine: layer.cosine,
    maxAbsError: layer.maxAbsError,
    suggestion: layer.suggestion ?? null,
  };
}

/**
 * Samples for the report when there is no calibration data for the pipeline to reuse. The model's inputs are only
 * known once it is read, so the model is decoded when the report first asks for samples, after quantizeFile has
 * checked every path and done the quantization.
 */
function lazyReportSamples(input: string, data: SampleOrigin, count: number): SampleFactory {
  let inputs: Promise<CalibrationInput[]> | undefined;
  return async function* () {
    inputs ??= readModelFile(input, 'input model').then((file) => file.inputs);
    yield* sampleSource(data, await inputs, count)();
  };
}

/** Observer plugin names for --help: whatever the built-in registry holds, so new observers appear by themselves. */
function builtinObserverNames(): string[] {
  return createDefaultRegistry()
    .list('observer')
    .map((plugin) => plugin.name);
}

/** An example for --help: the overrides file format (see QuantOverrides in @quantkit/quantize). */
const OVERRIDES_EXAMPLE = `
Overrides file (--overrides), JSON; keys are node/tensor names or globs (* and ?), nodes also match op types:
  {
    "nodes":   { "/head/Gemm": { "float": true }, "attn_*": { "bits": 4, "granularity": "channel" } },
    "tensors": { "logits": { "range": [-20, 20] }, "relu*": { "observer": "minmax", "symmetric": true } }
  }
  node settings: float, bits, symmetric, granularity; tensor settings (static mode): observer, symmetric, range`;

/** `quantkit quantize`: see --help. */
export function quantizeCommand(io: CliIo): Command {
  return new Command('quantize')
    .description('quantize an ONNX model (float32 -> int8 by default) and write a new model file')
    .argument('<input>', 'the float ONNX model to read (never modified)')
    .requiredOption('-o, --output <file>', 'where to write the quantized model')
    .option('--mode <mode>', `${listChoices(QUANTIZE_MODES)} (default "static")`)
    .option('--quantizer <name>', 'weight quantizer plugin (default "linear"; see `quantkit plugins`)')
    .option('--bits <n>', 'weight bits, 2 to 16 (default 8)')
    .option(
      '--granularity <granularity>',
      `weight granularity: ${listChoices(GRANULARITY_CHOICES)} (default "channel")`,
    )
    .option('--block-size <n>', 'elements per block, with --granularity block')
    .option('--symmetric', 'symmetric weights, zero point 0 (the default)')
    .option('--asymmetric', 'asymmetric weights, zero point chosen from the range')
    .option('--activation-symmetric', 'int8 activations with zero point 0 instead of uint8 with a zero point')
    .option('--activation-bits <n>', 'activation bits in static mode: "8" (default) or "16"')
    .option('--weight-range <method>', `weight ranges: ${listChoices(WEIGHT_RANGES)} (default "minmax")`)
    .option('--accuracy-level <n>', 'MatMulNBits compute: 4 int8 activations (default, faster) ... 0 float')
    .option('--calib <dir>', 'calibration data folder (--mode static needs it or --load-calib)')
    .option(
      '--calib-method <name>',
      `calibration observer: ${listChoices(builtinObserverNames())} (or one from --plugin; default "minmax")`,
    )
    .option('--calib-samples <n>', 'use at most this many calibration samples')
    .option('--calib-batch <n>', 'calibration samples per model run (inputs need a symbolic batch dimension)')
    .option('--save-calib <file>', 'save the calibrated ranges to this file, for --load-calib (static mode)')
    .option('--load-calib <file>', 'quantize with ranges saved by --save-calib instead of calibrating (static mode)')
    .option('--overrides <file>', 'JSON file of per-node and per-tensor settings (format below)')
    .option('--format <format>', `output format: ${listChoices(OUTPUT_FORMATS)} (default "qdq")`)
    .option(
      '--exclude <patterns>',
      'node names or op types to keep float (globs with * and ?; repeatable, comma-separated)',
      collectList,
    )
    .option('--plugin <path-or-package>', 'load plugins from an ES module (repeatable)', collectRepeated)
    .option('--target <name>', `hardware target: ${listChoices(CLI_TARGETS)} (default "auto")`)
    .option(
      '--report <file>',
      'write the per-layer error report: an HTML page for .html/.htm, JSON otherwise',
    )
    .option(
      '--report-samples <n>',
      `samples the report compares on (default ${DEFAULT_RANDOM_SAMPLES}; random inputs without --calib)`,
    )
    .option('--force', 'overwrite existing output, --report and --save-calib files')
    .option('--json', 'print one JSON object on stdout instead of text')
    .addHelpText('after', OVERRIDES_EXAMPLE)
    .action(async (inputArgument: string, flags: QuantizeFlags) => {
      const request = parseQuantizeFlags(flags);
      const mode = request.options.mode;
      const path = (typed: string | undefined) => (typed === undefined ? undefined : userPath(io, typed));
      const input = userPath(io, inputArgument);
      const output = userPath(io, flags.output);
      const report = path(request.report);
      const calibrationDir = path(request.calibrationDir);
      const loadCalibration = path(request.loadCalibration);
      const saveCalibration = path(request.saveCalibration);

      const { registry, executor } = await createCliRegistry(flags.plugin ?? [], io.cwd);
      checkPluginNames(registry, request.options);
      await requireExisting(input, 'input model', 'file');
      if (calibrationDir !== undefined) await requireExisting(calibrationDir, 'calibration folder', 'folder');

      // The report compares on the calibration data when the pipeline calibrates from a folder; otherwise the CLI
      // supplies samples: the --calib folder (data-free modes) or seeded random inputs.
      const reportData: SampleOrigin | undefined =
        report === undefined
          ? undefined
          : calibrationDir !== undefined
            ? { kind: 'folder', dir: calibrationDir }
            : { kind: 'random', seed: DEFAULT_SEED };
      const reportSamples =
        reportData === undefined || (mode === 'static' && calibrationDir !== undefined)
          ? undefined
          : lazyReportSamples(input, reportData, request.reportSamples);

      const progress = createProgressReporter(io, flags.json !== true, {
        samplesPerRun: request.calibrationBatch ?? 1,
      });
      let result: Awaited<ReturnType<typeof quantizeFile>>;
      try {
        result = await quantizeFile(input, output, {
          ...request.options,
          registry,
          ...((mode === 'static' || report !== undefined) && { executor }),
          ...(mode === 'static' && calibrationDir !== undefined && { calibrationDir }),
          ...(request.calibrationLimit !== undefined && { calibrationLimit: request.calibrationLimit }),
          ...(request.calibrationBatch !== undefined && { calibrationBatch: request.calibrationBatch }),
          ...(loadCalibration !== undefined && { loadCalibration }),
          ...(saveCalibration !== undefined && { saveCalibration }),
          ...(request.overrides !== undefined && { overrides: userPath(io, request.overrides) }),
          ...(report !== undefined && { report, reportLimit: request.reportSamples }),
          ...(reportSamples !== undefined && { reportSamples }),
          onProgress: (event) => progress.update(event),
          force: flags.force === true,
        });
      } catch (error) {
        throw withFlagNames(error);
      } finally {
        progress.stop();
      }

      const summary = result.summary;
      const layers = result.report?.layers;
      if (flags.json === true) {
        writeJson(io, {
          ok: true,
          command: 'quantize',
          input,
          output: result.outputPath,
          report: report ?? null,
          reportData: reportData ?? null,
          flaggedLayers: layers === undefined ? null : worstLayers(layers.filter((layer) => layer.flagged)).map(flaggedLayerJson),
          calibrationCache: saveCalibration ?? null,
          summary,
        });
      } else {
        const lines = formatQuantizeSummary(input, result.outputPath, summary, loadCalibration);
        if (saveCalibration !== undefined) lines.push(`  saved ranges  ${saveCalibration} (use with --load-calib)`);
        if (report !== undefined && result.report !== undefined && reportData !== undefined) {
          lines.push(...formatReportSummary(report, result.report, reportData));
        }
        io.stdout.write(`${lines.join('\n')}\n`);
      }
    });
}
