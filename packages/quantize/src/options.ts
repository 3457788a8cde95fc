import type { CalibrationRunner, ProgressEvent } from './calibrate.js';
import type { CalibrationCache } from './calibration-cache.js';
import type { ModelTransform, QuantizationTransform } from './model-transforms.js';
import { type QuantOverrides, parseOverrides } from './overrides.js';
import {
  type Granularity,
  type ExecutorPlugin,
  type Registry,
  type TargetPlugin,
  type Tensor,
  QuantError,
  listChoices,
} from '@quantkit/core';

/**
 * static: calibrated int8 weights and activations; dynamic: activations quantized at run time; weight-only:
 * integer weights, float compute; float: no integer codes, weights and ops in a narrower float (floatPrecision).
 */
export type QuantizeMode = 'static' | 'dynamic' | 'weight-only' | 'float';
export const QUANTIZE_MODES: readonly QuantizeMode[] = ['static', 'dynamic', 'weight-only', 'float'];

/**
 * A float format for what stays float: fp16 or bf16 (bf16 stores weights only; onnxruntime's CPU computes in
 * fp32), or, in mode 'float', fp8 weights behind DequantizeLinear (opset 19+).
 */
export type FloatPrecision = 'fp16' | 'bf16' | 'fp8-e4m3fn' | 'fp8-e5m2';
export const FLOAT_PRECISIONS: readonly FloatPrecision[] = ['fp16', 'bf16', 'fp8-e4m3fn', 'fp8-e5m2'];

/** How weight ranges are chosen: the weights' extremes, or the clip range with the least quantization MSE. */
export type WeightRange = 'minmax' | 'mse';
export const WEIGHT_RANGES: readonly WeightRange[] = ['minmax', 'mse'];

/**
 * 'qdq': QuantizeLinear/DequantizeLinear around float ops, which onnxruntime fuses; 'qoperator': the integer
 * operators themselves (QLinearConv, QLinearMatMul, QGemm, QLinearAdd, ...), for runtimes that do not fuse QDQ;
 * 'packed': weights in the quantizer's own compact layout inside `ai.quantkit` custom ops, for quantkit's kernel
 * runtime (onnxruntime cannot run them).
 */
export type OutputFormat = 'qdq' | 'qoperator' | 'packed';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['qdq', 'qoperator', 'packed'];

/** One calibration sample: a tensor for each model input, by input name. */
export type CalibrationSample = Readonly<Record<string, Tensor>>;

/**
 * Calibration samples: an array, or a function returning a fresh (async) iterable each time it is called, which
 * lets calibration read the data in several passes without holding it in memory. A plain one-shot iterable works
 * when one pass is enough.
 */
export type CalibrationSource =
  | readonly CalibrationSample[]
  | Iterable<CalibrationSample>
  | AsyncIterable<CalibrationSample>
  | (() => Iterable<CalibrationSample> | AsyncIterable<CalibrationSample>);

export type { ProgressEvent } from './calibrate.js';

/**
 * Everything a quantization run can be told. Only `mode` is required; the rest default to what a user of an
 * x86 or WebAssembly CPU wants: int8 symmetric per-channel weights, uint8 asymmetric activations, QDQ format.
 */
