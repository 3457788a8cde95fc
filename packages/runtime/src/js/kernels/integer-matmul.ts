import { QuantError, type Tensor } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { float32Data, required, tensorOf } from '../tensor-utils.js';
import { integerGemm } from './integer-gemm.js';
import { type MatMulShape, matMulShape } from './matmul-shape.js';
import { packConstantB, matrixShapeOfB } from './qlinear-matmul.js';
import { dynamicUint8Params } from './quantize-linear.js';
import { type PackedB, type SideParams, paramsOfMatrix, sideParams } from './quantized-matmul-plan.js';
import { type Code8Array, codes8, quantizeFloat, scaleOf, scalesOf } from './quantized-values.js';

/** Zero points of one side of an integer MatMul (all 0 when the optional input is absent). */
function zeroPoints(
  tensor: Tensor | undefined,
  codes: Tensor,
  operandShape: readonly number[],
  length: number,
  side: 'column' | 'row',
  what: string,
): SideParams<Int32Array> {
  if (tensor === undefined) return { values: new Int32Array(1), stride: 0, perVector: false };
  if (tensor.dtype !== codes.dtype) {
    throw new QuantError('INVALID_MODEL', `${what} is ${tensor.dtype} but its codes are ${codes.dtype}`);
  }
  return sideParams(
    tensor,
    Int32Array.from(tensor.data as ArrayLike<number>),
    operandShape,
    length,
    side,
    what,
  );
}

/** Runs each GEMM of `plan` into `out` (int32, [batches, m, n]). */
function batchedIntegerGemm(
  plan: MatMulShape,
  aCodes: Code8Array,
  aZeros: SideParams<Int32Array>,
  bCodes: Code8Array,
  bZeros: SideParams<Int32Array>,
  packed: PackedB | undefined,
  out: Int32Array,
  each?: (batch: number, bMatrix: number, accumulators: Int32Array) => void,
): void {
  const { m, k, n } = plan;
  for (let t = 0; t < plan.aMatrices.length; t++) {
    const aMatrix = plan.aMatrices[t]!;
    const bMatrix = plan.bMatrices[t]!;
    const accumulators = out.subarray(t * m * n, (t + 1) * m * n);
    integerGemm(
      aCodes.subarray(aMatrix * m * k, (aMatrix + 1) * m * k),
      paramsOfMatrix(aZeros, aMatrix),
      bCodes.subarray(bMatrix * k * n, (bMatrix + 1) * k * n),
      paramsOfMatrix(bZeros, bMatrix),
      m,
      k,
      n,
      accumulators,
      undefined,
      packed?.columnSums.subarray(bMatrix * n, (bMatrix + 1) * n),
    );
    each?.(t, bMatrix, accumulators);
  }
}

/**
 * MatMulInteger: `(A - a_zero_point) (B - b_zero_point)` in int32 with numpy MatMul shapes; a_zero_point per
 * tensor or per row of A, b_zero_point per tensor or per column of B (each also per matrix of a batched operand).
 */
const matMulInteger = jsKernel('MatMulInteger', {
  opsets: { min: 10 },
  prepare: (node) => ({ packed: packConstantB(node, 1) }),
  run: ({ packed }, [a, b, aZeroInput, bZeroInput]) => {
    const left = required(a, 'A');
    const right = required(b, 'B');
    const plan = matMulShape(left.shape, right.shape);
    const aShape = left.shape.length === 1 ? [1, left.shape[0]!] : left.shape;
    const aZeros = zeroPoints(aZeroInput, left, aShape, plan.m, 'row', 'a_zero_point');
    const bZeros = zeroPoints(
      bZeroInput,
      right,
      matrixShapeOfB(right.shape),
      plan.n,
      'column',
      'b_zero_point',
    );
    const out = new Int32Array(plan.aMatrices.length * plan.m * plan.n);
    const bCodes = packed?.codes ?? codes8(right, 'B');
    batchedIntegerGemm(plan, codes8(left, 'A'), aZeros, bCodes, bZeros, packed, out);
    return [tensorOf('int32', plan.outShape, out)];
  },
});

/**
 * The float result of an integer MatMul: `float(accumulator) * a_scale * b_scale[j] (+ bias[j])` in float32, as
 * onnxruntime's MatMulIntegerToFloat and DynamicQuantizeMatMul write it.
 */
