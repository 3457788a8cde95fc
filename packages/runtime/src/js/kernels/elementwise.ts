import { QuantError, type Tensor, type TypedArray, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { broadcastIndex, broadcastShape, required, tensorOf } from '../tensor-utils.js';

type NumberOp = (a: number, b: number) => number;
type BigIntOp = (a: bigint, b: bigint) => bigint;

/**
 * Elementwise binary op with numpy broadcasting over any numeric dtype both inputs share: `number` for float and
 * 32-bit-or-narrower integers (integer results wrap into the dtype as the typed array stores them), `bigint` for
 * int64.
 */
function binary(opType: string, numberOp: NumberOp, bigintOp: BigIntOp | undefined, integerOp?: NumberOp) {
  return jsKernel(opType, {
    run: (_, [a, b]) => {
      const left = required(a, 'A');
      const right = required(b, 'B');
      if (left.dtype !== right.dtype) {
        throw new QuantError('INVALID_MODEL', `inputs are ${left.dtype} and ${right.dtype}; they must match`);
      }
      const shape = broadcastShape(left.shape, right.shape);
      const size = sizeOf(shape);
      const out = allocate(left.dtype, size);
      const ia = broadcastIndex(left.shape, shape);
      const ib = broadcastIndex(right.shape, shape);
      if (left.dtype === 'int64') {
        if (bigintOp === undefined)
          throw new QuantError('UNSUPPORTED', `${opType} on int64 is not implemented`);
        const x = left.data as BigInt64Array;
        const y = right.data as BigInt64Array;
        const o = out as BigInt64Array;
        for (let i = 0; i < size; i++) o[i] = bigintOp(x[ia ? ia[i]! : i]!, y[ib ? ib[i]! : i]!);
      } else {
        const op = integerOp !== undefined && !isFloat(left.dtype) ? integerOp : numberOp;
        const x = left.data as Exclude<TypedArray, BigInt64Array>;
        const y = right.data as Exclude<TypedArray, BigInt64Array>;
        const o = out as Exclude<TypedArray, BigInt64Array>;
        if (ia === undefined && ib === undefined) for (let i = 0; i < size; i++) o[i] = op(x[i]!, y[i]!);
        else for (let i = 0; i < size; i++) o[i] = op(x[ia ? ia[i]! : i]!, y[ib ? ib[i]! : i]!);
      }
      return [tensorOf(left.dtype, shape, out)];
    },
  });
}

function isFloat(dtype: string): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** Integer division as ONNX runtimes do it: truncated toward zero. */
const truncatedDivide: NumberOp = (a, b) => Math.trunc(a / b);

export const elementwiseBinaryKernels = [
  binary(
    'Add',
    (a, b) => a + b,
    (a, b) => a + b,
  ),
  binary(
    'Sub',
    (a, b) => a - b,
    (a, b) => a - b,
  ),
  binary(
    'Mul',
    (a, b) => a * b,
    (a, b) => a * b,
  ),
  binary(
    'Div',
    (a, b) => a / b,
    (a, b) => a / b,
    truncatedDivide,
  ),
  binary('Max', Math.max, (a, b) => (a > b ? a : b)),
  binary('Min', Math.min, (a, b) => (a < b ? a : b)),
];

/** Elementwise op on float32 data. */
function unary(opType: string, op: (value: number) => number, options: { opsets?: { min?: number } } = {}) {
  return jsKernel(opType, {
    ...(options.opsets !== undefined && { opsets: options.opsets }),
    run: (_, [x]) => [mapFloat(required(x, 'X'), op)],
  });
}

/** A float tensor with `op` applied to each value. */
export function mapFloat(x: Tensor, op: (value: number) => number): Tensor {
  if (x.dtype !== 'float32' && x.dtype !== 'float64') {
    throw new QuantError('UNSUPPORTED', `input is ${x.dtype}; this kernel computes on float32 and float64`);
  }
  const source = x.data as Float32Array | Float64Array;
  const out = allocate(x.dtype, source.length) as Float32Array | Float64Array;
  for (let i = 0; i < source.length; i++) out[i] = op(source[i]!);
  return tensorOf(x.dtype, x.shape, out);
}

/**
 * The error function to float32 precision: its Maclaurin series below |x| = 4 (in float64 the alternating terms,
 * at most about 5e4 in size, leave errors near 1e-11), and +-1 beyond, where erfc(4) = 1.5e-8 is below half a
 * float32 ulp of 1.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a >= 4) return Math.sign(x);
  const square = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= -square / n;
    const next = term / (2 * n + 1);
    sum += next;
    if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

export const elementwiseUnaryKernels = [
  unary('Relu', (v) => (v > 0 ? v : 0)),
  unary('Sigmoid', (v) => 1 / (1 + Math.exp(-v))),
  unary('Tanh', Math.tanh),
  unary('Exp', Math.exp),
  unary('Log', Math.log),
  unary('Sqrt', Math.sqrt),
  unary('Erf', erf),
  unary('Neg', (v) => -v),
  unary('Abs', Math.abs),
  unary('Reciprocal', (v) => 1 / v),
  unary('Floor', Math.floor),
  unary('Ceil', Math.ceil),
];
