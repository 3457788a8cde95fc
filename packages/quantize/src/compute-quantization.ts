// The compute stage: from the plan (and, in static mode, the activation ranges) to a value holding every
// quantization decision's numbers: each weight's codes and parameters, each activation's parameters, each bias's
// int32 codes. Nothing here touches the graph; the emitters (emit-*.ts) write this value into it. Transforms that
// refine quantization (bias correction, rounding optimisation) work on this value between the two.
import { mseWeightRange } from '@quantkit/calibration';
import { DEFAULT_BLOCK_SIZE } from './emit-nbits.js';
import {
  type LinearQuantParams,
  type PackedWeight,
  type QuantDType,
  type QuantizedTensor,
  type QuantizerOptions,
  type QuantizerPlugin,
  QuantError,
  type Tensor,
  type ValueRange,
  createTensor,
  quantizeLinear,
} from '@quantkit/core';
import { BUILTIN_OPS, type Node, intAttribute } from '@quantkit/onnx';
import { biasScaleFloors, floorWeightScales, quantizeBias } from './bias-scale.js';
import { createOverrideLookup } from './overrides.js';
import type { KeptQuantization } from './import-quantization.js';
import type { Recipe, WeightRange } from './options.js';
import type { BiasUse, ConstantUse, QuantPlan } from './plan.js';

/** The `quantizer` of a constant operand quantized like an activation. */
const ACTIVATION = 'activation';

/** One stored weight: what was quantized (a Gemm's transposed weight, say), how, and the codes. */
export interface WeightQuantization {
  /** Uses with the same key quantize the constant alike and share one stored copy. */
  readonly key: string;
  /** The values quantized: the constant, or its transpose where the integer op wants [K, N]. */
  readonly tensor: Tensor<'float32'>;
  /** The quantizer's name ("activation" for a constant operand quantized like an activation). */
  readonly quantizer: string;
  readonly options: QuantizerOptions;
  readonly quantized: QuantizedTensor;
  /** With format "packed": the quantizer's packed layout of the codes, stored inside the node's custom op. */
  readonly packed?: PackedWeight;
}

/** A weight as quantized for one node, for the report's per-layer weight error. */
export interface WeightRecord {
  readonly node: string;
  readonly tensor: string;
  readonly float: Tensor<'float32'>;
  readonly quantized: { readonly codes: Tensor<QuantDType>; readonly params: LinearQuantParams };
}

/** Every number the emitters write, by the plan entry it belongs to. */
export interface ComputedQuantization {
  /** Static mode: the parameters of every quantized activation (shared-params chains resolved). */
  readonly activations: Map<string, LinearQuantParams>;
  /** The stored form of each planned constant use (plan.constants, dynamicNodes and nbitsNodes). */
  readonly weights: Map<ConstantUse, WeightQuantization>;
  /** Static mode: int32 codes of each bias; absent where the bias stays float (too large for int32). */
  readonly biases: Map<BiasUse, QuantizedTensor>;
}

/**
 * The weights a quantizer quantized, one record per node that reads one (constant operands quantized like
 * activations are not weights), in plan order: what the report measures weight error on.
 */
export function weightRecords(computed: ComputedQuantization): WeightRecord[] {
  const records: WeightRecord[] = [];
  for (const [use, weight] of computed.weights) {
    if (use.kind === 'operand') continue;
    records.push({
      node: use.node.name,
      tensor: use.name,
      float: weight.tensor,
      quantized: weight.quantized,
    });
  }
  return records;
}

/** Picks the weight quantizer for a use of a constant: the run's, or the one a node override names. */
export type QuantizerFor = (use: ConstantUse) => QuantizerPlugin;

/** A quantizer for activations and constant operands: one that takes a range. */
export type ActivationQuantizer = QuantizerPlugin & Required<Pick<QuantizerPlugin, 'paramsForRange'>>;

export interface ComputeSettings {
  readonly plan: QuantPlan;
  readonly recipe: Recipe;
  readonly quantizerFor: QuantizerFor;
}

export interface StaticComputeSettings extends ComputeSettings {
  readonly activationQuantizer: ActivationQuantizer;
  /** Calibrated range of every activation that is not in plan.sharedParams. */
  readonly ranges: ReadonlyMap<string, ValueRange>;
  /** Whether an activation is quantized symmetrically. */
  readonly symmetric: (name: string) => boolean;
}

