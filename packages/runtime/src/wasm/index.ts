import type { KernelPlugin } from '@quantkit/core';
import { floatMatMulKernels } from './kernels/float-matmul.js';
import { integerMatMulKernels } from './kernels/integer-matmul.js';
import { wasmPackedKernels } from './kernels/packed-kernels.js';

export { type Int8GemmExports, type KernelExports, type WasmSimdHandle, wasmSimdBackend } from './backend.js';
export { type WasmKernelDefinition, wasmKernel } from './wasm-kernel.js';

/** Every kernel of the wasm-simd backend. */
export const wasmSimdKernels: readonly KernelPlugin[] = [
  ...floatMatMulKernels,
  ...integerMatMulKernels,
  ...wasmPackedKernels,
] as readonly KernelPlugin[];
