import { type KernelNode, QuantError, type Tensor, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { broadcastIndex, broadcastShape, required, tensorOf } from '../tensor-utils.js';
import {
  type Code8Array,
  codeRange,
  codes8,
  lookupTable,
  roundHalfEven,
  scaleOf,
  zeroPointOf,
} from './quantized-values.js';

const MS_DOMAIN = 'com.microsoft';

/** The codes of a same-typed operand, for ops whose inputs and output share one 8-bit type. */
function sameTypeCodes(tensor: Tensor, dtype: string, what: string): Code8Array {
  const codes = codes8(tensor, what);
  if (tensor.dtype !== dtype)
    throw new QuantError('INVALID_MODEL', `${what} is ${tensor.dtype}; expected ${dtype}`);
  return codes;
}

/**
 * How two codes combine into the output's real value divided by its scale, in float32: `combine(a - aZero,
 * b - bZero)`.
 */
type Combine = (a: number, b: number) => number;

/**
 * QLinearAdd and QLinearMul: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point with
 * numpy broadcasting, uint8 or int8 throughout.
 */
function qLinearBinary(
  opType: string,
  makeCombine: (aScale: number, bScale: number, cScale: number) => Combine,
) {
  return jsKernel(opType, {
    domain: MS_DOMAIN,
    run: (_, [a, aScaleInput, aZeroInput, b, bScaleInput, bZeroInput, cScaleInput, cZeroInput]) => {
      const left = required(a, 'A');
      const right = required(b, 'B');
      const dtype = left.dtype;
      const aCodes = sameTypeCodes(left, dtype, 'A');
      const bCodes = sameTypeCodes(right, dtype, 'B');
      const aZero = zeroPointOf(aZeroInput, 'A_zero_point');
      const bZero = zeroPointOf(bZeroInput, 'B_zero_point');
      const cZero = zeroPointOf(cZeroInput, 'C_zero_point');
      const combine = makeCombine(
        scaleOf(required(aScaleInput, 'A_scale'), 'A_scale'),
        scaleOf(required(bScaleInput, 'B_scale'), 'B_scale'),
        scaleOf(required(cScaleInput, 'C_scale'), 'C_scale'),
      );
      const shape = broadcastShape(left.shape, right.shape);
      const size = sizeOf(shape);
      const ia = broadcastIndex(left.shape, shape);
      const ib = broadcastIndex(right.shape, shape);
      const { qmin, qmax } = codeRange(dtype);
      const out = allocate(dtype, size) as Code8Array;
      for (let i = 0; i < size; i++) {
        const value = combine(aCodes[ia ? ia[i]! : i]! - aZero, bCodes[ib ? ib[i]! : i]! - bZero);
        // onnxruntime adds the output zero point in float32 before rounding, in every kernel of these ops.
        const code = roundHalfEven(Math.fround(value + cZero));
        out[i] = code < qmin ? qmin : code > qmax ? qmax : code;
      }
      return [tensorOf(dtype, shape, out)];
    },
  });
}

/**
 * QLinearAdd: `(A_scale (a - A_zero) + B_scale (b - B_zero)) / C_scale + C_zero` in float32, rounded half to even
 * and saturated: onnxruntime's portable formula. Its x86 kernel folds the zero points into one float constant
 * with fused multiply-adds (ARM: fixed point), which could differ by one code within a float32 rounding of a tie;
 * no such input turned up in 65536-element comparisons.
 */
const qLinearAdd = qLinearBinary('QLinearAdd', (aScale, bScale, cScale) => (a, b) => {
  return Math.fround(Math.fround(Math.fround(aScale * a) + Math.fround(bScale * b)) / cScale);
});

/**
 * QLinearMul: `(a - A_zero)(b - B_zero)` (exact) times `A_scale B_scale / C_scale` in float32, plus C_zero in
 * float32, rounded half to even and saturated, as onnxruntime's kernels compute it.
 */
const qLinearMul = qLinearBinary('QLinearMul', (aScale, bScale, cScale) => {
  const ratio = Math.fround(Math.fround(aScale * bScale) / cScale);
  return (a, b) => Math.fround(Math.fround(a * b) * ratio);
});

/**
 * The one-input QLinear ops as onnxruntime runs them: a 256-entry table built by dequantizing every code,
 * applying `op` in float32 and quantizing the result; X, X_scale, X_zero_point, Y_scale, Y_zero_point.
 */
function qLinearLookup<State>(
  opType: string,
  prepare: (node: KernelNode) => State,
  op: (state: State) => (value: number) => number,
) {
  return jsKernel<State>(opType, {
    domain: MS_DOMAIN,
    prepare,
    run: (state, [x, xScaleInput, xZeroInput, yScaleInput, yZeroInput]) => {
      const input = required(x, 'X');
      const codes = codes8(input, 'X');
      const signed = input.dtype === 'int8';
      const table = lookupTable(
        signed,
        scaleOf(required(xScaleInput, 'X_scale'), 'X_scale'),
        zeroPointOf(xZeroInput, 'X_zero_point'),
        scaleOf(required(yScaleInput, 'Y_scale'), 'Y_scale'),
        zeroPointOf(yZeroInput, 'Y_zero_point'),
        op(state),
      );
      const out = allocate(input.dtype, codes.length) as Code8Array;
      for (let i = 0; i < codes.length; i++) out[i] = table[codes[i]! & 0xff]!;
      return [tensorOf(input.dtype, input.shape, out)];
    },
  });
}

/**
 * QLinearSigmoid, with the exact logistic. onnxruntime evaluates it with MlasComputeLogistic, a rational
 * approximation within a few float32 ulps, so a table entry within that of a rounding boundary could differ by
 * one code; every code of several scale and zero-point choices agreed.
 */
const qLinearSigmoid = qLinearLookup(
  'QLinearSigmoid',
  () => undefined,
  () => (value) => 1 / (1 + Math.exp(-value)),
);

/** QLinearLeakyRelu: `x >= 0 ? x : alpha * x` (alpha 0.01 by default) in float32. */
const qLinearLeakyRelu = qLinearLookup(
  'QLinearLeakyRelu',
  (node) => ({ alpha: Math.fround(node.attributes.float('alpha', 0.01)) }),
  ({ alpha }) =>
    (value) =>
      value >= 0 ? value : Math.fround(alpha * value),
);

export const qLinearElementwiseKernels = [qLinearAdd, qLinearMul, qLinearSigmoid, qLinearLeakyRelu];
