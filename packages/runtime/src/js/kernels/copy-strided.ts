import { type Tensor, type TypedArray, allocate, sizeOf } from '@quantkit/core';
import { stridesOf } from '../tensor-utils.js';

/**
 * Typed-array elements read and written without caring for their type: the layout kernels move numbers and
 * bigints alike, from and to arrays of one dtype.
 */
export interface Elements {
  [index: number]: number | bigint;
  readonly length: number;
}

/**
 * Copies a strided view of `source` into `target`: element `(i0, ..., iN)` of `shape` is read at
 * `sourceOffset + sum(ik * sourceStrides[k])` and written at `targetOffset + sum(ik * targetStrides[k])`. Strides may
 * be 0 (broadcast) or negative (reversed slices). Axes that are contiguous in both layouts are merged first, so a
 * transpose or slice that keeps rows whole copies them with `TypedArray.set`.
 */
export function copyStrided(
  source: TypedArray,
  sourceOffset: number,
  sourceStrides: readonly number[],
  target: TypedArray,
  targetOffset: number,
  targetStrides: readonly number[],
  shape: readonly number[],
): void {
  if (sizeOf(shape) === 0) return;
  const dims: number[] = [];
  const from: number[] = [];
  const to: number[] = [];
  shape.forEach((dim, axis) => {
    if (dim === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && from[last]! === sourceStrides[axis]! * dim && to[last]! === targetStrides[axis]! * dim) {
      dims[last]! *= dim;
      from[last] = sourceStrides[axis]!;
      to[last] = targetStrides[axis]!;
      return;
    }
    dims.push(dim);
    from.push(sourceStrides[axis]!);
    to.push(targetStrides[axis]!);
  });
  const src = source as unknown as Elements;
  const dst = target as unknown as Elements;
  const rank = dims.length;
  if (rank === 0) {
    dst[targetOffset] = src[sourceOffset]!;
    return;
  }
  const inner = dims[rank - 1]!;
  const innerFrom = from[rank - 1]!;
  const innerTo = to[rank - 1]!;
  const whole = innerFrom === 1 && innerTo === 1 && inner >= 16;
  const outer = sizeOf(dims) / inner;
  const counter = new Array<number>(rank).fill(0);
  let s = sourceOffset;
  let t = targetOffset;
  for (let row = 0; row < outer; row++) {
    if (whole) {
      (target as Uint8Array).set((source as Uint8Array).subarray(s, s + inner), t);
    } else {
      for (let i = 0, a = s, b = t; i < inner; i++, a += innerFrom, b += innerTo) dst[b] = src[a]!;
    }
    for (let axis = rank - 2; axis >= 0; axis--) {
      counter[axis]! += 1;
      s += from[axis]!;
      t += to[axis]!;
      if (counter[axis]! < dims[axis]!) break;
      s -= from[axis]! * dims[axis]!;
      t -= to[axis]! * dims[axis]!;
      counter[axis] = 0;
    }
  }
}

/**
 * A new tensor of `shape` whose element `(i0, ..., iN)` is `x`'s element at `offset + sum(ik * strides[k])`: the
 * common core of Transpose, Slice, Expand and Tile.
 */
export function gatherStrided(
  x: Tensor,
  offset: number,
  strides: readonly number[],
  shape: readonly number[],
): Tensor {
  const out = allocate(x.dtype, sizeOf(shape));
  copyStrided(x.data, offset, strides, out, 0, stridesOf(shape), shape);
  return { dtype: x.dtype, shape: [...shape], data: out } as Tensor;
}
