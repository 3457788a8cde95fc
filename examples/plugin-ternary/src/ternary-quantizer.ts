import {
  API_VERSION,
  type Granularity,
  type LinearQuantParams,
  QuantError,
  type QuantizedTensor,
  type QuantizerOptions,
  type QuantizerPlugin,
  type Tensor,
  axisLayout,
  createTensor,
  forEachParamRun,
  listChoices,
} from '@quantkit/core';
import { ternaryPacking } from './ternary-packing.js';

/** The code width ternary weights take: three levels fit in two bits. */
export const TERNARY_BITS = 2;

/** The threshold factor Li & Liu (2016) derive for normally distributed weights: t = 0.7 * mean|W|. */
export const DEFAULT_THRESHOLD_FACTOR = 0.7;

/** Settings for {@link createTernaryQuantizer}. */
export interface TernaryQuantizerSettings {
  /** Registry name, what users type after --quantizer. Default 'ternary'. */
  readonly name?: string;
  /**
   * t = thresholdFactor * mean|W| per scale group; weights with |W| <= t become 0. From 0 (no zeros unless W is 0)
   * up to, but not including, 1 (at 1 a group whose weights all have the same magnitude would have no non-zero
   * code left). Default 0.7.
   */
  readonly thresholdFactor?: number;
  /**
   * Ask the planner to keep the first and last weight layers at 8 bits, as ternary networks are usually trained.
   * Default false, so every weight layer the plan picks is ternary.
   */
  readonly keepFirstLast?: boolean;
}

const GRANULARITIES: readonly Granularity[] = Object.freeze(['tensor', 'channel']);

