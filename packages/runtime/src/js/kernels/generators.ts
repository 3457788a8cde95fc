import { QuantError, type Tensor, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { integers, required, tensorOf } from '../tensor-utils.js';
import type { Elements } from './copy-strided.js';

/** ConstantOfShape: a tensor of the shape input filled with `value`'s one element (default float32 0). */
const constantOfShape = jsKernel('ConstantOfShape', {
  prepare: (node) => {
    const value: Tensor = node.attributes.has('value')
      ? node.attributes.tensor('value')
      : { dtype: 'float32', shape: [1], data: new Float32Array(1) };
    if (value.data.length !== 1) {
      throw new QuantError('INVALID_MODEL', `value holds ${value.data.length} elements; expected 1`);
    }
    return { value };
  },
  run: ({ value }, [shapeInput]) => {
    const shape = integers(required(shapeInput, 'input'));
    if (shape.some((dim) => !(dim >= 0))) {
      throw new QuantError('INVALID_ARGUMENT', `shape [${shape.join(', ')}] has a negative dimension`);
    }
    const out = allocate(value.dtype, sizeOf(shape));
    const fill = (value.data as unknown as Elements)[0]!;
    if (fill !== 0 && fill !== 0n) (out as unknown as { fill(value: number | bigint): void }).fill(fill);
    return [tensorOf(value.dtype, shape, out)];
  },
});

/** Size: the number of elements, as an int64 scalar. */
const size = jsKernel('Size', {
  run: (_, [data]) => [tensorOf('int64', [], BigInt64Array.of(BigInt(sizeOf(required(data, 'data').shape))))],
});

/**
 * Range: start, start + delta, ... up to (excluding) limit, in the inputs' dtype; the value is accumulated step by
 * step in that dtype as onnxruntime does.
 */
const range = jsKernel('Range', {
  run: (_, [startInput, limitInput, deltaInput]) => {
    const start = required(startInput, 'start');
    const limit = required(limitInput, 'limit');
    const delta = required(deltaInput, 'delta');
    const { dtype } = start;
    if (limit.dtype !== dtype || delta.dtype !== dtype) {
      throw new QuantError(
        'INVALID_MODEL',
        `start, limit and delta are ${start.dtype}, ${limit.dtype} and ${delta.dtype}; they must match`,
      );
    }
    if (dtype === 'int64') {
      const first = (start.data as BigInt64Array)[0]!;
      const step = (delta.data as BigInt64Array)[0]!;
      const last = (limit.data as BigInt64Array)[0]!;
      if (step === 0n) throw new QuantError('INVALID_ARGUMENT', 'delta is 0');
      const distance = last - first;
      // ceil(distance / step), with bigint division truncating toward zero.
      let count = distance / step;
      if (count * step !== distance && distance > 0n === step > 0n) count += 1n;
      const length = count > 0n ? Number(count) : 0;
      const out = new BigInt64Array(length);
      let value = first;
      for (let i = 0; i < length; i++, value += step) out[i] = value;
      return [tensorOf('int64', [length], out)];
    }
    if (!['float32', 'float64', 'int32', 'int16'].includes(dtype)) {
      throw new QuantError(
        'UNSUPPORTED',
        `Range on ${dtype}; expected float32, float64, int32, int16 or int64`,
      );
    }
    const first = Number(start.data[0]);
    const step = Number(delta.data[0]);
    const last = Number(limit.data[0]);
    if (step === 0) throw new QuantError('INVALID_ARGUMENT', 'delta is 0');
    // onnxruntime takes the distance in the dtype, then divides in float64.
    const distance = dtype === 'float32' ? Math.fround(last - first) : last - first;
    const length = Math.max(0, Math.ceil(distance / step));
    const out = allocate(dtype, length) as Float32Array | Float64Array | Int32Array | Int16Array;
    if (dtype === 'float32') {
      let value = Math.fround(first);
      for (let i = 0; i < length; i++, value = Math.fround(value + step)) out[i] = value;
    } else {
      let value = first;
      for (let i = 0; i < length; i++, value += step) out[i] = value;
    }
    return [tensorOf(dtype, [length], out)];
  },
});

export const generatorKernels = [constantOfShape, size, range];