export interface QuantizeOptions {
  readonly mode: QuantizeMode;
  /**
   * The hardware target to plan for, by name (a target plugin in the registry) or as a plugin value. Its profile
   * sets the defaults for activation and weight types, per-channel weights, reduce-range, format and which ops
   * run quantized; explicit options override it. Default 'x86-vnni' (the CLI detects the host instead).
   */
  readonly target?: string | TargetPlugin;
  /**
   * Convert what stays float to this precision after quantizing (q4 weights + fp16 = "q4f16"); in mode 'float'
   * the whole conversion (default 'fp16').
   */
  readonly floatPrecision?: FloatPrecision;
  /** Weight quantizer plugin name (default 'linear'). */
  readonly quantizer?: string;
  /** Weight bits (default 8). */
  readonly bits?: number;
  /** Weight granularity (default 'channel'). */
  readonly granularity?: Granularity;
  readonly blockSize?: number;
  /**
   * MatMulNBits compute precision (its accuracy_level): 4 (default) quantizes the activations to int8 per block
   * and runs an integer kernel, measured 0.87x fp32 latency against 1.2x for 0 (float compute) on a batch-32
   * MatMul model; 0 keeps float activations for the smallest error.
   */
  readonly accuracyLevel?: 0 | 1 | 2 | 3 | 4;
  /** Weight ranges from the extremes ('minmax', default) or MSE-optimal clipping per channel ('mse'). */
  readonly weightRange?: WeightRange;
  /**
   * Keep the layers a quantizer asks to keep at higher precision (binary networks: the first and last weight
   * layers) in int8 with the linear quantizer (default true).
   */
  readonly keepHigherPrecision?: boolean;
  /** Symmetric weights (default true). Activations follow activationSymmetric. */
  readonly symmetric?: boolean;
  /** Activations in int8 with zero point 0 instead of uint8 with a zero point (default false). */
  readonly activationSymmetric?: boolean;
  /**
   * Activation bits in static mode: 8 (default) or 16. 16-bit activations use ONNX QDQ at opset 21 and the
   * com.microsoft Q/DQ below it; onnxruntime runs their ops in float between Q/DQ, trading speed for accuracy.
   */
  readonly activationBits?: 8 | 16;
  /** Calibration observer plugin name (default 'minmax'). */
  readonly calibrationMethod?: string;
  readonly format?: OutputFormat;
  /** Node names or op types (glob patterns with * and ?) to keep in float. */
  readonly exclude?: readonly string[];
  /** Per-node and per-tensor settings (keep float, bits, symmetry, observer, fixed range). */
  readonly overrides?: QuantOverrides;
  /** Plugins to choose from; the built-ins when omitted. */
  readonly registry?: Registry;
  /** Runs the float model during calibration; required for static mode. */
  readonly executor?: ExecutorPlugin;
  /** Calibration samples for static mode. */
  readonly calibrationData?: CalibrationSource;
  /** Use at most this many calibration samples. */
  readonly calibrationLimit?: number;
  /** Cap on intermediate tensors fetched per calibration pass (default 64). */
  readonly maxTensorsPerPass?: number;
  /** Runs calibration; `calibrate` (in this thread) by default. quantizeFile supplies one on worker threads. */
  readonly calibrationRunner?: CalibrationRunner;
  /** Ranges saved by an earlier run (`result.calibrationCache`); no calibration data is needed then. */
  readonly calibrationCache?: CalibrationCache;
  /** Where the cache came from, for error messages. */
  readonly calibrationCacheSource?: string;
  /** Recorded in the output's provenance (e.g. a hash of the calibration folder). */
  readonly calibrationHash?: string;
  readonly onProgress?: (event: ProgressEvent) => void;
  /**
   * Build the per-layer error report (result.report): the quantized and the float graph run on `samples`
   * (default: the calibration data) and are compared at every quantized node. Needs an executor.
   */
  readonly report?: {
    readonly samples?: CalibrationSource;
    /** Compare on at most this many samples (default 8). */
    readonly limit?: number;
    /** The model's name in the report (a file name). */
    readonly modelName?: string;
  };
  /**
   * Rewrites of the float model to run before planning, after the built-in ones (BatchNorm folding), in order.
   * A transform from outside quantkit plugs in here without touching the pipeline.
   */
  readonly transforms?: readonly ModelTransform[];
  /**
   * Refinements of the computed quantization (codes, parameters) to run, in order, after it is computed and
   * before it is written: where bias correction and rounding optimisation plug in.
   */
  readonly quantizationTransforms?: readonly QuantizationTransform[];
  /**
   * Load the quantized model in the executor and run it and the float model once before returning (default true
   * when an executor is given), so a model the runtime refuses, or one whose outputs go NaN or infinite where the
   * float model's do not, is an error instead of a file.
   */
  readonly verify?: boolean;
  /** The sample verification runs on: default the first calibration sample of an array, else seeded random data. */
  readonly verifySample?: CalibrationSample;
  /** Samples expected, for progress reporting. */
  readonly calibrationTotal?: number;
}

