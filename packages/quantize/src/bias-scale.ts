import {
  type LinearQuantParams,
  type QuantizedTensor,
  createTensor,
  dtypeInfo,
  forEachParamRun,
  quantizeLinear,
  quantizeValue,
} from '@quantkit/core';
import type { ConstantUse, QuantPlan } from './plan.js';

/**
 * Largest int32 bias code quantkit writes. Half the int32 range: the accumulator adds the input x weight products
 * to the bias, and onnxruntime's integer kernels must not wrap when they do.
 */
export const BIAS_CODE_LIMIT = 2 ** 30;
/** Smallest normal float32. A bias scale below it is a denormal that flush-to-zero kernels read as 0. */
const MIN_NORMAL = 2 ** -126;

/**
 * The smallest weight scale each weight group may have so that the int32 bias it multiplies fits:
 * `|bias[c]| / (inputScale x weightScale[c]) <= BIAS_CODE_LIMIT` and the bias scale is a normal float32.
 *
 * A weight channel that is all but zero (max |w| = 1e-34, common in exported detectors) gets a scale near 1e-36, and
 * its bias then needs far more than 32 bits. Enlarging that channel's scale costs nothing: its weights round to 0
 * either way. `groups` is the number of weight scales (1 per tensor, else one per bias entry).
 */
export function minWeightScales(bias: Float32Array, inputScale: number, groups: number): Float32Array {
  const floor = new Float32Array(groups);
  for (let i = 0; i < bias.length; i++) {
    const group = groups === 1 ? 0 : i;
    const needed = Math.max(Math.abs(bias[i]!) / BIAS_CODE_LIMIT, MIN_NORMAL) / inputScale;
    floor[group] = Math.max(floor[group]!, needed);
  }
  return floor;
}

/** The next float32 at or above `value` (Math.fround rounds to nearest, which may be below). */
function float32AtLeast(value: number): number {
  const rounded = Math.fround(value);
  return rounded >= value ? rounded : Math.fround(rounded * (1 + 2 ** -23));
}

function isPowerOfTwo(value: number): boolean {
  return value > 0 && 2 ** Math.round(Math.log2(value)) === value;
}

/**
 * Raises weight scales below `floor` to it and requantizes the groups that changed, leaving every other code as
 * the quantizer wrote it. A scale that was a power of two stays one (shift-based targets need it). Codes read
 * through a lookup table (logarithmic levels) are not affine, so they are returned unchanged.
 */
export function floorWeightScales(
  quantized: QuantizedTensor,
  float: Float32Array,
  floor: Float32Array,
): QuantizedTensor {
  const { params } = quantized;
  if (quantized.lookup !== undefined || params.granularity === 'block') return quantized;
  if (floor.length !== params.scale.length) return quantized;
  const raised: number[] = [];
  const scale = Float32Array.from(params.scale);
  for (let g = 0; g < scale.length; g++) {
    if (!(scale[g]! < floor[g]!)) continue;
    scale[g] = isPowerOfTwo(scale[g]!) ? 2 ** Math.ceil(Math.log2(floor[g]!)) : float32AtLeast(floor[g]!);
    raised.push(g);
  }
  if (raised.length === 0) return quantized;
  const next: LinearQuantParams = { ...params, scale };
  const data = quantized.codes.data.slice() as typeof quantized.codes.data & { [i: number]: number };
  const changed = new Set(raised);
  forEachParamRun(quantized.codes.shape, params, (start, end, g, stride) => {
    if (!changed.has(g)) return;
    for (let i = start; i < end; i += stride) {
      data[i] = quantizeValue(float[i]!, scale[g]!, params.zeroPoint[g]!, params.qmin, params.qmax);
    }
  });
  return { ...quantized, codes: { ...quantized.codes, data }, params: next };
}

/**
 * Per shared weight (by key): the smallest scale each of its groups may take so that every int32 bias read beside
 * it fits. A bias is never left float beside a quantized input and weight: onnxruntime's load-time BiasQuantization
 * pass would rewrite it with Round and a per-axis DequantizeLinear whatever the model's opset.
 */
export function biasScaleFloors(
  plan: QuantPlan,
  params: ReadonlyMap<string, LinearQuantParams>,
  keyOf: (use: ConstantUse) => string,
): Map<string, Float32Array> {
  const floors = new Map<string, Float32Array>();
  for (const bias of plan.biases) {
    const input = params.get(bias.input);
    if (input === undefined) continue;
    const groups = bias.weight.axis === undefined ? 1 : bias.weight.tensor.shape[bias.weight.axis]!;
    const floor = minWeightScales(bias.tensor.data, input.scale[0]!, groups);
    const key = keyOf(bias.weight);
    const known = floors.get(key);
    if (known !== undefined) for (let g = 0; g < groups; g++) floor[g] = Math.max(floor[g]!, known[g]!);
    floors.set(key, floor);
  }
  return floors;
}

/**
 * A bias as int32 codes with scale = input scale x weight scale (per weight channel), or undefined when a value
 * is too large for int32 at that scale and would saturate: such a bias stays float rather than change the result.
 */
export function quantizeBias(
  values: Float32Array,
  inputScale: number,
  weight: LinearQuantParams,
): QuantizedTensor | undefined {
  const scale = Float32Array.from(weight.scale, (s) => Math.fround(inputScale * s));
  const int32 = dtypeInfo('int32');
  const params: LinearQuantParams = {
    scale,
    zeroPoint: new Int32Array(scale.length),
    granularity: weight.granularity === 'tensor' ? 'tensor' : 'channel',
    axis: weight.granularity === 'tensor' ? undefined : 0,
    bits: 32,
    dtype: 'int32',
    qmin: int32.min,
    qmax: int32.max,
  };
  const shape = [values.length];
  for (let i = 0; i < values.length; i++) {
    const s = scale[weight.granularity === 'tensor' ? 0 : i]!;
    if (Math.abs(values[i]! / s) > int32.max) return undefined;
  }
  const codes = quantizeLinear(values, shape, params);
  return { codes: createTensor('int32', shape, codes.data as Int32Array), params };
}