/**
 * Whether onnxruntime multiplies this weight's codes in integers: a static run's compute ops (Conv, ConvTranspose,
 * Gemm, MatMul), which it fuses with their Q/DQ. Other weights (an LSTM's, a weight-only run's) are dequantized to
 * float before their op. Dynamic mode's rewritten nodes say so themselves.
 */
function multipliedInIntegers(recipe: Recipe, use: ConstantUse): boolean {
  if (recipe.mode !== 'static' && recipe.mode !== 'data-free') return false;
  return BUILTIN_OPS.get(use.node.opType, use.node.domain)?.staticRole === 'compute';
}

export function weightOptions(recipe: Recipe, use: ConstantUse, integer = multipliedInIntegers(recipe, use)) {
  const symmetric = use.override?.symmetric ?? recipe.symmetric;
  return {
    bits: use.override?.bits ?? recipe.bits,
    symmetric,
    // Symmetric signed weights use [-127, 127] like onnxruntime, so the range is balanced around zero.
    restrictedRange: symmetric,
    // x86 without VNNI: 7-bit weights keep VPMADDUBSW's pairwise int16 sums from saturating, where there are any:
    // a weight dequantized to float loses the bit for nothing (silero's LSTM weights: 24 dB of its output).
    reduceRange: integer && recipe.reduceRange && (use.override?.bits ?? recipe.bits) === 8,
    granularity: use.axis === undefined ? ('tensor' as const) : ('channel' as const),
    ...(use.axis === undefined ? {} : { axis: use.axis }),
  };
}

/**
 * Uses of one constant share its stored codes only when they would quantize it identically: same quantizer and
 * options (a per-node override on a tied weight gets its own copy).
 */
export function sharedWeightKey(use: ConstantUse, quantizer: string, options: object): string {
  return JSON.stringify([use.kind, use.name, use.axis, quantizer, options]);
}

function transpose2d(tensor: Tensor<'float32'>): Tensor<'float32'> {
  const [rows, cols] = tensor.shape as [number, number];
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = tensor.data[r * cols + c]!;
  return createTensor('float32', [cols, rows], out);
}

/** A Gemm with transB stores B as [N, K]; integer and 4-bit MatMul kernels take [K, N]. */
function kByN(use: ConstantUse): { tensor: Tensor<'float32'>; transposed: boolean } {
  const transposed = use.node.opType === 'Gemm' && intAttribute(use.node, 'transB', 0) === 1;
  return { tensor: transposed ? transpose2d(use.tensor) : use.tensor, transposed };
}

/** Clips the weight to the range with the least quantization MSE (per channel), then quantizes it. */
function quantizeWithMseRange(
  quantizer: QuantizerPlugin,
  weight: Tensor<'float32'>,
  options: QuantizerOptions,
): QuantizedTensor {
  if (quantizer.paramsForRange === undefined) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `weight range "mse" needs a quantizer that takes a range; "${quantizer.name}" has no paramsForRange`,
    );
  }
  const range = mseWeightRange(weight, {
    bits: options.bits,
    symmetric: options.symmetric,
    ...(options.granularity === 'channel' && options.axis !== undefined && { axis: options.axis }),
  });
  const params = quantizer.paramsForRange(range, options);
  return { codes: quantizeLinear(weight.data, weight.shape, params), params };
}

/** Builds the computed value one constant use at a time, quantizing each distinct key once. */
class WeightQuantizer {
  readonly value: ComputedQuantization = {
    activations: new Map(),
    weights: new Map(),
    biases: new Map(),
  };
  private readonly byKey = new Map<string, WeightQuantization>();

  /** `kept`: the weights a quantization-aware-trained model quantized itself, stored from their own codes. */
  constructor(
    private readonly weightRange: WeightRange,
    private readonly kept?: KeptQuantization,
  ) {}

