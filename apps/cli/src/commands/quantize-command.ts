import type { CalibrationInput } from '@quantkit/calibration';
import { countCalibrationSamples } from '@quantkit/calibration/node';
import { QuantError, listChoices } from '@quantkit/core';
import {
  DEFAULT_RANDOM_SAMPLES,
  DEFAULT_SEED,
  FLOAT_PRECISIONS,
  OUTPUT_FORMATS,
  QUANTIZE_MODES,
  type SampleFactory,
  WEIGHT_ONLY_FORMS,
  WEIGHT_RANGES,
  createDefaultRegistry,
  worstFirst,
} from '@quantkit/quantize';
import { type SampleOrigin, quantizeFile, sampleSource } from '@quantkit/quantize/node';
import { formatIssues } from '@quantkit/targets';
import { Command } from 'commander';
import { type CliIo, writeJson } from '../cli-io.js';
import { createCliRegistry } from '../cli-registry.js';
import { FLAG_NAMES, inFlagTerms } from '../flag-terms.js';
import { collectList, collectRepeated } from '../flags.js';
import { readModelFile } from '../model-file.js';
import { requireExisting, requireFilePath, userPath } from '../paths.js';
import { createProgressReporter } from '../progress.js';
import { chosenTargetJson, resolveTarget, targetHelp } from '../resolve-target.js';
import {
  GRANULARITY_CHOICES,
  type QuantizeFlags,
  checkPluginNames,
  parseQuantizeFlags,
} from './quantize-flags.js';
import { flaggedLayerJson, formatQuantizeSummary, formatReportSummary } from './quantize-summary.js';
import { readRecipeFile } from './recipe-file.js';

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
  int8 static, no data    quantkit quantize model.onnx -o model.int8.onnx --mode data-free
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
  node settings: float, quantizer, bits, symmetric, granularity (tensor, channel, or block: 4-bit weight-only);
  tensor settings (static mode): observer, symmetric, range`;

/** `quantkit quantize`: see --help. */
export function quantizeCommand(io: CliIo): Command {
  return new Command('quantize')
    .description('quantize an ONNX model (float32 -> int8 by default) and write a new model file')
    .argument('<input>', 'the float ONNX model to read (never modified)')
    .requiredOption('-o, --output <file>', 'where to write the quantized model')
    .option(
      '--mode <mode>',
      `${listChoices(QUANTIZE_MODES)} (default "static"); "float" only narrows floats (--float, default fp16); ` +
        '"data-free" is static int8 with no data: BatchNorm folding, cross-layer equalization, bias absorption and ' +
        'correction, ranges from BatchNorm statistics',
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
    .option(
      '--weight-only-form <form>',
      `weight-only codes as ${listChoices(WEIGHT_ONLY_FORMS)}: dequantize runs DequantizeLinear every run (smallest memory, ` +
        'slower than fp32 in onnxruntime); fold writes Cast/Mul that onnxruntime folds at load (fp32 speed and memory)',
    )
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
      `calibration observer: ${listChoices(builtinObserverNames())} (or one from --plugin; default "minmax"), or ` +
        '"auto": minmax and clip both, keeping the one whose outputs come closer to the float model\'s',
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
      '--emit <form>',
      'what to write: "quantized" (default) or "fake-quant": the float model with QuantizeLinear/DequantizeLinear at every ' +
        'planned point and float weights behind their own Q/DQ, for quantization-aware finetuning (static, weight-only)',
    )
    .option(
      '--recipe <file>',
      "quantize as a recipe file says (`quantkit auto --recipe-out`, or a model's recorded recipe), instead of --mode, --bits, ...",
    )
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
    .option(
      '--no-latency',
      'do not time the float and the written model in turns on one thread after verifying (about 2 s at most); ' +
        'also turns off the latency guard',
    )
    .option(
      '--bias-correction',
      'static: take the mean output shift of rounded weights out of each Conv and Gemm bias (from the float ' +
        "model's input means on the --calib samples); --calib-method auto tries it either way",
    )
    .option(
      '--finetune <method>',
      'learn the weights\' rounding on the --calib samples: "adaround" (static, dynamic, weight-only; per Conv/Gemm/' +
        "MatMul, up or down per weight so the layer output comes closest to the float layer's) or " +
        '"bias-correction" (static; the cheaper --bias-correction)',
    )
    .option(
      '--iters <n>',
      'AdaRound optimisation steps per layer (default 500: seconds per layer on small models; the paper uses ' +
        '10000+, which pays on large layers at minutes each)',
    )
    .option(
      '--finetune-samples <n>',
      "calibration samples AdaRound takes the layers' inputs from (default 32)",
    )
    .option('--finetune-lr <x>', "AdaRound's Adam learning rate (default 0.01)")
    .option(
      '--min-sqnr <dB>',
      'keep the layers the output is most sensitive to float until its SQNR against the float model (on the ' +
        '--calib samples, else random data) reaches this many dB; measures each region alone (one run each)',
    )
    .option(
      '--no-latency-guard',
      'static and dynamic modes: keep every planned region quantized even where the written model times slower ' +
        'than the float one (by default regions that do not pay are kept float, found by timing a few variants)',
    )
    .option('--json', 'print one JSON object on stdout instead of text')
    .addHelpText('after', `${RECIPE_EXAMPLES}\n${OVERRIDES_EXAMPLE}`)
    .action(async (inputArgument: string, flags: QuantizeFlags) => {
      // --recipe stands for the flags that set the quantization; the other flags (files, checks) still apply.
      const recipe =
        flags.recipe === undefined ? undefined : await readRecipeFile(userPath(io, flags.recipe), flags);
      const parsed = parseQuantizeFlags(recipe === undefined ? flags : { ...flags, mode: recipe.mode });
      const request =
        recipe === undefined
          ? parsed
          : {
              ...parsed,
              options: { ...parsed.options, ...recipe },
              target: typeof recipe.target === 'string' ? recipe.target : parsed.target,
            };
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
          measureLatency: flags.latency !== false,
          // A fake-quant model is for finetuning, not for running fast: nothing to guard.
          latencyGuard:
            flags.latency !== false && flags.latencyGuard !== false && request.options.emit !== 'fake-quant',
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
              : worstFirst(layers.filter((layer) => layer.flagged)).map(flaggedLayerJson),
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
