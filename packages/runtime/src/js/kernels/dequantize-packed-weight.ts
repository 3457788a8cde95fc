import { type KernelNode, type Tensor, sizeOf } from '@quantkit/core';
import { LOG_TABLE_SIZE } from './packed-log-gemm.js';
import { type MatrixView, preparePackedMatrix } from './packed-matrix.js';

/**
 * The weight in logical order as a matrix view: rows along the scale axis (weight_axis, or 0), so per-channel
 * scales run along the rows, and the compute order of packed-matrix.ts is the weight's own row-major order:
 * element (batch, row, column) is flat index (batch * n + row) * k + column.
 */
function logicalView(node: KernelNode, shape: readonly number[]): MatrixView {
  if (shape.length === 0) {
    return { batches: 1, n: 1, k: 1, batchStride: 1, nStride: 1, kStride: 1, outputAxis: undefined };
  }
  const requested = node.attributes.has('weight_axis') ? node.attributes.int('weight_axis') : 0;
  // An out-of-range axis is reported by preparePackedMatrix, which reads the attribute again.
  const axis = Number.isInteger(requested) && requested >= 0 && requested < shape.length ? requested : 0;
  const n = shape[axis]!;
  const k = sizeOf(shape.slice(axis + 1));
  return {
    batches: sizeOf(shape.slice(0, axis)),
    n,
    k,
    batchStride: n * k,
    nStride: k,
    kStride: 1,
    outputAxis: axis,
  };
}

/**
 * A node's packed weight (input `slot`, format per its weight_* attributes) dequantized to float32 values of
 * weight_shape, exactly the values the stock form's DequantizeLinear or Gather computes: +-alpha for binary
 * weights, the table level of each code for log weights. Read and validated by packed-matrix.ts.
 *
 * @example
 * const weight = dequantizePackedWeight(node, 0); // a packed Gather's embedding table
 * @throws QuantError INVALID_MODEL naming the attribute that disagrees with the packed data; UNSUPPORTED for a
 * format the packed kernels do not read.
 */
export function dequantizePackedWeight(node: KernelNode, slot: number): Tensor<'float32'> {
  const matrix = preparePackedMatrix(node, slot, (shape) => logicalView(node, shape));
  const rows = matrix.batches * matrix.n;
  const out = new Float32Array(sizeOf(matrix.shape));
  if (matrix.format === 'binary') {
    const { bits, k, wordsPerRow, alpha } = matrix.weights;
    for (let row = 0; row < rows; row++) {
      const positive = alpha[row]!;
      const negative = -positive;
      const words = row * wordsPerRow;
      const base = row * k;
      for (let column = 0; column < k; column++) {
        out[base + column] = (bits[words + (column >>> 5)]! >>> (column & 31)) & 1 ? positive : negative;
      }
    }
  } else {
    const { codes, k, levels, rowTable } = matrix.weights;
    for (let row = 0; row < rows; row++) {
      const table = rowTable[row]! * LOG_TABLE_SIZE;
      const base = row * k;
      for (let column = 0; column < k; column++) out[base + column] = levels[table + codes[base + column]!]!;
    }
  }
  return { dtype: 'float32', shape: [...matrix.shape], data: out };
}
