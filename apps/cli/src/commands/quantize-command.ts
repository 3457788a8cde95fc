import type { CalibrationInput } from '@quantkit/calibration';
import { countCalibrationSamples } from '@quantkit/calibration/node';
import { QuantError, type Registry, listChoices } from '@quantkit/core';
import {
  FLOAT_PRECISIONS,
  type LayerReport,
  OUTPUT_FORMATS,
  QUANTIZE_MODES,
  WEIGHT_RANGES,
  type QuantizeOptions,
  type QuantizeReport,
  type QuantizeSummary,
  type SampleFactory,
  createDefaultRegistry,
  DEFAULT_RANDOM_SAMPLES,
  DEFAULT_SEED,
  RANDOM_DATA_TEXT,
} from '@quantkit/quantize';
import { type SampleOrigin, quantizeFile, sampleSource } from '@quantkit/quantize/node';
import { formatSuggestion } from '@quantkit/report';
import { formatIssues } from '@quantkit/targets';
import { Command } from 'commander';
import { type CliIo, writeJson } from '../cli-io.js';
import { collectList, collectRepeated, parseChoiceFlag, parseIntegerFlag } from '../flags.js';
import { formatBytes, formatMetric, formatTable } from '../format.js';
import { createCliRegistry } from '../cli-registry.js';
import { readModelFile } from '../model-file.js';
import { createProgressReporter } from '../progress.js';
import { requireExisting, requireFilePath, userPath } from '../paths.js';
import { FLAG_NAMES, inFlagTerms } from '../flag-terms.js';

import {
  AUTO_TARGET,
  type ChosenTarget,
  chosenTargetJson,
  describeTarget,
  resolveTarget,
  targetHelp,
} from '../resolve-target.js';

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
  /** Commander's negation of --no-keep-first-last: false when given. */
  readonly keepFirstLast?: boolean;
  readonly float?: string;
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
  /** False with --no-verify. */
  readonly verify?: boolean;
  readonly json?: boolean;
  readonly target?: string;
  readonly report?: string;
  readonly reportSamples?: string;
}

/**
 * The pipeline options flags set directly; files (report, overrides, caches) travel separately as paths, and the
 * target once the registry (which --plugin may extend) has resolved it.
 */
export type FlagOptions = Omit<
  QuantizeOptions,
  'report' | 'overrides' | 'calibrationData' | 'calibrationCache' | 'target'
>;

