import { QuantError, type Tensor } from '@quantkit/core';
import { columnSums } from './integer-gemm.js';
import type { Code8Array } from './quantized-values.js';

/**
 * Scales or zero points of one side of a quantized MatMul: one value, one per column of B (per row of A), or one
 * such vector per matrix of the operand (shape [...batch, 1, N] for B, [...batch, M, 1] for A).
 */
export interface SideParams<T extends Float32Array | Int32Array> {
  readonly values: T;
  /** Values per matrix of the operand (0 when all matrices share them). */
  readonly stride: number;
  /** Whether there is one value per column (row), rather than one for the matrix. */
  readonly perVector: boolean;
}

/** The values that apply to matrix `matrix` of the operand: a view, length 1 or the vector's length. */
export function paramsOfMatrix<T extends Float32Array | Int32Array>(
  params: SideParams<T>,
  matrix: number,
): T {
  if (!params.perVector) return params.values;
  const start = matrix * params.stride;
  return params.values.subarray(
    start,
    start + (params.stride === 0 ? params.values.length : params.stride),
  ) as T;
}

/**
 * Reads a scale or zero-point tensor of one side of a MatMul.
 * @param operandShape the operand's shape (B's for 'column', A's for 'row')
 * @param length N for columns of B, M for rows of A
 * @throws QuantError INVALID_MODEL when its shape fits none of the accepted forms.
 */
export function sideParams<T extends Float32Array | Int32Array>(
  param: Tensor,
  values: T,
  operandShape: readonly number[],
  length: number,
  side: 'column' | 'row',
  what: string,
): SideParams<T> {
  const size = param.data.length;
  if (size === 1 && param.shape.length <= 1) return { values, stride: 0, perVector: false };
  if (param.shape.length === 1 && size === length) return { values, stride: 0, perVector: true };
  const rank = operandShape.length;
  const expected =
    side === 'column' ? [...operandShape.slice(0, -2), 1, length] : [...operandShape.slice(0, -2), length, 1];
  if (rank >= 2 && param.shape.join() === expected.join()) return { values, stride: length, perVector: true };
  throw new QuantError(
    'INVALID_MODEL',
    `${what} of shape [${param.shape.join(', ')}] is neither one value, nor one per ${side} (${length}), nor of shape [${expected.join(', ')}]`,
  );
}

/**
 * A constant B prepared once: its codes and the column sums of each of its matrices, which the GEMM would
 * otherwise recompute on every run.
 */
export interface PackedB {
  readonly codes: Code8Array;
  readonly columnSums: Int32Array;
}

/** Column sums of every [k, n] matrix of a constant B. */
export function packB(codes: Code8Array, k: number, n: number): PackedB {
  const matrices = k * n === 0 ? 0 : codes.length / (k * n);
  const sums = new Int32Array(matrices * n);
  for (let matrix = 0; matrix < matrices; matrix++) {
    sums.set(columnSums(codes.subarray(matrix * k * n, (matrix + 1) * k * n), k, n), matrix * n);
  }
  return { codes, columnSums: sums };
}

/** Row-major transpose of a [rows, columns] block of 8-bit codes. */
export function transposeCodes(codes: Code8Array, rows: number, columns: number): Code8Array {
  const out = new (codes.constructor as Uint8ArrayConstructor | Int8ArrayConstructor)(codes.length);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++)
      out[column * rows + row] = codes[row * columns + column]!;
  }
  return out;
}
