import type { KernelPlugin } from '@quantkit/core';
import { convKernel } from './conv.js';
import { convTransposeKernel } from './conv-transpose.js';
import { gemmKernel } from './gemm.js';
import {
  batchNormalizationKernel,
  instanceNormalizationKernel,
  layerNormalizationKernel,
} from './normalization.js';
import { preluKernel } from './prelu.js';
import { resizeKernel, upsampleKernel } from './resize.js';
import { gruKernel, lstmKernel, rnnKernel } from './rnn.js';
import { logSoftmaxKernel, softmaxKernel } from './softmax.js';
import { averagePoolKernel, globalAveragePoolKernel, globalMaxPoolKernel, maxPoolKernel } from './pool.js';

/** The float neural-network kernels of the JS backend: convolutions, pools, normalizations, Resize, RNNs. */
export const nnKernels: readonly KernelPlugin[] = [
  convKernel,
  convTransposeKernel,
  gemmKernel,
  maxPoolKernel,
  averagePoolKernel,
  globalAveragePoolKernel,
  globalMaxPoolKernel,
  batchNormalizationKernel,
  instanceNormalizationKernel,
  layerNormalizationKernel,
  softmaxKernel,
  logSoftmaxKernel,
  preluKernel,
  resizeKernel,
  upsampleKernel,
  lstmKernel,
  gruKernel,
  rnnKernel,
] as readonly KernelPlugin[];
