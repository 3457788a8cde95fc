import type { KernelPlugin } from '@quantkit/core';
import { convKernels } from './kernels/conv.js';
import { floatMatMulKernels } from './kernels/float-matmul.js';
import { integerMatMulKernels } from './kernels/integer-matmul.js';
import { qLinearConvKernels } from './kernels/qlinear-conv.js';
import { wasmPackedKernels } from './kernels/packed-kernels.js';

export { type Int8GemmExports, type KernelExports, type WasmSimdHandle, wasmSimdBackend } from './backend.js';
export { type WasmKernelDefinition, wasmKernel } from './wasm-kernel.js';

/** Every kernel of the wasm-simd backend. */
export const wasmSimdKernels: readonly KernelPlugin[] = [
  ...floatMatMulKernels,
  ...integerMatMulKernels,
  ...convKernels,
  ...qLinearConvKernels,
  ...wasmPackedKernels,
] as readonly KernelPlugin[];
