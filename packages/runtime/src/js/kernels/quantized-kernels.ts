import type { KernelPlugin } from '@quantkit/core';
import { quantizeLinearKernels } from './quantize-linear.js';

/** The JS backend's kernels of quantized ops: QDQ, QOperator and integer forms. */
export const quantizedKernels: readonly KernelPlugin[] = [...quantizeLinearKernels] as readonly KernelPlugin[];