/** Flag values checked and converted; what the action passes to quantizeFile besides registry and callbacks. */
export interface QuantizeRequest {
  readonly options: FlagOptions;
  /** --target as typed ('auto' when not given); checked against the registry by resolveTarget. */
  readonly target: string;
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
 * The --target name and the combinations of --float with a mode or opset are checked later, by resolveTarget
 * and the pipeline, whose errors name options by flag through inFlagTerms.
 *
 * @example parseQuantizeFlags({ output: 'out.onnx', mode: 'dynamic' }).options.mode // 'dynamic'
 * @throws QuantError INVALID_ARGUMENT naming the flag and the valid values.
 */
export function parseQuantizeFlags(flags: QuantizeFlags): QuantizeRequest {
  const mode = parseChoiceFlag('--mode', flags.mode, QUANTIZE_MODES) ?? 'static';
  const bits = parseIntegerFlag('--bits', flags.bits, { min: 1, max: 16 });
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
  const floatPrecision = parseChoiceFlag('--float', flags.float, FLOAT_PRECISIONS);
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
    // --calib is welcome in every mode: float mode keeps what overflows fp16 in fp32, and every mode runs the
    // written model on its first sample.
    const reads = mode === 'float';
    const stray = [
      flags.calibMethod !== undefined && '--calib-method',
      !reads && flags.calibSamples !== undefined && '--calib-samples',
      !reads && flags.calibBatch !== undefined && '--calib-batch',
      flags.saveCalib !== undefined && '--save-calib',
      flags.loadCalib !== undefined && '--load-calib',
    ].filter((flag): flag is string => flag !== false);
    if (stray.length > 0) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} used only with --mode static, not --mode ${mode}`,
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
    ...(floatPrecision !== undefined && { floatPrecision }),
    ...(accuracyLevel !== undefined && { accuracyLevel: accuracyLevel as 0 | 1 | 2 | 3 | 4 }),
    ...(flags.keepFirstLast === false && { keepHigherPrecision: false }),
    ...(flags.calibMethod !== undefined && { calibrationMethod: flags.calibMethod }),
    ...(format !== undefined && { format }),
    ...(flags.exclude !== undefined && flags.exclude.length > 0 && { exclude: [...flags.exclude] }),
  };
  return {
    options,
    target: flags.target ?? AUTO_TARGET,
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

function describeRecipe(summary: QuantizeSummary): string {
  const recipe = summary.recipe;
  if (recipe.mode === 'float') return `float, ${recipe.floatPrecision ?? 'fp16'} weights`;
  const granularity =
    recipe.granularity === 'tensor'
      ? 'per-tensor'
      : recipe.granularity === 'block'
        ? `per-block (${recipe.blockSize})`
        : `per-${recipe.granularity}`;
  const weights = `${recipe.quantizer} int${recipe.bits} ${granularity} ${recipe.symmetric ? 'symmetric' : 'asymmetric'} weights`;
  // q4f16 and friends: what stays float is converted too.
  const float = recipe.floatPrecision === undefined ? '' : `, ${recipe.floatPrecision} for the rest`;
  return `${recipe.mode}, ${weights}${float}`;
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

/**
 * The plan words a node that is stored in int8 but computes in float as "weights stored in ..." (the weight-only
 * form). In a mode that promises integer compute that is a fallback worth saying, not a detail for --json only.
 */
const WEIGHT_ONLY_REASON = 'weights stored in ';

/**
 * Note lines for nodes that static or dynamic mode quantized only as weight-only (dynamic mode below opset 11
 * for Conv, static mode inside If/Loop bodies), grouped by the plan's reason.
 *
 * @example weightOnlyNotes(summary) // ['  note          Conv x1 ran as weight-only, not dynamic: weights stored in int8 (...)']
 */
function weightOnlyNotes(summary: QuantizeSummary): string[] {
  if (summary.mode !== 'static' && summary.mode !== 'dynamic') return [];
  const byReason = new Map<string, Map<string, number>>();
  for (const node of summary.nodes) {
    if (!node.quantized || !node.reason.startsWith(WEIGHT_ONLY_REASON)) continue;
    const ops = byReason.get(node.reason) ?? new Map<string, number>();
    ops.set(node.opType, (ops.get(node.opType) ?? 0) + 1);
    byReason.set(node.reason, ops);
  }
  return [...byReason].map(([reason, ops], index) => {
    const list = [...ops].map(([op, count]) => `${op} x${count}`).join(', ');
    return `  ${index === 0 ? 'note' : ''.padEnd(4)}          ${list} ran as weight-only, not ${summary.mode}: ${reason}`;
  });
}

/** What the human summary says besides the pipeline's summary. */
export interface SummaryContext {
  /** The --load-calib file the ranges came from. */
  readonly loadedCache?: string | undefined;
  /** The target the run planned for, and why. */
  readonly target?: ChosenTarget | undefined;
}

/**
 * The human summary: the target, sizes, which op types were quantized and which stayed float and why. The
 * compatibility warnings are not part of it; the command prints them after everything else (formatIssues).
 */
export function formatQuantizeSummary(
  input: string,
  output: string,
  summary: QuantizeSummary,
  context: SummaryContext = {},
): string[] {
  const quantized = summary.nodes.filter((node) => node.quantized);
  const kept = summary.nodes.filter((node) => !node.quantized);
  const lines = [`quantized ${input} -> ${output} (${describeRecipe(summary)})`];
  if (context.target !== undefined) lines.push(`  target        ${describeTarget(context.target)}`);
  lines.push(
    `  model size    ${formatBytes(summary.sizeBefore)} -> ${formatBytes(summary.sizeAfter)}${ratio(summary.sizeBefore, summary.sizeAfter)}`,
    `  weight bytes  ${formatBytes(summary.weightBytesBefore)} -> ${formatBytes(summary.weightBytesAfter)}${ratio(summary.weightBytesBefore, summary.weightBytesAfter)}`,
  );
  const quantizedOps = countBy(quantized, (node) => node.opType).map(([op, count]) => `${op} x${count}`);
  // Float mode converts rather than quantizes; the decisions are the same shape.
  const done = summary.mode === 'float' ? 'converted' : 'quantized';
  lines.push(`  ${done}     ${quantizedOps.length === 0 ? 'nothing' : quantizedOps.join(', ')}`);
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
  lines.push(...weightOnlyNotes(summary));
  if (summary.qoperator !== undefined) {
    const keptQdq = countBy([...summary.qoperator.kept], (node) => node.opType).map(
      ([op, count]) => `${op} x${count}`,
    );
    lines.push(
      `  qoperator     ${summary.qoperator.converted} nodes became integer operators` +
        (keptQdq.length === 0 ? '' : `; kept as QDQ: ${keptQdq.join(', ')}`),
    );
  }
  if (summary.mode === 'static' || summary.calibrationSamples > 0) {
    const from = context.loadedCache === undefined ? '' : ` (ranges from ${context.loadedCache})`;
    lines.push(`  calibration   ${summary.calibrationSamples} samples${from}`);
  }
  if (
    summary.mode === 'float' &&
    summary.recipe.floatPrecision === 'fp16' &&
    summary.calibrationSamples === 0
  ) {
    lines.push("  range check   none: pass --calib <dir> so that values beyond fp16's 65504 stay fp32");
  }
  const verification = summary.verification;
  if (verification !== undefined) {
    lines.push(
      verification.verified
        ? `  verified      ${verification.runtime} loads it and runs it on a ${verification.sample} sample: outputs ` +
            `finite` +
            (verification.outputs.length === 0
              ? ''
              : `, SQNR ${verification.outputs.map((o) => `${o.name} ${formatSqnr(o.sqnr)}`).join(', ')}`)
        : `  not verified  ${verification.reason}`,
    );
  }
  return lines;
}

function formatSqnr(sqnr: number): string {
  return Number.isFinite(sqnr) ? `${sqnr.toFixed(1)} dB` : sqnr > 0 ? 'inf dB (exact)' : `${sqnr} dB`;
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
    lines.push(`  report data   random inputs (seed ${data.seed}; ${RANDOM_DATA_TEXT}); ` + advice);
  }
  const worst = worstLayers(report.layers).slice(0, WORST_LAYERS_SHOWN);
  if (worst.length === 0) {
    lines.push('  worst layers  none (no quantized layer to compare)');
    return lines;
  }
  const rows = worst.map((layer) => [
    layer.node,
    `${formatMetric(layer.sqnr, 2)} dB`,
    layer.suggestion === undefined ? '' : `suggestion: ${formatSuggestion(layer.suggestion)}`,
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
    yield* sampleSource(data, await inputs, { limit: count })();
  };
}

/**
 * Model runs in one pass of calibration over a folder, as quantizeFile counts them: the samples (at most `limit`)
 * in batches of `batch`. Undefined when the folder cannot be read as calibration data; quantizeFile then refuses
 * it with the reason, in its turn among its other checks.
 */
export async function calibrationRunsPerPass(
  dir: string,
  limit: number | undefined,
  batch: number,
): Promise<number | undefined> {
  let available: number;
  try {
    available = await countCalibrationSamples(dir);
  } catch (error) {
    if (QuantError.is(error)) return undefined;
    throw error;
  }
  return Math.ceil(Math.min(limit ?? available, available) / batch);
}

/** Observer plugin names for --help: whatever the built-in registry holds, so new observers appear by themselves. */
function builtinObserverNames(): string[] {
  return createDefaultRegistry()
    .list('observer')
    .map((plugin) => plugin.name);
}

/** Examples for --help: common recipes, one line each. */
const RECIPE_EXAMPLES = `
Examples:
  int8, calibrated        quantkit quantize model.onnx -o model.int8.onnx --calib calib/
  int8, no data           quantkit quantize model.onnx -o model.int8.onnx --mode dynamic
  for TensorRT            quantkit quantize model.onnx -o model.trt.onnx --calib calib/ --target gpu-tensorrt
  q4f16                   quantkit quantize model.onnx -o model.q4f16.onnx --mode weight-only --granularity block --bits 4 --float fp16
  fp16                    quantkit quantize model.onnx -o model.fp16.onnx --mode float
  fp8 weights (opset 19+) quantkit quantize model.onnx -o model.fp8.onnx --mode float --float fp8-e4m3fn`;

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
    .option(
      '--mode <mode>',
      `${listChoices(QUANTIZE_MODES)} (default "static"); "float" only narrows floats (--float, default fp16)`,
    )
    .option('--quantizer <name>', 'weight quantizer plugin (default "linear"; see `quantkit plugins`)')
    .option('--bits <n>', 'weight bits, 1 to 16 (default 8; 1 for --quantizer binary, 3..8 for log)')
    .option(
      '--no-keep-first-last',
      'quantize the first and last layers like the rest (low-bit quantizers keep them int8)',
    )
    .option(
      '--granularity <granularity>',
      `weight granularity: ${listChoices(GRANULARITY_CHOICES)} (default "channel", or the target's)`,
    )
    .option('--block-size <n>', 'elements per block, with --granularity block')
    .option('--symmetric', "symmetric weights, zero point 0 (every built-in target's default)")
    .option('--asymmetric', 'asymmetric weights, zero point chosen from the range')
    .option(
      '--activation-symmetric',
      "int8 activations with zero point 0 instead of uint8 with a zero point (default: the target's)",
    )
    .option('--activation-bits <n>', 'activation bits in static mode: "8" (default) or "16"')
    .option('--weight-range <method>', `weight ranges: ${listChoices(WEIGHT_RANGES)} (default "minmax")`)
    .option('--accuracy-level <n>', 'MatMulNBits compute: 4 int8 activations (default, faster) ... 0 float')
    .option(
      '--float <precision>',
      `convert what stays float to ${listChoices(FLOAT_PRECISIONS)} (fp8: --mode float, opset 19+; --mode float defaults to "fp16")`,
    )
    .option(
      '--calib <dir>',
      'calibration data folder: static mode calibrates on it (or --load-calib), float mode keeps what overflows fp16 in fp32, every mode verifies the output on its first sample',
    )
    .option(
      '--calib-method <name>',
      `calibration observer: ${listChoices(builtinObserverNames())} (or one from --plugin; default "minmax")`,
    )
    .option('--calib-samples <n>', 'use at most this many calibration samples')
    .option('--calib-batch <n>', 'calibration samples per model run (inputs need a symbolic batch dimension)')
    .option('--save-calib <file>', 'save the calibrated ranges to this file, for --load-calib (static mode)')
    .option(
      '--load-calib <file>',
      'quantize with ranges saved by --save-calib instead of calibrating (static mode)',
    )
    .option('--overrides <file>', 'JSON file of per-node and per-tensor settings (format below)')
    .option(
      '--format <format>',
      `output format: ${listChoices(OUTPUT_FORMATS)} (default: the target's first, "qdq")`,
    )
    .option(
      '--exclude <patterns>',
      'node names or op types to keep float (globs with * and ?; repeatable, comma-separated)',
      collectList,
    )
    .option('--plugin <path-or-package>', 'load plugins from an ES module (repeatable)', collectRepeated)
    .option('--target <name>', targetHelp(createDefaultRegistry()))
    .option(
      '--report <file>',
      'write the per-layer error report: an HTML page for .html/.htm, JSON otherwise',
    )
    .option(
      '--report-samples <n>',
      `samples the report compares on (default ${DEFAULT_RANDOM_SAMPLES}; random inputs without --calib)`,
    )
    .option('--force', 'overwrite existing output, --report and --save-calib files')
    .option(
      '--no-verify',
      'do not load the written model in onnxruntime-node and run it once (on the first --calib sample, else random data)',
    )
    .option('--json', 'print one JSON object on stdout instead of text')
    .addHelpText('after', `${RECIPE_EXAMPLES}\n${OVERRIDES_EXAMPLE}`)
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

