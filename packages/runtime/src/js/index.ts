import type { KernelPlugin } from '@quantkit/core';
import { elementwiseBinaryKernels, elementwiseUnaryKernels } from './kernels/elementwise.js';
import { matMulKernels } from './kernels/matmul.js';
import { packedKernels } from './kernels/packed-kernels.js';
import { nnKernels } from './kernels/nn-kernels.js';
import { quantizedKernels } from './kernels/quantized-kernels.js';
import { shapeKernels } from './kernels/shape.js';
import { tensorKernels } from './kernels/tensor-kernels.js';

export { jsBackend, jsKernel, type JsKernelDefinition } from './backend.js';

/** Every kernel of the JS backend. */
export const jsKernels: readonly KernelPlugin[] = [
  ...elementwiseBinaryKernels,
  ...elementwiseUnaryKernels,
  ...shapeKernels,
  ...matMulKernels,
  ...tensorKernels,
  ...packedKernels,
  ...nnKernels,
  ...quantizedKernels,
] as readonly KernelPlugin[];
