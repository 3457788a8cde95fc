import { getFloat16, setFloat16 } from '@petamoriken/float16';
import { type DType, QuantError, type Tensor, type TypedArray, allocate } from '@quantkit/core';
import { dtypeFromOnnx } from '@quantkit/onnx';
import { jsKernel } from '../backend.js';
import { required, tensorOf } from '../tensor-utils.js';

/** The dtypes Cast converts between. */
const CASTABLE: readonly DType[] = [
  'float32',
  'float64',
  'float16',
  'int64',
  'int32',
  'int16',
  'uint16',
  'int8',
  'uint8',
  'bool',
];

const INT32_MIN = -2147483648;
const TWO_POW_32 = 2 ** 32;
const TWO_POW_63 = 2 ** 63;

/** float16 bits as float values (exact in float32). */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const view = new DataView(bits.buffer, bits.byteOffset, bits.byteLength);
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = getFloat16(view, 2 * i, true);
  return out;
}

/** Float values as float16 bits, rounded to nearest even through float32 (as onnxruntime converts). */
export function float32ToFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) setFloat16(view, 2 * i, Math.fround(values[i]!), true);
  return out;
}

/**
 * `x`'s values converted to `to` as onnxruntime does on x86: floats to integers truncate toward zero; a float out of
 * the int32 range (or NaN) becomes INT32_MIN before narrower integer types keep its low bits, and one out of the
 * int64 range becomes INT64_MIN; integers to narrower integers keep the low bits; anything to bool tests != 0.
 */
export function castData(x: Tensor, to: DType): TypedArray {
  const count = x.data.length;
  const out = allocate(to, count);
  if (x.dtype === 'int64') {
    const source = x.data as BigInt64Array;
    if (to === 'int64') (out as BigInt64Array).set(source);
    else if (to === 'bool') for (let i = 0; i < count; i++) (out as Uint8Array)[i] = source[i] !== 0n ? 1 : 0;
    else if (to === 'float16') return float32ToFloat16(Array.from(source, Number));
    else if (to === 'float32' || to === 'float64') {
      const target = out as Float32Array | Float64Array;
      for (let i = 0; i < count; i++) target[i] = Number(source[i]!);
    } else {
      const target = out as Int32Array;
      for (let i = 0; i < count; i++) target[i] = Number(BigInt.asIntN(32, source[i]!));
    }
    return out;
  }
  const fromFloat = x.dtype === 'float32' || x.dtype === 'float64' || x.dtype === 'float16';
  const source = (x.dtype === 'float16' ? float16ToFloat32(x.data as Uint16Array) : x.data) as Float64Array;
  switch (to) {
    case 'float16':
      return float32ToFloat16(source);
    case 'bool': {
      const target = out as Uint8Array;
      for (let i = 0; i < count; i++) target[i] = source[i] !== 0 ? 1 : 0;
      return out;
    }
    case 'int64': {
      // Written as two 32-bit words (little-endian, as every JS platform is): a BigInt per element is ~10x slower.
      const words = new Int32Array((out as BigInt64Array).buffer);
      for (let i = 0; i < count; i++) {
        const value = Math.trunc(source[i]!);
        if (value >= -TWO_POW_63 && value < TWO_POW_63) {
          words[2 * i] = (value % TWO_POW_32) | 0;
          words[2 * i + 1] = Math.floor(value / TWO_POW_32) | 0;
        } else {
          words[2 * i + 1] = INT32_MIN;
        }
      }
      return out;
    }
    case 'float32':
    case 'float64':
      (out as Float64Array).set(source);
      return out;
    default: {
      // int32, int16, uint16, int8, uint8: the typed array keeps the low bits.
      const target = out as Int32Array;
      if (!fromFloat) target.set(source);
      else {
        for (let i = 0; i < count; i++) {
          const value = Math.trunc(source[i]!);
          target[i] = value >= INT32_MIN && value <= 2147483647 ? value : INT32_MIN;
        }
      }
      return out;
    }
  }
}

function checkCastable(dtype: DType, what: string): void {
  if (!CASTABLE.includes(dtype)) {
    throw new QuantError('UNSUPPORTED', `${what} is ${dtype}; Cast handles ${CASTABLE.join(', ')}`);
  }
}

function cast(x: Tensor, to: DType): Tensor {
  checkCastable(x.dtype, 'the input');
  if (x.dtype === to) return x;
  return tensorOf(to, x.shape, castData(x, to));
}

/** Cast to the dtype `to` names (saturate, for float8 targets, does not apply to the dtypes handled here). */
const castKernel = jsKernel('Cast', {
  supports: (node) => {
    const to = dtypeFromOnnx(node.attributes.int('to'), 'Cast to');
    return CASTABLE.includes(to) || `casts to ${to}; this kernel handles ${CASTABLE.join(', ')}`;
  },
  prepare: (node) => ({ to: dtypeFromOnnx(node.attributes.int('to'), 'Cast to') }),
  run: ({ to }, [input]) => [cast(required(input, 'input'), to)],
});

/** CastLike (opset 15): Cast to the dtype of the second input. */
const castLike = jsKernel('CastLike', {
  run: (_, [input, like]) => {
    const target = required(like, 'target_type');
    checkCastable(target.dtype, 'target_type');
    return [cast(required(input, 'input'), target.dtype)];
  },
});

export const castKernels = [castKernel, castLike];
