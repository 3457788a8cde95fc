import type { KernelPlugin } from '@quantkit/core';
import { integerMatMulKernels } from './integer-matmul.js';
import { matMulNBitsKernels } from './matmul-nbits.js';
import { qGemmKernels } from './qgemm.js';
import { qLinearConvKernels } from './qlinear-conv.js';
import { qLinearMatMulKernels } from './qlinear-matmul.js';
import { quantizeLinearKernels } from './quantize-linear.js';

/** The JS backend's kernels of quantized ops: QDQ, QOperator and integer forms. */
export const quantizedKernels: readonly KernelPlugin[] = [
  ...quantizeLinearKernels,
  ...qLinearMatMulKernels,
  ...integerMatMulKernels,
  ...qGemmKernels,
  ...qLinearConvKernels,
  ...matMulNBitsKernels,
] as readonly KernelPlugin[];
