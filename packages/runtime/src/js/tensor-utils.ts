import { type DType, QuantError, type Tensor, type TypedArray, allocate, sizeOf } from '@quantkit/core';

/** A new tensor of `dtype` and `shape`, zero-filled or holding `data`. */
export function tensorOf<D extends DType>(dtype: D, shape: readonly number[], data?: TypedArray): Tensor<D> {
  return { dtype, shape: [...shape], data: (data ?? allocate(dtype, sizeOf(shape))) as Tensor<D>['data'] };
}

/** An input the kernel cannot run without. */
export function required(tensor: Tensor | undefined, what: string): Tensor {
  if (tensor === undefined) throw new QuantError('INVALID_MODEL', `input ${what} is missing`);
  return tensor;
}

/** The values of an integer tensor (shapes, axes, indices; int64 included) as numbers. */
export function integers(tensor: Tensor): number[] {
  return Array.from(tensor.data as ArrayLike<number | bigint>, Number);
}

/** A float32 view of a float tensor's values (float64 is converted; other types are refused). */
export function float32Data(tensor: Tensor, what: string): Float32Array {
  if (tensor.dtype === 'float32') return tensor.data as Float32Array;
  if (tensor.dtype === 'float64') return Float32Array.from(tensor.data as Float64Array);
  throw new QuantError('UNSUPPORTED', `${what} is ${tensor.dtype}; this kernel computes in float32`);
}

/**
 * The shape two or more shapes broadcast to (numpy rules).
 * @throws QuantError INVALID_MODEL when two dimensions differ and neither is 1.
 */
export function broadcastShape(...shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((shape) => shape.length));
  const result = new Array<number>(rank).fill(1);
  for (const shape of shapes) {
    const offset = rank - shape.length;
    shape.forEach((dim, axis) => {
      const current = result[offset + axis]!;
      if (dim === current || dim === 1) return;
      if (current !== 1) {
        throw new QuantError(
          'INVALID_MODEL',
          `shapes ${shapes.map((s) => `[${s.join(', ')}]`).join(' and ')} do not broadcast`,
        );
      }
      result[offset + axis] = dim;
    });
  }
  return result;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis]!;
  }
  return strides;
}

/**
 * For each element of `outShape`, the index of the element of a tensor of `shape` that broadcasts to it; an
 * Int32Array (or undefined when the shapes are equal and the index is the identity).
 */
export function broadcastIndex(
  shape: readonly number[],
  outShape: readonly number[],
): Int32Array | undefined {
  const size = sizeOf(outShape);
  if (shape.length === outShape.length && shape.every((dim, axis) => dim === outShape[axis]))
    return undefined;
  const index = new Int32Array(size);
  if (sizeOf(shape) === 1) return index;
  const rank = outShape.length;
  const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const inStrides = stridesOf(padded).map((stride, axis) => (padded[axis] === 1 ? 0 : stride));
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let i = 0; i < size; i++) {
    index[i] = offset;
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]! += 1;
      offset += inStrides[axis]!;
      if (counter[axis]! < outShape[axis]!) break;
      offset -= inStrides[axis]! * outShape[axis]!;
      counter[axis] = 0;
    }
  }
  return index;
}

/** An axis attribute or input normalized into [0, rank). @throws QuantError INVALID_MODEL when out of range. */
export function normalizeAxis(axis: number, rank: number, what = 'axis'): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(normalized) || normalized < 0 || normalized >= Math.max(rank, 1)) {
    throw new QuantError('INVALID_MODEL', `${what} ${axis} is out of range for rank ${rank}`);
  }
  return normalized;
}
