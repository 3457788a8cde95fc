// The quantize command's flags: checked, and turned into pipeline options.
import { QuantError, type Registry, listChoices } from '@quantkit/core';
import {
  DEFAULT_RANDOM_SAMPLES,
  EMIT_FORMS,
  FLOAT_PRECISIONS,
  OUTPUT_FORMATS,
  QUANTIZE_MODES,
  type QuantizeOptions,
  WEIGHT_ONLY_FORMS,
  WEIGHT_RANGES,
  AUTO_CALIBRATION,
  FINETUNE_METHODS,
} from '@quantkit/quantize';
import { parseChoiceFlag, parseIntegerFlag, parseNumberFlag } from '../flags.js';
import { AUTO_TARGET } from '../resolve-target.js';

/** The --granularity values. */
export const GRANULARITY_CHOICES = ['tensor', 'channel', 'block'] as const;

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
  readonly weightOnlyForm?: string;
  readonly emit?: string;
  readonly accuracyLevel?: string;
  readonly calib?: string;
  readonly calibMethod?: string;
  readonly calibSamples?: string;
  readonly calibBatch?: string;
  readonly saveCalib?: string;
  readonly loadCalib?: string;
  readonly overrides?: string;
  /** A recipe file standing for the flags that set the quantization. */
  readonly recipe?: string;
  readonly format?: string;
  readonly exclude?: readonly string[];
  readonly plugin?: readonly string[];
  readonly force?: boolean;
  /** False with --no-verify. */
  readonly verify?: boolean;
  /** False with --no-latency. */
  readonly latency?: boolean;
  /** False with --no-latency-guard. */
  readonly latencyGuard?: boolean;
  readonly minSqnr?: string;
  readonly biasCorrection?: boolean;
  readonly finetune?: string;
  readonly iters?: string;
  readonly finetuneSamples?: string;
  readonly finetuneLr?: string;
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
  const weightOnlyForm = parseChoiceFlag('--weight-only-form', flags.weightOnlyForm, WEIGHT_ONLY_FORMS);
  const emit = parseChoiceFlag('--emit', flags.emit, EMIT_FORMS);
  const floatPrecision = parseChoiceFlag('--float', flags.float, FLOAT_PRECISIONS);
  const accuracyLevel = parseIntegerFlag('--accuracy-level', flags.accuracyLevel, { min: 0, max: 4 });
  const calibrationLimit = parseIntegerFlag('--calib-samples', flags.calibSamples, { min: 1 });
  const minSqnr = parseNumberFlag('--min-sqnr', flags.minSqnr, 'dB');
  if (flags.biasCorrection === true && mode !== 'static') {
    throw new QuantError('INVALID_ARGUMENT', '--bias-correction applies to --mode static only');
  }
  const finetune = parseFinetuneFlags(flags, mode);
  if (minSqnr !== undefined && mode === 'float') {
    throw new QuantError('INVALID_ARGUMENT', '--min-sqnr applies to --mode static, dynamic or weight-only');
  }

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
    ...(weightOnlyForm !== undefined && { weightOnlyForm }),
    ...(emit !== undefined && { emit }),
    ...(floatPrecision !== undefined && { floatPrecision }),
    ...(accuracyLevel !== undefined && { accuracyLevel: accuracyLevel as 0 | 1 | 2 | 3 | 4 }),
    ...(minSqnr !== undefined && { minSqnr }),
    ...(flags.biasCorrection === true && { biasCorrection: true }),
    ...(finetune !== undefined && { finetune }),
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

/**
 * --finetune and its settings: AdaRound learns from the --calib folder in any mode with integer weights; bias
 * correction is --bias-correction by another name (static only). The library checks the rest (quantizer, format).
 * @throws QuantError INVALID_ARGUMENT naming the flag: an unknown method, a setting without --finetune adaround,
 * a mode without integer weights, no --calib folder.
 */
function parseFinetuneFlags(
  flags: QuantizeFlags,
  mode: QuantizeOptions['mode'],
): QuantizeOptions['finetune'] {
  const method = parseChoiceFlag('--finetune', flags.finetune, FINETUNE_METHODS);
  const iterations = parseIntegerFlag('--iters', flags.iters, { min: 1 });
  const samples = parseIntegerFlag('--finetune-samples', flags.finetuneSamples, { min: 1 });
  // A learning rate is typed as 1e-3 as often as 0.001: both are numbers here.
  const learningRate = flags.finetuneLr === undefined ? undefined : Number(flags.finetuneLr);
  const settings = [
    iterations !== undefined && '--iters',
    samples !== undefined && '--finetune-samples',
    learningRate !== undefined && '--finetune-lr',
  ].filter((flag): flag is string => flag !== false);
  if (method !== 'adaround' && settings.length > 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${settings.join(', ')} ${settings.length === 1 ? 'needs' : 'need'} --finetune adaround`,
    );
  }
  if (learningRate !== undefined && !(Number.isFinite(learningRate) && learningRate > 0)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `--finetune-lr must be a positive number (such as 0.01 or 1e-3), got ${JSON.stringify(flags.finetuneLr)}`,
    );
  }
  if (method === 'bias-correction' && mode !== 'static') {
    throw new QuantError('INVALID_ARGUMENT', '--finetune bias-correction applies to --mode static only');
  }
  if (method === 'adaround') {
    if (mode === 'float') {
      throw new QuantError(
        'INVALID_ARGUMENT',
        '--finetune adaround rounds integer weights: use --mode static, dynamic or weight-only, not float',
      );
    }
    if (flags.calib === undefined) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        '--finetune adaround learns the rounding from calibration data: pass --calib <dir>',
      );
    }
    return {
      method,
      ...(iterations !== undefined && { iterations }),
      ...(samples !== undefined && { samples }),
      ...(learningRate !== undefined && { learningRate }),
    };
  }
  return method;
}

/**
 * Fails early, naming the flag, when --quantizer or --calib-method names no registered plugin.
 *
 * @example checkPluginNames(registry, parseQuantizeFlags(flags).options);
 * @throws QuantError PLUGIN_NOT_FOUND naming the flag and the registered plugins of that kind.
 */
export function checkPluginNames(registry: Registry, options: FlagOptions): void {
  const checks = [
    ['--quantizer', 'quantizer', options.quantizer],
    ['--calib-method', 'observer', options.calibrationMethod],
  ] as const;
  for (const [flag, kind, name] of checks) {
    if (name === undefined || registry.find(kind, name) !== undefined) continue;
    if (kind === 'observer' && name === AUTO_CALIBRATION) continue;
    const names = registry.list(kind).map((plugin) => plugin.name);
    throw new QuantError(
      'PLUGIN_NOT_FOUND',
      `${flag} must be ${listChoices(names)} (or a ${kind} loaded with --plugin), got ${JSON.stringify(name)}`,
      { details: { kind, name, available: names } },
    );
  }
}
