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
function applyBinary(
  opType: string,
  left: Tensor,
  right: Tensor,
  numberOp: NumberOp,
  bigintOp: BigIntOp | undefined,
  integerOp?: NumberOp,
): Tensor {
  if (left.dtype !== right.dtype) {
    throw new QuantError('INVALID_MODEL', `inputs are ${left.dtype} and ${right.dtype}; they must match`);
  }
  if (left.dtype === 'float16' || left.dtype === 'bfloat16') {
    // Their typed arrays hold raw bits, which arithmetic would treat as integers.
    throw new QuantError('UNSUPPORTED', `${opType} on ${left.dtype} is not implemented`);
  }
  const shape = broadcastShape(left.shape, right.shape);
  const size = sizeOf(shape);
  const out = allocate(left.dtype, size);
  const ia = broadcastIndex(left.shape, shape);
  const ib = broadcastIndex(right.shape, shape);
  if (left.dtype === 'int64') {
    if (bigintOp === undefined) throw new QuantError('UNSUPPORTED', `${opType} on int64 is not implemented`);
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
  return tensorOf(left.dtype, shape, out);
}

function binary(opType: string, numberOp: NumberOp, bigintOp: BigIntOp | undefined, integerOp?: NumberOp) {
  return jsKernel(opType, {
    run: (_, [a, b]) => [
      applyBinary(opType, required(a, 'A'), required(b, 'B'), numberOp, bigintOp, integerOp),
    ],
  });
}

/** A variadic op (Max, Min, Sum) folding a binary one over its 1 or more inputs, all broadcast together. */
function variadic(opType: string, numberOp: NumberOp, bigintOp: BigIntOp) {
  return jsKernel(opType, {
    run: (_, inputs) => [foldInputs(opType, inputs, numberOp, bigintOp)],
  });
}

function foldInputs(
  opType: string,
  inputs: readonly (Tensor | undefined)[],
  numberOp: NumberOp,
  bigintOp: BigIntOp,
): Tensor {
  const present = inputs.filter((input): input is Tensor => input !== undefined);
  const first = present[0];
  if (first === undefined) throw new QuantError('INVALID_MODEL', `${opType} needs at least one input`);
  let result = first;
  for (const next of present.slice(1)) result = applyBinary(opType, result, next, numberOp, bigintOp);
  return result;
}

/** Mean of 1 or more float inputs, broadcast together. */
const mean = jsKernel('Mean', {
  run: (_, inputs) => {
    const sum = foldInputs(
      'Mean',
      inputs,
      (a, b) => a + b,
      (a, b) => a + b,
    );
    if (!isFloat(sum.dtype))
      throw new QuantError('UNSUPPORTED', `Mean on ${sum.dtype}; expected a float type`);
    const count = inputs.filter((input) => input !== undefined).length;
    return [mapFloat(sum, (value) => value / count)];
  },
});

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
  variadic('Max', Math.max, (a, b) => (a > b ? a : b)),
  variadic('Min', Math.min, (a, b) => (a < b ? a : b)),
  variadic(
    'Sum',
    (a, b) => a + b,
    (a, b) => a + b,
  ),
  mean,
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
 * Relu in a loop of its own: CNNs run it after nearly every Conv, and through mapFloat's call site, which every
 * unary op shares (megamorphic), it ran 4-5x slower (2.5-3.0 ms against 0.58 ms on 307,200 floats).
 */
const relu = jsKernel('Relu', {
  run: (_, [input]) => {
    const x = required(input, 'X');
    if (x.dtype !== 'float32' && x.dtype !== 'float64') {
      throw new QuantError('UNSUPPORTED', `input is ${x.dtype}; this kernel computes on float32 and float64`);
    }
    const source = x.data as Float32Array | Float64Array;
    const out = allocate(x.dtype, source.length) as Float32Array | Float64Array;
    for (let i = 0; i < source.length; i++) {
      const value = source[i]!;
      out[i] = value > 0 ? value : 0;
    }
    return [tensorOf(x.dtype, x.shape, out)];
  },
});

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
  relu,
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
  unary('Round', roundHalfToEven),
  unary('Sin', Math.sin),
  unary('Cos', Math.cos),
];

/** Round half to even, as onnxruntime's Round (and numpy.round) do. */
export function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The remainder with the divisor's sign (integer Mod with fmod=0, Python's %). */
const flooredModulo: NumberOp = (a, b) => {
  const remainder = a % b;
  return remainder !== 0 && remainder < 0 !== b < 0 ? remainder + b : remainder;
};
const flooredModuloBigInt: BigIntOp = (a, b) => {
  const remainder = a % b;
  return remainder !== 0n && remainder < 0n !== b < 0n ? remainder + b : remainder;
};

