import { resolve } from 'node:path';
import { QuantError, type Registry, listChoices } from '@quantkit/core';
import {
  OUTPUT_FORMATS,
  QUANTIZE_MODES,
  type QuantizeOptions,
  type QuantizeSummary,
} from '@quantkit/quantize';
import { quantizeFile } from '@quantkit/quantize/node';
import { Command } from 'commander';
import { type CliIo, toJson, writeJson } from '../cli-io.js';
import { collectList, collectRepeated, parseChoiceFlag, parseIntegerFlag } from '../flags.js';
import { formatBytes } from '../format.js';
import { createCliRegistry } from '../cli-registry.js';
import { createProgressReporter } from '../progress.js';
import { exists, requireExisting, userPath, writeTextAtomic } from '../paths.js';

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
  readonly calib?: string;
  readonly calibMethod?: string;
  readonly calibSamples?: string;
  readonly format?: string;
  readonly exclude?: readonly string[];
  readonly plugin?: readonly string[];
  readonly force?: boolean;
  readonly json?: boolean;
  readonly target?: string;
  readonly report?: string;
}

/** Flag values checked and converted; what the action passes to quantizeFile besides registry and callbacks. */
export interface QuantizeRequest {
  readonly options: QuantizeOptions;
  readonly calibrationDir: string | undefined;
  readonly calibrationLimit: number | undefined;
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
  const calibrationLimit = parseIntegerFlag('--calib-samples', flags.calibSamples, { min: 1 });

  if (mode === 'static' && flags.calib === undefined) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      'static mode needs calibration data: pass --calib <dir>, or use --mode dynamic or --mode weight-only',
    );
  }
  if (mode !== 'static') {
    // Calibration flags in a data-free mode mean the user expects calibration that will not happen.
    const stray = [
      flags.calib !== undefined && '--calib',
      flags.calibMethod !== undefined && '--calib-method',
      flags.calibSamples !== undefined && '--calib-samples',
    ].filter((flag): flag is string => flag !== false);
    if (stray.length > 0) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} used only with --mode static, not --mode ${mode}`,
      );
    }
  }

  const options: QuantizeOptions = {
    mode,
    ...(flags.quantizer !== undefined && { quantizer: flags.quantizer }),
    ...(bits !== undefined && { bits }),
    ...(granularity !== undefined && { granularity }),
    ...(blockSize !== undefined && { blockSize }),
    ...(symmetric !== undefined && { symmetric }),
    ...(flags.activationSymmetric === true && { activationSymmetric: true }),
    ...(flags.calibMethod !== undefined && { calibrationMethod: flags.calibMethod }),
    ...(format !== undefined && { format }),
    ...(flags.exclude !== undefined && flags.exclude.length > 0 && { exclude: [...flags.exclude] }),
  };
  return { options, calibrationDir: flags.calib, calibrationLimit };
}

/** Fails early, naming the flag, when --quantizer or --calib-method names no registered plugin. */
function checkPluginNames(registry: Registry, options: QuantizeOptions): void {
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

/** Checks the --report path before the model is written, so a bad report path cannot leave a model behind. */
async function checkReportPath(report: string, input: string, output: string, force: boolean): Promise<void> {
  const target = resolve(report);
  if (target === resolve(input) || target === resolve(output)) {
    throw new QuantError(
      'OUTPUT_CONFLICT',
      `--report ${report} would overwrite the ${target === resolve(input) ? 'input' : 'output'} model`,
    );
  }
  if (!force && (await exists(report))) {
    throw new QuantError(
      'OUTPUT_CONFLICT',
      `--report ${report} already exists; pass --force to overwrite it`,
    );
  }
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
export function formatQuantizeSummary(input: string, output: string, summary: QuantizeSummary): string[] {
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
  if (summary.mode === 'static') lines.push(`  calibration   ${summary.calibrationSamples} samples`);
  return lines;
}

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
    .option('--calib <dir>', 'calibration data folder (required for --mode static)')
    .option('--calib-method <name>', 'calibration observer plugin (default "minmax")')
    .option('--calib-samples <n>', 'use at most this many calibration samples')
    .option('--format <format>', `output format: ${listChoices(OUTPUT_FORMATS)} (default "qdq")`)
    .option(
      '--exclude <patterns>',
      'node names or op types to keep float (globs with * and ?; repeatable, comma-separated)',
      collectList,
    )
    .option('--plugin <path-or-package>', 'load plugins from an ES module (repeatable)', collectRepeated)
    .option('--target <name>', `hardware target: ${listChoices(CLI_TARGETS)} (default "auto")`)
    .option('--report <file>', 'also write the summary as JSON to this file')
    .option('--force', 'overwrite an existing output (and report) file')
    .option('--json', 'print one JSON object on stdout instead of text')
    .action(async (inputArgument: string, flags: QuantizeFlags) => {
      const request = parseQuantizeFlags(flags);
      const input = userPath(io, inputArgument);
      const output = userPath(io, flags.output);
      const report = flags.report === undefined ? undefined : userPath(io, flags.report);
      const calibrationDir =
        request.calibrationDir === undefined ? undefined : userPath(io, request.calibrationDir);

      const { registry, executor } = await createCliRegistry(flags.plugin ?? [], io.cwd);
      checkPluginNames(registry, request.options);
      await requireExisting(input, 'input model', 'file');
      if (report !== undefined) await checkReportPath(report, input, output, flags.force === true);

      if (calibrationDir !== undefined) await requireExisting(calibrationDir, 'calibration folder', 'folder');

      const progress = createProgressReporter(io, flags.json !== true);
      let result: Awaited<ReturnType<typeof quantizeFile>>;
      try {
        result = await quantizeFile(input, output, {
          ...request.options,
          registry,
          ...(request.options.mode === 'static' && { executor }),
          ...(calibrationDir !== undefined && { calibrationDir }),
          ...(request.calibrationLimit !== undefined && { calibrationLimit: request.calibrationLimit }),
          onProgress: (event) => progress.update(event),
          force: flags.force === true,
        });
      } finally {
        progress.stop();
      }

      const summary = result.summary;
      if (report !== undefined) {
        await writeTextAtomic(report, `${toJson({ input, output: result.outputPath, ...summary }, 2)}\n`);
      }
      if (flags.json === true) {
        writeJson(io, {
          ok: true,
          command: 'quantize',
          input,
          output: result.outputPath,
          report: report ?? null,
          summary,
        });
      } else {
        io.stdout.write(`${formatQuantizeSummary(input, result.outputPath, summary).join('\n')}\n`);
        if (report !== undefined) io.stdout.write(`  report        ${report}\n`);
      }
    });
}
