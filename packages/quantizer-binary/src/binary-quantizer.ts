import {
  API_VERSION,
  QuantError,
  type QuantizedTensor,
  type QuantizerOptions,
  type QuantizerPlugin,
  type Tensor,
} from '@quantkit/core';
import { type BinaryCodeDType, binarizeWeight } from './binarize-weight.js';
import { binaryPacking } from './binary-packing.js';
import { BINARY_GRANULARITIES, resolveBinaryOptions } from './resolve-binary-options.js';

/** Settings of {@link createBinaryQuantizer}. */
export interface BinaryQuantizerSettings {
  /** Registry name; 'binary' when omitted. */
  readonly name?: string;
  /** One line for `quantkit plugins`. */
  readonly description?: string;
  /**
   * Storage type of the -1/+1 codes in the stock-ONNX form: 'int8' (default; DequantizeLinear at any opset
   * quantkit writes) or 'int4' (half the bytes, needs opset 21).
   */
  readonly dtype?: BinaryCodeDType;
  /**
   * Which weight layers the planner should keep at 8 bits: 'first-last' (default; binary networks lose most
   * accuracy in the first and last layers, as in XNOR-Net and BinaryConnect) or 'none' to binarize every layer.
   */
  readonly keepHigherPrecision?: 'first-last' | 'none';
}

/**
 * Creates the binary (XNOR-Net) quantizer: `W ~ alpha * sign(W)` with `alpha = mean |W|` per output channel
 * (`granularity: 'channel'` along `options.axis`) or per tensor, sign(0) = +1 (see `binarizeWeight` for why).
 * Takes `bits: 1` and `symmetric: true` only. Codes are int8 (or int4) -1/+1 with params `bits: 1`, zero point 0,
 * `qmin: -1`, `qmax: 1` and scale alpha, so the pipeline's DequantizeLinear form runs in stock onnxruntime; the
 * `packing` capability stores them 8 per byte (format 'binary-1bit') for the kernel runtime. Activations are not
 * binarized by the pipeline (`activations: false`); see `binarizeActivations`. Returns a plain plugin value;
 * nothing is registered.
 *
 * @example
 * const registry = createDefaultRegistry([createBinaryQuantizer()]);
 * await quantizeModel(bytes, { mode: 'weight-only', quantizer: 'binary', bits: 1, registry });
 * @example
 * const { codes, params } = binaryQuantizer.quantizeWeight(weight, { bits: 1, symmetric: true, granularity: 'channel', axis: 0 });
 * @throws QuantError INVALID_ARGUMENT for an empty name or unknown settings values. The plugin's quantizeWeight
 * throws INVALID_ARGUMENT for options outside its capabilities and for non-finite weights.
 */
export function createBinaryQuantizer(settings: BinaryQuantizerSettings = {}): QuantizerPlugin {
  const name = settings.name ?? 'binary';
  if (typeof name !== 'string' || name.length === 0) {
    throw new QuantError('INVALID_ARGUMENT', 'binary quantizer: settings.name must be a non-empty string');
  }
  const dtype = settings.dtype ?? 'int8';
  if (dtype !== 'int8' && dtype !== 'int4') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${name} quantizer: settings.dtype must be "int8" or "int4", got ${JSON.stringify(dtype)}`,
    );
  }
  const keep = settings.keepHigherPrecision ?? 'first-last';
  if (keep !== 'first-last' && keep !== 'none') {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${name} quantizer: settings.keepHigherPrecision must be "first-last" or "none", got ${JSON.stringify(keep)}`,
    );
  }
  const plugin: QuantizerPlugin = {
    kind: 'quantizer',
    name,
    apiVersion: API_VERSION,
    description:
      settings.description ??
      'Binary (XNOR-Net) weights: sign(W) times mean |W| per channel or tensor, 1-bit packing',
    capabilities: Object.freeze({
      bits: Object.freeze([1]),
      granularities: BINARY_GRANULARITIES,
      symmetric: Object.freeze([true]),
      activations: false,
    }),
    quantizeWeight(weight: Tensor<'float32'>, options: QuantizerOptions): QuantizedTensor {
      if (weight?.dtype !== 'float32' || !Array.isArray(weight.shape)) {
        throw new QuantError(
          'INVALID_ARGUMENT',
          `${name} quantizer: weights must be float32 tensors, got ${String(weight?.dtype)}`,
        );
      }
      return binarizeWeight(weight, resolveBinaryOptions(options, weight.shape, name), dtype, name);
    },
    packing: binaryPacking,
    ...(keep === 'first-last' && { keepHigherPrecision: 'first-last' as const }),
  };
  return Object.freeze(plugin);
}

/** The default binary quantizer ('binary', int8 codes, first and last layers kept at 8 bits). */
export const binaryQuantizer: QuantizerPlugin = createBinaryQuantizer();
