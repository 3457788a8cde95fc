import { QuantError, type Tensor, allocate } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { required, tensorOf } from '../tensor-utils.js';
import { columnSums, integerGemm } from './integer-gemm.js';
import { transposeCodes } from './quantized-matmul-plan.js';
import {
  type Code8Array,
  type CodeArray,
  codeRange,
  codes8,
  requantize,
  scaleOf,
  scalesOf,
  zeroPointOf,
} from './quantized-values.js';

interface QGemmState {
  readonly alpha: number;
  readonly transA: boolean;
  readonly transB: boolean;
  /** A constant B as [K, N] with its column sums. */
  readonly packed?: { readonly codes: Code8Array; readonly columnSums: Int32Array; readonly k: number };
}

/** Adds the int32 C, broadcast from a scalar, [N], [1, N], [M, 1] or [M, N], to the accumulators. */
function addC(accumulators: Int32Array, c: Tensor, m: number, n: number): void {
  if (c.dtype !== 'int32') throw new QuantError('INVALID_MODEL', `C is ${c.dtype}; QGemm takes int32`);
  const values = c.data as Int32Array;
  const [rows, columns] =
    values.length === 1
      ? [1, 1]
      : c.shape.length === 1
        ? [1, c.shape[0]!]
        : [c.shape[c.shape.length - 2]!, c.shape[c.shape.length - 1]!];
  if ((rows !== 1 && rows !== m) || (columns !== 1 && columns !== n) || rows * columns !== values.length) {
    throw new QuantError(
      'INVALID_MODEL',
      `C of shape [${c.shape.join(', ')}] does not broadcast to [${m}, ${n}]`,
    );
  }
  for (let i = 0; i < m; i++) {
    const from = (rows === 1 ? 0 : i) * columns;
    for (let j = 0; j < n; j++) {
      accumulators[i * n + j] = (accumulators[i * n + j]! + values[from + (columns === 1 ? 0 : j)]!) | 0;
    }
  }
}

/**
 * com.microsoft QGemm: `alpha * (A - a_zero_point)(B - b_zero_point) * a_scale * b_scale + C` with optional
 * transposes, C an int32 at the accumulator's scale (added before scaling), B per tensor or per column; with
 * y_scale and y_zero_point the result is requantized to their type, without them it is float32.
 */
const qGemm = jsKernel('QGemm', {
  domain: 'com.microsoft',
  prepare: (node): QGemmState => {
    const transB = node.attributes.int('transB', 0) !== 0;
    const constant = node.inputs[3]?.constant;
    let packed: QGemmState['packed'];
    if (
      constant !== undefined &&
      constant.shape.length === 2 &&
      (constant.dtype === 'uint8' || constant.dtype === 'int8')
    ) {
      const [rows, columns] = constant.shape as [number, number];
      const source = constant.data as Code8Array;
      const codes = transB ? transposeCodes(source, rows, columns) : source;
      const k = transB ? columns : rows;
      const n = transB ? rows : columns;
      packed = { codes, columnSums: columnSums(codes, k, n), k };
    }
    return {
      alpha: Math.fround(node.attributes.float('alpha', 1)),
      transA: node.attributes.int('transA', 0) !== 0,
      transB,
      ...(packed !== undefined && { packed }),
    };
  },
  run: ({ alpha, transA, transB, packed }, inputs) => {
    const [a, aScaleInput, aZeroInput, b, bScaleInput, bZeroInput, c, yScaleInput, yZeroInput] = inputs;
    const left = required(a, 'A');
    const right = required(b, 'B');
    if (left.shape.length !== 2 || right.shape.length !== 2) {
      throw new QuantError('INVALID_MODEL', 'QGemm takes 2-D A and B');
    }
    const [m, k] = transA ? [left.shape[1]!, left.shape[0]!] : [left.shape[0]!, left.shape[1]!];
    const [kB, n] = transB ? [right.shape[1]!, right.shape[0]!] : [right.shape[0]!, right.shape[1]!];
    if (k !== kB) {
      throw new QuantError(
        'INVALID_MODEL',
        `inner dimensions differ: A is [${left.shape.join(', ')}], B is [${right.shape.join(', ')}]`,
      );
    }
    const aCodes = transA ? transposeCodes(codes8(left, 'A'), k, m) : codes8(left, 'A');
    const bCodes = packed?.codes ?? (transB ? transposeCodes(codes8(right, 'B'), n, k) : codes8(right, 'B'));
    const aScale = scaleOf(required(aScaleInput, 'a_scale'), 'a_scale');
    const aZero = zeroPointOf(required(aZeroInput, 'a_zero_point'), 'a_zero_point');
    const bScales = scalesOf(required(bScaleInput, 'b_scale'), 'b_scale');
    const bZeroTensor = required(bZeroInput, 'b_zero_point');
    const bZeros = Int32Array.from(bZeroTensor.data as ArrayLike<number>);
    if ((bScales.length !== 1 && bScales.length !== n) || bZeros.length !== bScales.length) {
      throw new QuantError(
        'INVALID_MODEL',
        `b_scale and b_zero_point must both hold one value or one per column (${n}); they hold ${bScales.length} and ${bZeros.length}`,
      );
    }
    const accumulators = new Int32Array(m * n);
    integerGemm(aCodes, [aZero], bCodes, bZeros, m, k, n, accumulators, undefined, packed?.columnSums);
    if (c !== undefined) addC(accumulators, c, m, n);
    const yScale = yScaleInput === undefined ? undefined : scaleOf(yScaleInput, 'y_scale');
    const scales = Float32Array.from(bScales, (scale) => {
      const product = Math.fround(Math.fround(alpha * aScale) * scale);
      return yScale === undefined ? product : Math.fround(product / yScale);
    });
    if (yZeroInput !== undefined) {
      const { qmin, qmax } = codeRange(yZeroInput.dtype);
      const out = allocate(yZeroInput.dtype, m * n) as CodeArray;
      requantize(
        accumulators,
        m,
        n,
        scales,
        undefined,
        false,
        zeroPointOf(yZeroInput, 'y_zero_point'),
        qmin,
        qmax,
        out,
        0,
      );
      return [tensorOf(yZeroInput.dtype, [m, n], out)];
    }
    const out = new Float32Array(m * n);
    const perColumn = scales.length > 1;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        out[i * n + j] = Math.fround(accumulators[i * n + j]!) * scales[perColumn ? j : 0]!;
      }
    }
    return [tensorOf('float32', [m, n], out)];
  },
});

export const qGemmKernels = [qGemm];
