import type { KernelPlugin } from '@quantkit/core';
import { integerMatMulKernels } from './integer-matmul.js';
import { matMulNBitsKernels } from './matmul-nbits.js';
import { qGemmKernels } from './qgemm.js';
import { qLinearConcatKernels } from './qlinear-concat.js';
import { qLinearConvKernels } from './qlinear-conv.js';
import { qLinearElementwiseKernels } from './qlinear-elementwise.js';
import { qLinearMatMulKernels } from './qlinear-matmul.js';
import { qLinearPoolKernels } from './qlinear-pool.js';
import { qLinearSoftmaxKernels } from './qlinear-softmax.js';
import { quantizeLinearKernels } from './quantize-linear.js';

/** The JS backend's kernels of quantized ops: QDQ, QOperator and integer forms. */
export const quantizedKernels: readonly KernelPlugin[] = [
  ...quantizeLinearKernels,
  ...qLinearMatMulKernels,
  ...integerMatMulKernels,
  ...qGemmKernels,
  ...qLinearConvKernels,
  ...matMulNBitsKernels,
  ...qLinearElementwiseKernels,
  ...qLinearConcatKernels,
  ...qLinearPoolKernels,
  ...qLinearSoftmaxKernels,
] as readonly KernelPlugin[];