/** Options after defaults and validation; this is the recipe written into the output's metadata. */
export interface Recipe {
  readonly mode: QuantizeMode;
  readonly target: string;
  /** Weights use one bit less (x86 without VNNI), from the target. */
  readonly reduceRange: boolean;
  /** Each consumer of a quantized activation gets its own Q/DQ pair (TensorRT explicit quantization). */
  readonly qdqPerConsumer: boolean;
  /** Op types the target runs quantized. */
  readonly quantizedOps: readonly string[];
  readonly quantizer: string;
  readonly bits: number;
  readonly granularity: Granularity;
  readonly blockSize: number | undefined;
  readonly weightRange: WeightRange;
  readonly keepHigherPrecision: boolean;
  readonly accuracyLevel: 0 | 1 | 2 | 3 | 4;
  readonly symmetric: boolean;
  readonly activationSymmetric: boolean;
  readonly activationBits: 8 | 16;
  readonly floatPrecision: FloatPrecision | undefined;
  readonly calibrationMethod: string;
  readonly format: OutputFormat;
  readonly exclude: readonly string[];
  readonly overrides: QuantOverrides;
}

function choice<T extends string>(option: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [{ option }, ` must be ${listChoices(choices)}, got ${JSON.stringify(value)}`],
      { details: { option, value, allowed: choices } },
    );
  }
  return value as T;
}

function accuracyLevelOf(value: unknown): 0 | 1 | 2 | 3 | 4 {
  if (value === undefined) return 4;
  if (value === 0 || value === 1 || value === 2 || value === 3 || value === 4) return value;
  throw new QuantError(
    'INVALID_ARGUMENT',
    `accuracy level must be 0, 1, 2, 3 or 4, got ${JSON.stringify(value)}`,
  );
}

function activationBitsOf(value: unknown): 8 | 16 {
  if (value === undefined || value === 8 || value === 16) return value ?? 8;
  throw new QuantError('INVALID_ARGUMENT', `activation bits must be 8 or 16, got ${JSON.stringify(value)}`);
}

/**
 * Applies defaults and checks every option, so later stages can trust them.
 * @throws QuantError INVALID_ARGUMENT naming the option and the accepted values.
 */