function invalid(name: string, message: string): QuantError {
  return new QuantError('INVALID_ARGUMENT', `${name} quantizer: ${message}`);
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Checks the options a call passes; keys the ternary quantizer does not use (restrictedRange...) are ignored. */
function checkOptions(name: string, options: QuantizerOptions): { granularity: Granularity; axis: number } {
  if (typeof options !== 'object' || options === null) {
    throw invalid(name, `options must be an object with bits, symmetric and granularity, got ${show(options)}`);
  }
  if (options.bits !== TERNARY_BITS) {
    throw invalid(name, `options.bits must be ${TERNARY_BITS} (codes -1, 0, +1), got ${show(options.bits)}`);
  }
  if (options.symmetric !== true) {
    throw invalid(name, `options.symmetric must be true (the zero point is always 0), got ${show(options.symmetric)}`);
  }
  if (options.signed === false) {
    throw invalid(name, 'options.signed must be true or absent: ternary codes are signed');
  }
  if (!GRANULARITIES.includes(options.granularity)) {
    throw invalid(name, `options.granularity must be ${listChoices(GRANULARITIES)}, got ${show(options.granularity)}`);
  }
  const axis = options.axis ?? 0;
  if (!Number.isInteger(axis)) {
    throw invalid(name, `options.axis must be an integer (negative counts from the last axis), got ${show(axis)}`);
  }
  return { granularity: options.granularity, axis };
}

/**
 * TWN per scale group: t = factor * mean|W|; code = sign(W) where |W| > t, else 0; scale = mean |W| over the codes
 * that are not 0, which is the scale that minimises the squared error for that choice of codes. A group may be
 * several runs of the tensor (a middle axis), hence the two passes over all runs.
 */
function ternarize(
  values: Float32Array,
  shape: readonly number[],
  layout: { granularity: Granularity; axis: number | undefined },
  groups: number,
  factor: number,
): { codes: Int8Array; scale: Float32Array } {
  const magnitudeSum = new Float64Array(groups);
  const count = new Float64Array(groups);
  forEachParamRun(shape, layout, (start, end, group, stride) => {
    for (let i = start; i < end; i += stride) {
      magnitudeSum[group]! += Math.abs(values[i]!);
      count[group]!++;
    }
  });
  const threshold = magnitudeSum.map((sum, group) => (factor * sum) / count[group]!);
  const codes = new Int8Array(values.length);
  const keptSum = new Float64Array(groups);
  const keptCount = new Float64Array(groups);
  forEachParamRun(shape, layout, (start, end, group, stride) => {
    const t = threshold[group]!;
    for (let i = start; i < end; i += stride) {
      const value = values[i]!;
      const magnitude = Math.abs(value);
      if (magnitude > t) {
        codes[i] = value > 0 ? 1 : -1;
        keptSum[group]! += magnitude;
        keptCount[group]!++;
      }
    }
  });
  // Only an all-zero group keeps no code; any positive scale restores it exactly, and 1 keeps the params valid.
  const scale = Float32Array.from(keptSum, (sum, group) => (keptCount[group] === 0 ? 1 : sum / keptCount[group]!));
  return { codes, scale };
}

/**
 * Creates a ternary weight quantizer (Ternary Weight Networks, Li & Liu 2016): each weight becomes -a, 0 or +a,
 * with threshold t = 0.7 * mean|W| and a = mean|W| over the weights above t, per output channel or per tensor.
 * Codes are int8 -1/0/+1 with zero point 0, so the pipeline's DequantizeLinear restores `code * a`; the plugin
 * also packs codes 4 per byte for `--format packed`. Returns a plain frozen value; nothing is registered.
 *
 * @example
 * const registry = createRegistry([createTernaryQuantizer({ thresholdFactor: 0.6 })]);
 * const { codes, params } = registry.get('quantizer', 'ternary')
 *   .quantizeWeight(weight, { bits: 2, symmetric: true, granularity: 'channel', axis: 0 });
 * @throws QuantError INVALID_ARGUMENT for an empty name or a thresholdFactor outside [0, 1). quantizeWeight throws
 * INVALID_ARGUMENT for options outside the capabilities (bits other than 2, asymmetric, block granularity, bad
 * axis) and for weights that are not finite float32 values.
 */
export function createTernaryQuantizer(settings: TernaryQuantizerSettings = {}): QuantizerPlugin {
  const name = settings.name ?? 'ternary';
  if (typeof name !== 'string' || name.length === 0) {
    throw invalid('ternary', 'settings.name must be a non-empty string');
  }
  const factor = settings.thresholdFactor ?? DEFAULT_THRESHOLD_FACTOR;
  if (typeof factor !== 'number' || !(factor >= 0 && factor < 1)) {
    throw invalid(name, `settings.thresholdFactor must be a number from 0 up to (not including) 1, got ${show(factor)}`);
  }
  if (settings.keepFirstLast !== undefined && typeof settings.keepFirstLast !== 'boolean') {
    throw invalid(name, `settings.keepFirstLast must be true or false, got ${show(settings.keepFirstLast)}`);
  }

  const plugin: QuantizerPlugin = {
    kind: 'quantizer',
    name,
    apiVersion: API_VERSION,
    description: `Ternary weights {-a, 0, +a} (TWN), threshold ${factor} * mean|W|, per tensor or channel`,
    capabilities: Object.freeze({
      bits: Object.freeze([TERNARY_BITS]),
      granularities: GRANULARITIES,
      symmetric: Object.freeze([true]),
      // Activations stay float (or linear int8): a threshold needs the values themselves, not a range.
      activations: false,
    }),
    quantizeWeight(weight: Tensor<'float32'>, options: QuantizerOptions): QuantizedTensor {
      // Options first, so a bad flag is reported as such even when the weight is also bad.
      const { granularity, axis: requestedAxis } = checkOptions(name, options);
      if (weight?.dtype !== 'float32' || !(weight.data instanceof Float32Array)) {
        throw invalid(name, `weights must be float32 tensors, got ${show(weight?.dtype)}`);
      }
      const { data, shape } = weight;
      const bad = data.findIndex((value) => !Number.isFinite(value));
      if (bad >= 0) throw invalid(name, `weight element ${bad} is ${data[bad]}; weights must be finite`);
      if (data.length === 0) throw invalid(name, `weight of shape [${shape.join(', ')}] is empty`);

      let axis: number | undefined;
      let groups = 1;
      if (granularity === 'channel') {
        try {
          const layout = axisLayout(shape, requestedAxis);
          axis = layout.axis;
          groups = layout.axisSize;
        } catch (error) {
          throw new QuantError(
            'INVALID_ARGUMENT',
            `${name} quantizer: options.axis ${requestedAxis} is out of range for shape [${shape.join(', ')}]`,
            { cause: error },
          );
        }
      }
      const { codes, scale } = ternarize(data, shape, { granularity, axis }, groups, factor);
      const params: LinearQuantParams = {
        scale,
        zeroPoint: new Int32Array(groups),
        granularity,
        axis,
        bits: TERNARY_BITS,
        dtype: 'int8',
        qmin: -1,
        qmax: 1,
      };
      return { codes: createTensor('int8', shape, codes), params };
    },
    packing: ternaryPacking(name),
    ...(settings.keepFirstLast === true ? { keepHigherPrecision: 'first-last' as const } : {}),
  };
  return Object.freeze(plugin);
}

/** The default ternary quantizer ('ternary', threshold 0.7 * mean|W|), ready to pass to `createRegistry`. */
export const ternaryQuantizer: QuantizerPlugin = createTernaryQuantizer();
