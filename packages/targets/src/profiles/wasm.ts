import { API_VERSION, type TargetPlugin } from '@quantkit/core';
import { ORT_KERNELS, ORT_PRECISIONS, ORT_QUANTIZED_OPS } from '../onnxruntime-kernels.js';

/**
 * onnxruntime-web's WebAssembly backend (the CPU provider compiled with WASM SIMD): QDQ with u8 activations x s8
 * per-channel weights. Its ConvInteger takes uint8 x uint8 only, so dynamic Conv stores uint8 weights.
 *
 * @example
 * import { wasmTarget } from '@quantkit/targets';
 * wasmTarget.formats[0]; // 'qdq'
 */
export const wasmTarget: TargetPlugin = {
  kind: 'target',
  name: 'wasm',
  apiVersion: API_VERSION,
  description: 'onnxruntime-web WebAssembly (SIMD): u8 x s8 per-channel QDQ; ConvInteger only u8 x u8',
  runtime: 'onnxruntime-web',
  activation: { dtype: 'uint8', symmetric: false, bits: 8 },
  weight: { dtype: 'int8', symmetric: true, perChannel: true, reduceRange: false },
  typePairs: [
    { activation: 'uint8', weight: 'int8' },
    { activation: 'uint8', weight: 'uint8' },
  ],
  formats: ['qdq', 'qoperator'],
  quantizedOps: ORT_QUANTIZED_OPS,
  method: 'linear',
  precisions: ORT_PRECISIONS,
  kernels: ORT_KERNELS,
  // onnxruntime-web ships SIMD builds only, so a host without WASM SIMD cannot run it at all.
  detect: (host) => host.wasmSimd === true,
};
