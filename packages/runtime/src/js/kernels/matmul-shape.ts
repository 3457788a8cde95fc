import { QuantError, sizeOf } from '@quantkit/core';
import { broadcastShape, stridesOf } from '../tensor-utils.js';

/** How a MatMul (numpy semantics) splits into 2-D products: one analysis for every MatMul-shaped kernel. */
export interface MatMulShape {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** For each matrix of the broadcast batch, the index of A's and of B's matrix it multiplies. */
  readonly aMatrices: readonly number[];
  readonly bMatrices: readonly number[];
  /** B is one matrix, so all of A's rows (every batch) form one M x K product. */
  readonly singleB: boolean;
  readonly outShape: readonly number[];
}

/**
 * The products of a MatMul of shapes `a` and `b`: 1-D operands promoted (and squeezed back in the output), batch
 * dimensions broadcast.
 * @throws QuantError INVALID_MODEL when the inner dimensions differ or the batch dimensions do not broadcast.
 */
export function matMulShape(a: readonly number[], b: readonly number[]): MatMulShape {
  if (a.length === 0 || b.length === 0) {
    throw new QuantError('INVALID_MODEL', 'MatMul inputs must have at least one dimension');
  }
  const aShape = a.length === 1 ? [1, a[0]!] : a;
  const bShape = b.length === 1 ? [b[0]!, 1] : b;
  const m = aShape[aShape.length - 2]!;
  const k = aShape[aShape.length - 1]!;
  const n = bShape[bShape.length - 1]!;
  if (bShape[bShape.length - 2] !== k) {
    throw new QuantError(
      'INVALID_MODEL',
      `inner dimensions differ: A is [${a.join(', ')}], B is [${b.join(', ')}]`,
    );
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShape(aBatch, bBatch);
  return {
    m,
    k,
    n,
    aMatrices: matrixIndices(aBatch, batch),
    bMatrices: matrixIndices(bBatch, batch),
    singleB: sizeOf(bBatch) === 1,
    outShape: [...batch, ...(a.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [n])],
  };
}

/** For each index of the broadcast batch shape, the index of the operand's matrix. */
function matrixIndices(shape: readonly number[], batch: readonly number[]): number[] {
  const padded = [...new Array<number>(batch.length - shape.length).fill(1), ...shape];
  const strides = stridesOf(padded);
  const total = sizeOf(batch);
  const indices: number[] = [];
  const counter = new Array<number>(batch.length).fill(0);
  for (let index = 0; index < total; index++) {
    let matrix = 0;
    for (let axis = 0; axis < batch.length; axis++) {
      if (padded[axis] !== 1) matrix += counter[axis]! * strides[axis]!;
    }
    indices.push(matrix);
    for (let axis = batch.length - 1; axis >= 0; axis--) {
      counter[axis]! += 1;
      if (counter[axis]! < batch[axis]!) break;
      counter[axis] = 0;
    }
  }
  return indices;
}