      const { registry, executor, loaded } = await createCliRegistry(flags.plugin ?? [], io.cwd);
      checkPluginNames(registry, request.options);
      const target = await resolveTarget(registry, request.target);
      await requireExisting(input, 'input model', 'file');
      if (calibrationDir !== undefined) await requireExisting(calibrationDir, 'calibration folder', 'folder');
      // A folder is never an output, with or without --force: say so before the pipeline tries to replace it.
      await requireFilePath(io, '-o', flags.output, 'model.int8.onnx');
      if (request.report !== undefined) await requireFilePath(io, '--report', request.report, 'report.html');
      if (request.saveCalibration !== undefined) {
        await requireFilePath(io, '--save-calib', request.saveCalibration, 'ranges.json');
      }

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
        runsPerPass:
          calibrationDir === undefined || (mode !== 'static' && mode !== 'float')
            ? undefined
            : await calibrationRunsPerPass(
                calibrationDir,
                request.calibrationLimit,
                request.calibrationBatch ?? 1,
              ),
      });
      let result: Awaited<ReturnType<typeof quantizeFile>>;
      try {
        result = await quantizeFile(input, output, {
          ...request.options,
          target: target.target.name,
          registry,
          executor,
          ...(calibrationDir !== undefined && { calibrationDir }),
          ...(request.calibrationLimit !== undefined && { calibrationLimit: request.calibrationLimit }),
          ...(request.calibrationBatch !== undefined && { calibrationBatch: request.calibrationBatch }),
          ...(loadCalibration !== undefined && { loadCalibration }),
          ...(saveCalibration !== undefined && { saveCalibration }),
          ...(request.overrides !== undefined && { overrides: userPath(io, request.overrides) }),
          ...(report !== undefined && { report, reportLimit: request.reportSamples }),
          ...(reportSamples !== undefined && { reportSamples }),
          onProgress: (event) => progress.update(event),
          // Calibration workers load the same plugins, so a plugin observer runs on every thread.
          pluginModules: [...new Set(loaded.map((entry) => entry.module))],
          force: flags.force === true,
          verify: flags.verify !== false,
        });
      } catch (error) {
        throw inFlagTerms(error);
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
          target: chosenTargetJson(target),
          report: report ?? null,
          reportData: reportData ?? null,
          flaggedLayers:
            layers === undefined
              ? null
              : worstLayers(layers.filter((layer) => layer.flagged)).map(flaggedLayerJson),
          calibrationCache: saveCalibration ?? null,
          summary,
        });
      } else {
        const lines = formatQuantizeSummary(input, result.outputPath, summary, {
          loadedCache: loadCalibration,
          target,
        });
        if (saveCalibration !== undefined)
          lines.push(`  saved ranges  ${saveCalibration} (use with --load-calib)`);
        if (report !== undefined && result.report !== undefined && reportData !== undefined) {
          lines.push(...formatReportSummary(report, result.report, reportData));
        }
        // Errors stop the run in the pipeline; warnings (what the target runs slower) come last, one line each.
        if (summary.warnings.length > 0) lines.push(formatIssues(summary.warnings, FLAG_NAMES));
        io.stdout.write(`${lines.join('\n')}\n`);
      }
    });
}
