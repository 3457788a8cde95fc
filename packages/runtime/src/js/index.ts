import type { KernelPlugin } from '@quantkit/core';
import { withHalfFloats } from './half-float-kernel.js';
import { elementwiseBinaryKernels, elementwiseUnaryKernels } from './kernels/elementwise.js';
import { matMulKernels } from './kernels/matmul.js';
import { packedKernels } from './kernels/packed-kernels.js';
import { packedWeightKernels } from './kernels/packed-weight-kernel.js';
import { nnKernels } from './kernels/nn-kernels.js';
import { quantizedKernels } from './kernels/quantized-kernels.js';
import { shapeKernels } from './kernels/shape.js';
import { tensorKernels } from './kernels/tensor-kernels.js';

export { jsBackend, jsKernel, type JsKernelDefinition } from './backend.js';

/**
 * The JS backend's kernels as written; those that compute take float16 and bfloat16 too, in float32 with their
 * outputs rounded back (see half-float-kernel.ts).
 */
const ownKernels: readonly KernelPlugin[] = withHalfFloats([
  ...elementwiseBinaryKernels,
  ...elementwiseUnaryKernels,
  ...shapeKernels,
  ...matMulKernels,
  ...tensorKernels,
  ...packedKernels,
  ...nnKernels,
  ...quantizedKernels,
] as readonly KernelPlugin[]);

/**
 * Every kernel of the JS backend: its own, and the ai.quantkit forms of those whose op can hold a packed weight
 * (see packed-weight-kernel.ts).
 */
export const jsKernels: readonly KernelPlugin[] = [...ownKernels, ...packedWeightKernels(ownKernels)];
