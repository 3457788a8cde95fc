import { type KernelNode, allocate } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { required, tensorOf } from '../tensor-utils.js';
import { integerGemm } from './integer-gemm.js';
import { matMulShape } from './matmul-shape.js';
import { type PackedB, packB, paramsOfMatrix, sideParams } from './quantized-matmul-plan.js';
import {
  type CodeArray,
  codeRange,
  codes8,
  requantize,
  scaleOf,
  scalesOf,
  zeroPointOf,
} from './quantized-values.js';

/** A 1-D B multiplies as a column. */
export function matrixShapeOfB(shape: readonly number[]): readonly number[] {
  return shape.length === 1 ? [shape[0]!, 1] : shape;
}

/** Column sums of a constant 8-bit B, computed once when the node is prepared. */
export function packConstantB(node: KernelNode, slot: number): PackedB | undefined {
  const constant = node.inputs[slot]?.constant;
  if (constant === undefined || (constant.dtype !== 'uint8' && constant.dtype !== 'int8')) return undefined;
  const shape = matrixShapeOfB(constant.shape);
  if (shape.length < 2) return undefined;
  return packB(constant.data as Uint8Array | Int8Array, shape[shape.length - 2]!, shape[shape.length - 1]!);
}

/**
 * QLinearMatMul: `y = saturate(round((a - a_zero_point) (b - b_zero_point) * a_scale * b_scale / y_scale) +
 * y_zero_point)` with numpy MatMul shapes, the product accumulated exactly in int32 and requantized in float32 as
 * onnxruntime does. A is per tensor; B per tensor, per column, or per column of each of its matrices; any
 * combination of uint8 and int8 codes, the output in the type of y_zero_point.
 */
const qLinearMatMul = jsKernel('QLinearMatMul', {
  opsets: { min: 10 },
  prepare: (node) => ({ packed: packConstantB(node, 3) }),
  run: ({ packed }, inputs) => {
    const [a, aScaleInput, aZeroInput, b, bScaleInput, bZeroInput, yScaleInput, yZeroInput] = inputs;
    const left = required(a, 'a');
    const right = required(b, 'b');
    const yZero = required(yZeroInput, 'y_zero_point');
    const aCodes = codes8(left, 'a');
    const bCodes = packed?.codes ?? codes8(right, 'b');
    const plan = matMulShape(left.shape, right.shape);
    const { m, k, n } = plan;
    const aScale = scaleOf(required(aScaleInput, 'a_scale'), 'a_scale');
    const aZero = zeroPointOf(required(aZeroInput, 'a_zero_point'), 'a_zero_point');
    const yScale = scaleOf(required(yScaleInput, 'y_scale'), 'y_scale');
    const bShape = matrixShapeOfB(right.shape);
    const bScaleTensor = required(bScaleInput, 'b_scale');
    const bZeroTensor = required(bZeroInput, 'b_zero_point');
    const outputScales = Float32Array.from(scalesOf(bScaleTensor, 'b_scale'), (scale) =>
      Math.fround(Math.fround(aScale * scale) / yScale),
    );
    const scales = sideParams(bScaleTensor, outputScales, bShape, n, 'column', 'b_scale');
    const zeros = sideParams(
      bZeroTensor,
      Int32Array.from(bZeroTensor.data as ArrayLike<number>),
      bShape,
      n,
      'column',
      'b_zero_point',
    );
    const yZeroPoint = zeroPointOf(yZero, 'y_zero_point');
    const { qmin, qmax } = codeRange(yZero.dtype);
    const out = allocate(yZero.dtype, plan.aMatrices.length * m * n) as CodeArray;
    const accumulators = new Int32Array(m * n);
    const aZeros = [aZero];
    for (let t = 0; t < plan.aMatrices.length; t++) {
      const aMatrix = plan.aMatrices[t]!;
      const bMatrix = plan.bMatrices[t]!;
      integerGemm(
        aCodes.subarray(aMatrix * m * k, (aMatrix + 1) * m * k),
        aZeros,
        bCodes.subarray(bMatrix * k * n, (bMatrix + 1) * k * n),
        paramsOfMatrix(zeros, bMatrix),
        m,
        k,
        n,
        accumulators,
        undefined,
        packed?.columnSums.subarray(bMatrix * n, (bMatrix + 1) * n),
      );
      const columnScales = paramsOfMatrix(scales, bMatrix);
      requantize(accumulators, m, n, columnScales, undefined, false, yZeroPoint, qmin, qmax, out, t * m * n);
    }
    return [tensorOf(yZero.dtype, plan.outShape, out)];
  },
});

export const qLinearMatMulKernels = [qLinearMatMul];
