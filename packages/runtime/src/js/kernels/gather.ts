import { QuantError, type Tensor, allocate, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { normalizeAxis, required, stridesOf, tensorOf } from '../tensor-utils.js';
import type { Elements } from './copy-strided.js';

/**
 * The indices of Gather/GatherElements as numbers in [0, dim), negative ones counted from the end.
 * @throws QuantError INVALID_MODEL for a non-integer tensor, INVALID_ARGUMENT for an index out of range.
 */
function indexValues(indices: Tensor, dim: number): Float64Array {
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') {
    throw new QuantError('INVALID_MODEL', `indices are ${indices.dtype}; expected int64 or int32`);
  }
  const source = indices.data as ArrayLike<number | bigint>;
  const values = new Float64Array(source.length);
  for (let i = 0; i < source.length; i++) {
    const value = Number(source[i]!);
    const index = value < 0 ? value + dim : value;
    if (!(index >= 0 && index < dim)) {
      throw new QuantError('INVALID_ARGUMENT', `index ${value} is out of range for an axis of size ${dim}`);
    }
    values[i] = index;
  }
  return values;
}

/** Gather: picks slices along `axis` by index; output shape data[:axis] + indices + data[axis+1:]. Any dtype. */
const gather = jsKernel('Gather', {
  prepare: (node) => ({ axis: node.attributes.int('axis', 0) }),
  run: ({ axis: attribute }, [dataInput, indicesInput]) => {
    const data = required(dataInput, 'data');
    const indices = required(indicesInput, 'indices');
    const axis = normalizeAxis(attribute, data.shape.length);
    const dim = data.shape[axis]!;
    const picks = indexValues(indices, dim);
    const outer = sizeOf(data.shape.slice(0, axis));
    const inner = sizeOf(data.shape.slice(axis + 1));
    const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
    const out = allocate(data.dtype, sizeOf(shape));
    const source = data.data as unknown as Elements;
    const target = out as unknown as Elements;
    let t = 0;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < picks.length; j++) {
        const from = (o * dim + picks[j]!) * inner;
        if (inner >= 16) {
          (out as Uint8Array).set((data.data as Uint8Array).subarray(from, from + inner), t);
          t += inner;
        } else {
          for (let i = 0; i < inner; i++) target[t++] = source[from + i]!;
        }
      }
    }
    return [tensorOf(data.dtype, shape, out)];
  },
});

/** GatherElements: out[..., i_axis, ...] = data[..., indices[..., i_axis, ...], ...]; output shape = indices'. */
const gatherElements = jsKernel('GatherElements', {
  prepare: (node) => ({ axis: node.attributes.int('axis', 0) }),
  run: ({ axis: attribute }, [dataInput, indicesInput]) => {
    const data = required(dataInput, 'data');
    const indices = required(indicesInput, 'indices');
    const rank = data.shape.length;
    const axis = normalizeAxis(attribute, rank);
    if (indices.shape.length !== rank) {
      throw new QuantError(
        'INVALID_MODEL',
        `indices [${indices.shape.join(', ')}] must have the rank of data [${data.shape.join(', ')}]`,
      );
    }
    const picks = indexValues(indices, data.shape[axis]!);
    const strides = stridesOf(data.shape);
    const shape = indices.shape;
    const size = sizeOf(shape);
    const out = allocate(data.dtype, size);
    const source = data.data as unknown as Elements;
    const target = out as unknown as Elements;
    const counter = new Array<number>(rank).fill(0);
    const axisStride = strides[axis]!;
    let base = 0;
    for (let i = 0; i < size; i++) {
      target[i] = source[base + picks[i]! * axisStride]!;
      for (let k = rank - 1; k >= 0; k--) {
        counter[k]! += 1;
        if (k !== axis) base += strides[k]!;
        if (counter[k]! < shape[k]!) break;
        if (k !== axis) base -= strides[k]! * shape[k]!;
        counter[k] = 0;
      }
    }
    return [tensorOf(data.dtype, shape, out)];
  },
});

export const gatherKernels = [gather, gatherElements];
