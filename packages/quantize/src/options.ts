import type { CalibrationRunner, ProgressEvent } from './calibrate.js';
import type { CalibrationCache } from './calibration-cache.js';
import type { AdaRoundOptions, AdaRoundRecipe } from './finetune-options.js';
import type { LatencyGuardOptions } from './latency-guard.js';
import type { ModelTransform, QuantizationTransform } from './model-transforms.js';
import type { QuantOverrides } from './overrides.js';
import type { ExecutorPlugin, Granularity, Registry, TargetPlugin, Tensor } from '@quantkit/core';

/**
 * static: calibrated int8 weights and activations; dynamic: activations quantized at run time; weight-only:
 * integer weights, float compute; float: no integer codes, weights and ops in a narrower float (floatPrecision);
 * data-free: static's int8 weights and activations with no data (BatchNorm statistics, cross-layer equalization,
 * analytic bias correction; see dataFreePreparation).
 */
export type QuantizeMode = 'static' | 'dynamic' | 'weight-only' | 'float' | 'data-free';
export const QUANTIZE_MODES: readonly QuantizeMode[] = [
  'static',
  'dynamic',
  'weight-only',
  'float',
  'data-free',
];

/**
 * Whether a mode writes int8 activations between Q/DQ pairs (static's output form): static, and data-free, which
 * estimates the ranges static calibrates.
 */
export function quantizesActivations(mode: QuantizeMode): boolean {
  return mode === 'static' || mode === 'data-free';
}

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
 * How weight-only codes become float in front of their op: 'dequantize' (DequantizeLinear, which onnxruntime runs on
 * every inference: the smallest memory, slower than fp32) or 'fold' (Cast and Mul over constants, which onnxruntime
 * folds into fp32 weights when it loads the model: fp32 speed and memory, the same small file).
 */
export type WeightOnlyForm = 'dequantize' | 'fold';
export const WEIGHT_ONLY_FORMS: readonly WeightOnlyForm[] = ['dequantize', 'fold'];

/**
 * 'qdq': QuantizeLinear/DequantizeLinear around float ops, which onnxruntime fuses; 'qoperator': the integer
 * operators themselves (QLinearConv, QLinearMatMul, QGemm, QLinearAdd, ...), for runtimes that do not fuse QDQ;
 * 'packed': weights in the quantizer's own compact layout inside `ai.quantkit` custom ops, for quantkit's kernel
 * runtime (onnxruntime cannot run them).
 */
export type OutputFormat = 'qdq' | 'qoperator' | 'packed';

/**
 * What the run writes: 'quantized' (integer codes, the default) or 'fake-quant': the float model with
 * QuantizeLinear -> DequantizeLinear at every planned point and float weights behind their own Q -> DQ, for a
 * training framework to finetune through the fake quantizers and bring back (quantkit imports such a model,
 * keeping its scales). Static mode (activations and weights) and weight-only mode (weights), QDQ format only.
 */
export type EmitForm = 'quantized' | 'fake-quant';
export const EMIT_FORMS: readonly EmitForm[] = ['quantized', 'fake-quant'];
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['qdq', 'qoperator', 'packed'];

/**
 * The steps of data-free quantization (mode 'data-free'), each on by default, and how wide a range BatchNorm
 * statistics give an activation (mean +- deviations x std, default 6).
 */