/**
 * Mod: with fmod=1 the remainder has the dividend's sign (C fmod; required for floats), with fmod=0 (integers
 * only) the divisor's.
 */
const mod = jsKernel('Mod', {
  prepare: (node) => ({ fmod: node.attributes.int('fmod', 0) === 1 }),
  run: ({ fmod }, [a, b]) => {
    const left = required(a, 'A');
    if (isFloat(left.dtype) && !fmod) {
      throw new QuantError('INVALID_MODEL', `Mod on ${left.dtype} needs fmod=1`);
    }
    return [
      fmod
        ? applyBinary(
            'Mod',
            left,
            required(b, 'B'),
            (x, y) => x % y,
            (x, y) => x % y,
          )
        : applyBinary('Mod', left, required(b, 'B'), flooredModulo, flooredModuloBigInt),
    ];
  },
});

/**
 * Pow with broadcasting: float32/float64/int32/int64 base, exponent of any of those types, output of the base's
 * type (integer results of a float power truncate, int64 with a non-negative integer exponent computed exactly).
 */
const pow = jsKernel('Pow', {
  run: (_, [a, b]) => {
    const base = required(a, 'X');
    const exponent = required(b, 'Y');
    const allowed = ['float32', 'float64', 'int32', 'int64'];
    if (!allowed.includes(base.dtype) || !allowed.includes(exponent.dtype)) {
      throw new QuantError(
        'UNSUPPORTED',
        `Pow of ${base.dtype} by ${exponent.dtype}; both must be one of ${allowed.join(', ')}`,
      );
    }
    const shape = broadcastShape(base.shape, exponent.shape);
    const size = sizeOf(shape);
    const ia = broadcastIndex(base.shape, shape);
    const ib = broadcastIndex(exponent.shape, shape);
    const out = allocate(base.dtype, size);
    if (base.dtype === 'int64') {
      const x = base.data as BigInt64Array;
      const y = Array.from(exponent.data as ArrayLike<number | bigint>, Number);
      const o = out as BigInt64Array;
      for (let i = 0; i < size; i++) {
        const power = y[ib ? ib[i]! : i]!;
        const value = x[ia ? ia[i]! : i]!;
        o[i] =
          Number.isInteger(power) && power >= 0
            ? BigInt.asIntN(64, value ** BigInt(power))
            : BigInt(Math.trunc(Number(value) ** power));
      }
    } else {
      const x = base.data as Float32Array | Float64Array | Int32Array;
      const y = (
        exponent.dtype === 'int64' ? Float64Array.from(exponent.data as BigInt64Array, Number) : exponent.data
      ) as Float64Array;
      const o = out as Float32Array | Float64Array | Int32Array;
      if (base.dtype === 'int32') {
        for (let i = 0; i < size; i++) o[i] = Math.trunc(x[ia ? ia[i]! : i]! ** y[ib ? ib[i]! : i]!);
      } else {
        for (let i = 0; i < size; i++) o[i] = x[ia ? ia[i]! : i]! ** y[ib ? ib[i]! : i]!;
      }
    }
    return [tensorOf(base.dtype, shape, out)];
  },
});

/** Sign: -1, 0 or 1 (-0 gives 0, NaN stays NaN) for float and integer types. */
const sign = jsKernel('Sign', {
  run: (_, [input]) => {
    const x = required(input, 'input');
    if (x.dtype === 'int64') {
      const source = x.data as BigInt64Array;
      const out = new BigInt64Array(source.length);
      for (let i = 0; i < source.length; i++) out[i] = source[i]! > 0n ? 1n : source[i]! < 0n ? -1n : 0n;
      return [tensorOf('int64', x.shape, out)];
    }
    if (x.dtype === 'float16' || x.dtype === 'bfloat16') {
      throw new QuantError('UNSUPPORTED', `Sign on ${x.dtype} is not implemented`);
    }
    const source = x.data as Float32Array;
    const out = allocate(x.dtype, source.length) as Float32Array;
    for (let i = 0; i < source.length; i++) {
      const value = source[i]!;
      out[i] = value > 0 ? 1 : value < 0 ? -1 : value === 0 ? 0 : Number.NaN;
    }
    return [tensorOf(x.dtype, x.shape, out)];
  },
});

export const elementwiseExtraKernels = [mod, pow, sign];
