import type { QuantDType, TargetPrecision, TargetTypePair } from '@quantkit/core';
import { BUILTIN_OP_DESCRIPTORS } from '@quantkit/onnx';

/**
 * Facts about onnxruntime's CPU execution provider, which onnxruntime-web compiles to WebAssembly with the same
 * operator kernels. Measured on onnxruntime-node and onnxruntime-web 1.23.2 (see check-model.ort.test.ts, which
 * loads every combination below in both).
 */

/**
 * Op types onnxruntime runs on quantized data when they sit between DequantizeLinear and QuantizeLinear: its QDQ
 * transformers fuse them into QLinear*, QGemm, QLinearAveragePool..., or drop the Q/DQ around data-movement ops
 * (Reshape, Transpose, MaxPool, ...) and run those on the 8-bit codes. Gather is here because weight-only models
 * dequantize embedding tables in front of it. The op descriptors say which (`ortQuantized`).
 */
export const ORT_QUANTIZED_OPS: readonly string[] = BUILTIN_OP_DESCRIPTORS.filter(
  (descriptor) => descriptor.ortQuantized === true && descriptor.domain === '',
).map((descriptor) => descriptor.opType);

/** The kernels those ops end up in after onnxruntime's QDQ fusion, plus the dynamic and 4-bit forms. */
export const ORT_KERNELS: readonly string[] = [
  'QLinearConv',
  'QLinearMatMul',
  'com.microsoft.QGemm',
  'com.microsoft.QLinearAdd',
  'com.microsoft.QLinearMul',
  'com.microsoft.QLinearConcat',
  'com.microsoft.QLinearAveragePool',
  'com.microsoft.QLinearGlobalAveragePool',
  'com.microsoft.QLinearSigmoid',
  'com.microsoft.QLinearLeakyRelu',
  'com.microsoft.QLinearSoftmax',
  'com.microsoft.NhwcMaxPool',
  'com.microsoft.DynamicQuantizeMatMul',
  'com.microsoft.MatMulIntegerToFloat',
  'MatMulInteger',
  'ConvInteger',
  'com.microsoft.MatMulNBits',
];

/** Precisions onnxruntime's CPU provider loads and runs (16-bit and float8 Q/DQ run via float, MatMulNBits natively). */
export const ORT_PRECISIONS: readonly TargetPrecision[] = [
  'int4-weight',
  'int16-activation',
  'fp16',
  'fp8e4m3fn',
  'fp8e5m2',
];

const u8 = 'uint8';
const s8 = 'int8';
const pair = (activation: QuantDType, weight: QuantDType): TargetTypePair => ({ activation, weight });

/**
 * Input type pairs (input 0 x input 1) each integer operator has a kernel for. onnxruntime registers ConvInteger
 * for uint8 x uint8 only, and the others for every pair except int8 x uint8; a model using any other pair fails
 * to load with "Could not find an implementation".
 */
export const ORT_INTEGER_KERNELS: Readonly<Record<string, readonly TargetTypePair[]>> = {
  ConvInteger: [pair(u8, u8)],
  MatMulInteger: [pair(u8, u8), pair(u8, s8), pair(s8, s8)],
  QLinearConv: [pair(u8, u8), pair(u8, s8), pair(s8, s8)],
  QLinearMatMul: [pair(u8, u8), pair(u8, s8), pair(s8, s8)],
};

/** Input slot of the second (weight) operand of each integer operator. */
export const ORT_INTEGER_WEIGHT_SLOT: Readonly<Record<string, number>> = {
  ConvInteger: 1,
  MatMulInteger: 1,
  QLinearConv: 3,
  QLinearMatMul: 3,
};

/** True for the runtimes that share onnxruntime's CPU kernels. */
export function isOnnxRuntime(runtime: string | undefined): boolean {
  return runtime === 'onnxruntime-cpu' || runtime === 'onnxruntime-web';
}