export interface DataFreeSettings {
  /** Cross-layer equalization of Conv/Gemm pairs joined by Relu, PRelu, LeakyRelu or nothing. */
  readonly equalize: boolean;
  /** High-bias absorption into the next layer where BatchNorm statistics show it is safe. */
  readonly absorbHighBias: boolean;
  /** Analytic bias correction from BatchNorm statistics. */
  readonly correctBias: boolean;
  readonly deviations: number;
}

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
   * run quantized; explicit options override it. Default 'x86-avx2', exact on every x86 and in WebAssembly
   * (the CLI detects the host instead, and plans for x86-vnni where VNNI is present).
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
  /** Weight-only mode: how the codes become float (see WeightOnlyForm; default 'dequantize'). */
  readonly weightOnlyForm?: WeightOnlyForm;
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
  /**
   * Calibration observer plugin name (default 'minmax'), or 'auto' (static mode): calibrate with 'minmax' and with
   * 'clip' (min-max, clipped where that cuts a tensor's expected error 1.5x), each with and without bias
   * correction unless biasCorrection is set, on three quarters of an array of samples; keep the candidate whose
   * outputs come closest to the float model's on the held-out quarter (summary.calibrationChoice; the recipe
   * records the chosen observer and biasCorrection). Costs two more calibrations.
   */
  readonly calibrationMethod?: string;
  readonly format?: OutputFormat;
  /** 'quantized' (default) or 'fake-quant' (see EmitForm). */
  readonly emit?: EmitForm;
  /** Node names or op types (glob patterns with * and ?) to keep in float. */
  readonly exclude?: readonly string[];
  /** Per-node and per-tensor settings (keep float, bits, symmetry, observer, fixed range). */
  readonly overrides?: QuantOverrides;
  /**
   * Nodes to keep float by exact name, each with the reason the plan gives: what a measurement decided (the latency
   * guard's reverted regions), recorded in the recipe so a run from it writes the same model.
   */
  readonly keepFloat?: readonly KeptFloat[];
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
  /**
   * After verifying, time the float and the written model in the executor in turns on one thread (at least 9
   * rounds, up to 2 s), reported as summary.verification.latency (default false).
   */
  readonly measureLatency?: boolean;
  /**
   * The never-slower guard, static and dynamic modes (default false; the CLI turns it on): time the written model
   * against the float one as measureLatency does and, while it is slower (ratio above maxRatio, default 1), keep
   * quantized regions float, those estimated to gain least first, found by a binary search over how many. The
   * result depends on this machine's timings; the regions it kept float are recorded in the recipe (keepFloat) and
   * in summary.latencyGuard. Needs an executor and verification.
   */
  readonly latencyGuard?: boolean | LatencyGuardOptions;
  /**
   * The fidelity floor, in dB (static, dynamic and weight-only modes): when the worst output's SQNR against the
   * float model falls below it (on up to 4 calibration samples, else the verify sample, else seeded random data),
   * measure each quantized region's sensitivity (it alone quantized) and keep the most sensitive float, as few as a
   * binary search finds, until the floor is met. Recorded in the recipe (keepFloat) and summary.fidelity. Needs an
   * executor; costs one run per region.
   */
  readonly minSqnr?: number;
  /**
   * Static mode: empirical bias correction. Quantize once, measure each Conv/ConvTranspose/Gemm's mean output shift
   * per channel against the float model on up to 4 calibration samples, subtract it from the float bias, and
   * quantize again (summary.biasCorrection). Needs an executor. With calibrationMethod 'auto' left unset, auto
   * tries both and keeps what measures closer.
   */
  readonly biasCorrection?: boolean;
  /**
   * Finetune the weights' rounding on the calibration data after the codes are computed (static, dynamic and
   * weight-only modes, linear quantizer): 'adaround' (or { method: 'adaround', iterations, samples, learningRate,
   * ... }) learns, per Conv/Gemm/MatMul, whether each weight rounds up or down so the layer's output comes closest
   * to the float layer's (summary.finetune); 'bias-correction' is the cheaper empirical bias correction (the same
   * as biasCorrection: true). Needs an executor and calibration data.
   */
  readonly finetune?: 'adaround' | 'bias-correction' | AdaRoundOptions;
  /**
   * Mode 'data-free': which of its steps run (each default true) and the BatchNorm range width (default 6 std).
   * Recorded in the recipe.
   */
  readonly dataFree?: Partial<DataFreeSettings>;
  /** The sample verification runs on: default the first calibration sample of an array, else seeded random data. */
  readonly verifySample?: CalibrationSample;
  /** Samples expected, for progress reporting. */
  readonly calibrationTotal?: number;
}

/** A node kept float by exact name, and why (see QuantizeOptions.keepFloat). */
export interface KeptFloat {
  readonly node: string;
  readonly reason: string;
}

/** Options after defaults and validation; this is the recipe written into the output's metadata. */
export interface Recipe {
  readonly mode: QuantizeMode;
  readonly target: string;
  /**
   * Weights use one bit less (x86 without VNNI; static and dynamic modes, which compute in integers), from the
   * target.
   */
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
  /** Set only for 'fold' (absent means 'dequantize'), so recipes written before it existed read the same. */
  readonly weightOnlyForm?: 'fold';
  readonly keepHigherPrecision: boolean;
  readonly accuracyLevel: 0 | 1 | 2 | 3 | 4;
  readonly symmetric: boolean;
  readonly activationSymmetric: boolean;
  readonly activationBits: 8 | 16;
  readonly floatPrecision: FloatPrecision | undefined;
  readonly calibrationMethod: string;
  readonly format: OutputFormat;
  /** Set only for 'fake-quant' (absent means 'quantized'), so recipes written before it existed read the same. */
  readonly emit?: 'fake-quant';
  readonly exclude: readonly string[];
  readonly overrides: QuantOverrides;
  /** Set only when biases were corrected (options.biasCorrection), so earlier recipes read the same. */
  readonly biasCorrection?: true;
  /** Set only when the rounding was finetuned (options.finetune 'adaround'), so earlier recipes read the same. */
  readonly finetune?: AdaRoundRecipe;
  /** Set only in mode 'data-free': its steps and range width (see QuantizeOptions.dataFree). */
  readonly dataFree?: DataFreeSettings;
  /** Set only when nodes are kept float by name (absent means none), so earlier recipes read the same. */
  readonly keepFloat?: readonly KeptFloat[];
}
