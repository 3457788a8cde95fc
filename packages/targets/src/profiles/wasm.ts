import type { TargetPlugin } from '@quantkit/core';
import { onnxRuntimeDefaults } from './onnxruntime-defaults.js';

/**
 * onnxruntime-web's WebAssembly backend (the CPU provider compiled with WASM SIMD): QDQ with u8 activations x s8
 * per-channel weights. Its ConvInteger takes uint8 x uint8 only, so dynamic Conv stores uint8 weights.
 *
 * @example
 * import { wasmTarget } from '@quantkit/targets';
 * wasmTarget.formats[0]; // 'qdq'
 */
export const wasmTarget: TargetPlugin = {
  ...onnxRuntimeDefaults,
  name: 'wasm',
  description: 'onnxruntime-web WebAssembly (SIMD): u8 x s8 per-channel QDQ; ConvInteger only u8 x u8',
  runtime: 'onnxruntime-web',
  // onnxruntime-web ships SIMD builds only, so a host without WASM SIMD cannot run it at all.
  detect: (host) => host.wasmSimd === true,
};
