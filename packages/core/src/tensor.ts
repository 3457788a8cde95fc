import { type DType, type DTypeStorage, allocate } from './dtype.js';
import { QuantError } from './errors.js';

/**
 * A dense row-major tensor: data + dtype + shape. Sub-byte dtypes hold one element per array slot.
 *
 * @example
 * const t: Tensor<'float32'> = { dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) };
 */
export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: DTypeStorage[D];
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

/**
 * Builds a tensor, checking that the data length matches the shape.
 * @throws QuantError INVALID_ARGUMENT when the lengths disagree or a dimension is not a non-negative integer.
 */
export function createTensor<D extends DType>(
  dtype: D,
  shape: readonly number[],
  data?: DTypeStorage[D],
): Tensor<D> {
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new QuantError('INVALID_ARGUMENT', `tensor shape [${shape.join(', ')}] has an invalid dimension`);
    }
  }
  const size = sizeOf(shape);
  const values = data ?? allocate(dtype, size);
  if (values.length !== size) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `a ${dtype} tensor of shape [${shape.join(', ')}] needs ${size} elements, got ${values.length}`,
    );
  }
  return { dtype, shape: [...shape], data: values };
}

/**
 * Splits a shape around `axis` into the sizes a per-axis loop needs: element `(o, d, i)` sits at
 * `(o * axisSize + d) * inner + i`.
 * @throws QuantError INVALID_ARGUMENT when axis is out of range.
 */
export function axisLayout(
  shape: readonly number[],
  axis: number,
): { outer: number; axisSize: number; inner: number; axis: number } {
  const rank = shape.length;
  const normalized = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(normalized) || normalized < 0 || normalized >= rank) {
    throw new QuantError('INVALID_ARGUMENT', `axis ${axis} is out of range for shape [${shape.join(', ')}]`);
  }
  return {
    outer: sizeOf(shape.slice(0, normalized)),
    axisSize: shape[normalized] ?? 1,
    inner: sizeOf(shape.slice(normalized + 1)),
    axis: normalized,
  };
}

/** Shape equality. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}