  /** The model's own codes for `use`, stored once per constant whatever the run's options say. */
  private keptWeight(use: ConstantUse): boolean {
    const kept = this.kept?.weights.get(use.name);
    if (kept === undefined) return false;
    const key = JSON.stringify(['kept', use.name]);
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      entry = {
        key,
        tensor: use.tensor,
        quantizer: 'kept',
        options: {
          bits: kept.params.bits,
          symmetric: kept.params.zeroPoint.every((zero) => zero === 0),
          granularity: kept.params.granularity,
          ...(kept.params.axis !== undefined && { axis: kept.params.axis }),
        },
        quantized: { codes: kept.codes, params: kept.params },
      };
      this.byKey.set(key, entry);
    }
    this.value.weights.set(use, entry);
    return true;
  }

  /**
   * Quantizes `use` with `quantizer` unless a use with the same key already did. `minScale` (one entry per weight
   * scale) raises smaller scales, so the int32 bias read beside the weight fits.
   */
  weight(
    use: ConstantUse,
    key: string,
    quantizer: QuantizerPlugin,
    options: QuantizerOptions,
    tensor: Tensor<'float32'> = use.tensor,
    minScale?: Float32Array,
  ): WeightQuantization {
    if (this.keptWeight(use)) return this.value.weights.get(use)!;
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      const chosen =
        this.weightRange === 'mse'
          ? quantizeWithMseRange(quantizer, tensor, options)
          : quantizer.quantizeWeight(tensor, options);
      const quantized = minScale === undefined ? chosen : floorWeightScales(chosen, tensor.data, minScale);
      entry = { key, tensor, quantizer: quantizer.name, options, quantized };
      this.byKey.set(key, entry);
    }
    this.value.weights.set(use, entry);
    return entry;
  }

  /** A constant operand (a Mul's constant, say) quantized like an activation: per tensor, not recorded. */
  operand(use: ConstantUse, key: string, quantizer: QuantizerPlugin, options: QuantizerOptions): void {
    if (this.keptWeight(use)) return;
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      entry = {
        key,
        tensor: use.tensor,
        quantizer: ACTIVATION,
        options,
        quantized: quantizer.quantizeWeight(use.tensor, options),
      };
      this.byKey.set(key, entry);
    }
    this.value.weights.set(use, entry);
  }
}

/** Weight-only: each planned constant at the recipe's width (shared by key), 4-bit blocks for MatMulNBits. */
function computeWeights(quantizer: WeightQuantizer, settings: ComputeSettings): void {
  const { plan, recipe, quantizerFor } = settings;
  for (const use of plan.nbitsNodes) {
    const symmetric = use.override?.symmetric ?? recipe.symmetric;
    const options = {
      bits: 4,
      symmetric,
      restrictedRange: symmetric,
      granularity: 'block' as const,
      axis: 0,
      blockSize: recipe.blockSize ?? DEFAULT_BLOCK_SIZE,
    };
    const { tensor } = kByN(use);
    const plugin = quantizerFor(use);
    quantizer.weight(
      use,
      JSON.stringify(['nbits', use.node.name, plugin.name, options]),
      plugin,
      options,
      tensor,
    );
  }
  // A packed node carries one packed weight (its attributes hold one layout and one scale): a node with several
  // planned weights (an LSTM's W and R) packs the first and stores the others in the stock dequantized form.
  const packedNodes = new Set<Node>();
  for (const use of plan.constants) {
    const plugin = quantizerFor(use);
    const options = weightOptions(recipe, use);
    // A packed weight is stored per node, inside its custom op; others share one copy per key.
    if (recipe.format === 'packed' && plugin.packing !== undefined && !packedNodes.has(use.node)) {
      packedNodes.add(use.node);
      const key = JSON.stringify(['packed', use.node.name, use.slot, plugin.name, options]);
      const entry = quantizer.weight(use, key, plugin, options);
      quantizer.value.weights.set(use, { ...entry, packed: plugin.packing.pack(entry.quantized) });
    } else {
      quantizer.weight(use, sharedWeightKey(use, plugin.name, options), plugin, options);
    }
  }
}

/**
 * Computes a weight-only or dynamic run's quantization. Dynamic adds the weights of the nodes it rewrites to
 * integer ops: a MatMul's weight [K, N] per column, a Conv's as symmetric uint8 with one zero point (ConvInteger).
 */