function integerMatMulToFloat(
  left: Tensor,
  aCodes: Code8Array,
  aZero: number,
  aScale: number,
  right: Tensor,
  bScaleInput: Tensor,
  bZeroInput: Tensor | undefined,
  biasInput: Tensor | undefined,
  packed: PackedB | undefined,
): Tensor {
  const plan = matMulShape(left.shape, right.shape);
  const { m, n } = plan;
  const bShape = matrixShapeOfB(right.shape);
  const multipliers = Float32Array.from(scalesOf(bScaleInput, 'b_scale'), (scale) =>
    Math.fround(aScale * scale),
  );
  const scales = sideParams(bScaleInput, multipliers, bShape, n, 'column', 'b_scale');
  const bZeros = zeroPoints(bZeroInput, right, bShape, n, 'column', 'b_zero_point');
  let bias: Float32Array | undefined;
  if (biasInput !== undefined) {
    bias = float32Data(biasInput, 'bias');
    if (bias.length !== n) {
      throw new QuantError('INVALID_MODEL', `bias has ${bias.length} values; expected one per column (${n})`);
    }
  }
  const accumulators = new Int32Array(plan.aMatrices.length * m * n);
  const out = new Float32Array(accumulators.length);
  const bCodes = packed?.codes ?? codes8(right, 'B');
  const aZeros: SideParams<Int32Array> = { values: Int32Array.of(aZero), stride: 0, perVector: false };
  batchedIntegerGemm(plan, aCodes, aZeros, bCodes, bZeros, packed, accumulators, (t, bMatrix, block) => {
    const columnScales = paramsOfMatrix(scales, bMatrix);
    const perColumn = columnScales.length > 1;
    const base = t * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const value = Math.fround(Math.fround(block[i * n + j]!) * columnScales[perColumn ? j : 0]!);
        out[base + i * n + j] = bias === undefined ? value : value + bias[j]!;
      }
    }
  });
  return tensorOf('float32', plan.outShape, out);
}

/**
 * com.microsoft MatMulIntegerToFloat: A, B, a_scale, b_scale, a_zero_point, b_zero_point, bias; A per tensor, B
 * per tensor or per column; float32 output.
 */
const matMulIntegerToFloat = jsKernel('MatMulIntegerToFloat', {
  domain: 'com.microsoft',
  prepare: (node) => ({ packed: packConstantB(node, 1) }),
  run: ({ packed }, [a, b, aScaleInput, bScaleInput, aZeroInput, bZeroInput, biasInput]) => {
    const left = required(a, 'A');
    const aScale = scaleOf(required(aScaleInput, 'a_scale'), 'a_scale');
    const aZero = aZeroInput === undefined ? 0 : Number(aZeroInput.data[0]);
    if (aZeroInput !== undefined && aZeroInput.data.length !== 1) {
      throw new QuantError('UNSUPPORTED', 'a_zero_point per row is not implemented; it must be one value');
    }
    const right = required(b, 'B');
    const bScale = required(bScaleInput, 'b_scale');
    return [
      integerMatMulToFloat(
        left,
        codes8(left, 'A'),
        aZero,
        aScale,
        right,
        bScale,
        bZeroInput,
        biasInput,
        packed,
      ),
    ];
  },
});

/**
 * com.microsoft DynamicQuantizeMatMul: A (float) quantized to uint8 with DynamicQuantizeLinear's parameters, then
 * multiplied by the 8-bit B (per tensor or per column) with float32 output and an optional bias.
 */
const dynamicQuantizeMatMul = jsKernel('DynamicQuantizeMatMul', {
  domain: 'com.microsoft',
  prepare: (node) => ({ packed: packConstantB(node, 1) }),
  run: ({ packed }, [a, b, bScaleInput, bZeroInput, biasInput]) => {
    const left = required(a, 'A');
    const values = float32Data(left, 'A');
    const { scale, zeroPoint } = dynamicUint8Params(values);
    const codes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) codes[i] = quantizeFloat(values[i]!, scale, zeroPoint, 0, 255);
    const right = required(b, 'B');
    const bScale = required(bScaleInput, 'b_scale');
    return [
      integerMatMulToFloat(left, codes, zeroPoint, scale, right, bScale, bZeroInput, biasInput, packed),
    ];
  },
});

export const integerMatMulKernels = [matMulInteger, matMulIntegerToFloat, dynamicQuantizeMatMul];
