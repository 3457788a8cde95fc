import type { KernelPlugin } from '@quantkit/core';
import { elementwiseBinaryKernels, elementwiseUnaryKernels } from './kernels/elementwise.js';
import { matMulKernels } from './kernels/matmul.js';
import { quantizedKernels } from './kernels/quantized-kernels.js';
import { shapeKernels } from './kernels/shape.js';

export { jsBackend, jsKernel, type JsKernelDefinition } from './backend.js';

/** Every kernel of the JS backend. */
export const jsKernels: readonly KernelPlugin[] = [
  ...elementwiseBinaryKernels,
  ...elementwiseUnaryKernels,
  ...shapeKernels,
  ...matMulKernels,
  ...quantizedKernels,
] as readonly KernelPlugin[];