export function computeWeightQuantization(
  settings: ComputeSettings & { readonly weightRange: WeightRange; readonly dynamic: boolean },
): ComputedQuantization {
  const quantizer = new WeightQuantizer(settings.weightRange, settings.plan.kept);
  computeWeights(quantizer, settings);
  if (!settings.dynamic) return quantizer.value;
  const { plan, recipe, quantizerFor } = settings;
  for (const use of plan.dynamicNodes) {
    const plugin = quantizerFor(use);
    const base = use.node.inputs[1]!;
    if (use.node.opType === 'Conv') {
      // onnxruntime's ConvInteger takes uint8 weights with a single zero point: symmetric even when asked
      // otherwise, so one zero point (128) serves every channel.
      const options = {
        ...weightOptions(recipe, use, true),
        symmetric: true,
        restrictedRange: true,
        signed: false,
      };
      quantizer.weight(use, JSON.stringify(['dynamic-conv', base, plugin.name, options]), plugin, options);
      continue;
    }
    const { tensor, transposed } = kByN(use);
    const axis = use.axis === undefined ? undefined : tensor.shape.length - 1;
    const options = weightOptions(recipe, { ...use, tensor, axis }, true);
    quantizer.weight(
      use,
      JSON.stringify(['dynamic', base, transposed, plugin.name, options]),
      plugin,
      options,
      tensor,
    );
  }
  return quantizer.value;
}

/** Activation params for every planned activation, following shared-params chains to their source. */
export function activationParams(settings: StaticComputeSettings): Map<string, LinearQuantParams> {
  const { plan, activationQuantizer, ranges, symmetric } = settings;
  const overrides = createOverrideLookup(settings.recipe.overrides);
  const params = new Map<string, LinearQuantParams>();
  const resolve = (name: string): LinearQuantParams => {
    const known = params.get(name);
    if (known !== undefined) return known;
    const source = plan.sharedParams.get(name);
    const scaled = plan.scaledParams?.get(name);
    let result: LinearQuantParams;
    const kept = plan.kept?.activations.get(name);
    if (kept !== undefined) {
      result = kept;
    } else if (source !== undefined) {
      result = resolve(source);
    } else if (scaled !== undefined) {
      const base = resolve(scaled.source);
      result = { ...base, scale: Float32Array.from(base.scale, (scale) => scale * scaled.factor) };
    } else {
      const range = ranges.get(name);
      if (range === undefined) throw new QuantError('INTERNAL', `no calibrated range for "${name}"`);
      result = activationQuantizer.paramsForRange(range, {
        bits: overrides.tensor(name)?.bits ?? settings.recipe.activationBits,
        symmetric: symmetric(name),
        granularity: 'tensor',
      });
    }
    params.set(name, result);
    return result;
  };
  for (const name of plan.activations) resolve(name);
  return params;
}

/**
 * Computes a static run's quantization: activation parameters from the calibrated ranges, weights (their scales
 * raised where an int32 bias beside them would not fit), constant operands like activations, and int32 biases
 * with scale = input scale x weight scale.
 */
export function computeStaticQuantization(
  settings: StaticComputeSettings & { readonly weightRange: WeightRange },
): ComputedQuantization {
  const { plan, recipe, quantizerFor, activationQuantizer } = settings;
  const quantizer = new WeightQuantizer(settings.weightRange, plan.kept);
  const { value } = quantizer;
  for (const [name, params] of activationParams(settings)) value.activations.set(name, params);
  const keyOf = (use: ConstantUse) =>
    sharedWeightKey(
      use,
      use.kind === 'weight' ? quantizerFor(use).name : ACTIVATION,
      weightOptions(recipe, use),
    );
  const minScales = biasScaleFloors(plan, value.activations, keyOf);
  for (const use of plan.constants) {
    const key = keyOf(use);
    if (use.kind === 'weight') {
      quantizer.weight(
        use,
        key,
        quantizerFor(use),
        weightOptions(recipe, use),
        use.tensor,
        minScales.get(key),
      );
    } else {
      quantizer.operand(use, key, activationQuantizer, {
        bits: recipe.activationBits,
        symmetric: recipe.activationSymmetric,
        granularity: 'tensor',
      });
    }
  }
  for (const bias of plan.biases) {
    const input = value.activations.get(bias.input);
    const weight = value.weights.get(bias.weight);
    if (input === undefined || weight === undefined) continue;
    const quantized = quantizeBias(bias.tensor.data, input.scale[0]!, weight.quantized.params);
    if (quantized !== undefined) value.biases.set(bias, quantized);
  }
  return value;
}