export function resolveRecipe(options: QuantizeOptions, target?: TargetPlugin): Recipe {
  const mode = choice('mode', options.mode, QUANTIZE_MODES, 'static');
  const bits = options.bits ?? 8;
  // 1 bit is for binary quantizers; each quantizer's capabilities say which widths it takes.
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `bits must be an integer from 1 to 16, got ${JSON.stringify(options.bits)}`,
    );
  }
  const granularity = choice(
    'granularity',
    options.granularity,
    ['tensor', 'channel', 'block'] as const,
    target?.weight.perChannel === false ? 'tensor' : 'channel',
  );
  if (granularity === 'block') {
    // Block-wise weights are what com.microsoft MatMulNBits runs: 4-bit codes in blocks of 16..256 along K.
    if (mode !== 'weight-only' || bits !== 4) {
      throw new QuantError(
        'UNSUPPORTED',
        [
          { option: 'granularity', value: 'block' },
          ' is for 4-bit weight-only quantization (MatMulNBits); got ',
          { option: 'mode', value: mode },
          ' with ',
          { option: 'bits', value: bits },
        ],
        { details: { option: 'granularity', value: 'block' } },
      );
    }
    if (options.weightRange === 'mse') {
      throw new QuantError(
        'INVALID_ARGUMENT',
        [
          { option: 'weightRange', value: 'mse' },
          ' chooses per-channel ranges; it does not apply to ',
          { option: 'granularity', value: 'block' },
        ],
        { details: { option: 'weightRange', value: 'mse' } },
      );
    }
    const blockSize = options.blockSize ?? 32;
    if (
      !Number.isInteger(blockSize) ||
      blockSize < 16 ||
      blockSize > 256 ||
      (blockSize & (blockSize - 1)) !== 0
    ) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `block size must be a power of two from 16 to 256 (MatMulNBits), got ${JSON.stringify(options.blockSize)}`,
      );
    }
  } else if (mode === 'dynamic' && bits !== 8) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [
        { option: 'mode', value: 'dynamic' },
        ' quantizes weights to 8 bits; got ',
        { option: 'bits', value: bits },
      ],
      { details: { option: 'bits', value: bits, allowed: [8] } },
    );
  }
  const preferred = target?.formats.find((format): format is OutputFormat =>
    (OUTPUT_FORMATS as readonly string[]).includes(format),
  );
  if (target !== undefined && preferred === undefined) {
    throw new QuantError(
      'UNSUPPORTED',
      [
        { option: 'target', value: target.name },
        ` runs ${listChoices(target.formats)} models, which quantkit cannot write yet`,
      ],
      { details: { option: 'target', value: target.name } },
    );
  }
  if (
    target?.method !== undefined &&
    target.method !== 'linear' &&
    (options.quantizer ?? 'linear') === 'linear'
  ) {
    throw new QuantError(
      'UNSUPPORTED',
      [
        { option: 'target', value: target.name },
        ` runs ${target.method}-domain codes; the linear quantizer cannot produce them`,
      ],
      { details: { option: 'quantizer', value: 'linear' } },
    );
  }
  const format = choice('format', options.format, OUTPUT_FORMATS, preferred ?? 'qdq');
  if (mode === 'dynamic' && target !== undefined && !target.formats.includes('qoperator')) {
    // Dynamic quantization writes integer operators (DynamicQuantizeMatMul, ConvInteger), not QDQ.
    throw new QuantError(
      'UNSUPPORTED',
      [
        { option: 'target', value: target.name },
        ` runs ${listChoices(target.formats)} models only; use `,
        { option: 'mode', value: 'static' },
        ' for it, not "dynamic"',
      ],
      { details: { option: 'mode', value: 'dynamic', allowed: ['static'] } },
    );
  }
  const floatPrecision =
    options.floatPrecision === undefined && mode === 'float'
      ? 'fp16'
      : options.floatPrecision === undefined
        ? undefined
        : choice('floatPrecision', options.floatPrecision, FLOAT_PRECISIONS, 'fp16');
  if (floatPrecision?.startsWith('fp8') && mode !== 'float') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [
        { option: 'floatPrecision', value: floatPrecision },
        ' stores weights in fp8: use ',
        { option: 'mode', value: 'float' },
      ],
      { details: { option: 'mode', value: mode, allowed: ['float'] } },
    );
  }
  if (mode === 'float' && format === 'qoperator') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [
        { option: 'format', value: 'qoperator' },
        ' needs integer compute: use ',
        { option: 'mode', value: ['static', 'dynamic'] },
      ],
      { details: { option: 'mode', value: mode, allowed: ['static', 'dynamic'] } },
    );
  }
  if (format === 'packed' && mode !== 'weight-only') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [
        { option: 'format', value: 'packed' },
        ' stores weights only: use ',
        { option: 'mode', value: 'weight-only' },
      ],
      { details: { option: 'mode', value: mode, allowed: ['weight-only'] } },
    );
  }
  if (format === 'qoperator' && mode === 'weight-only') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [
        { option: 'format', value: 'qoperator' },
        ' needs integer compute: use ',
        { option: 'mode', value: ['static', 'dynamic'] },
      ],
      { details: { option: 'mode', value: mode, allowed: ['static', 'dynamic'] } },
    );
  }
  const exclude = options.exclude ?? [];
  for (const pattern of exclude) {
    if (typeof pattern !== 'string' || pattern.length === 0) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `exclude patterns must be non-empty strings, got ${JSON.stringify(pattern)}`,
      );
    }
  }
  return {
    mode,
    target: target?.name ?? 'none',
    reduceRange: target?.weight.reduceRange ?? false,
    qdqPerConsumer: target?.qdqPerConsumer ?? false,
    quantizedOps: target?.quantizedOps ?? [],
    quantizer: options.quantizer ?? 'linear',
    bits,
    granularity,
    blockSize: granularity === 'block' ? (options.blockSize ?? 32) : undefined,
    weightRange: choice('weightRange', options.weightRange, WEIGHT_RANGES, 'minmax'),
    accuracyLevel: accuracyLevelOf(options.accuracyLevel),
    keepHigherPrecision: options.keepHigherPrecision ?? true,
    symmetric: options.symmetric ?? target?.weight.symmetric ?? true,
    activationSymmetric: options.activationSymmetric ?? target?.activation.symmetric ?? false,
    activationBits: activationBitsOf(options.activationBits),
    floatPrecision,
    calibrationMethod: options.calibrationMethod ?? 'minmax',
    format,
    exclude: [...exclude],
    overrides: parseOverrides(options.overrides ?? {}),
  };
}
