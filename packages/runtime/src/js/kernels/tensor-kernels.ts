import type { KernelPlugin } from '@quantkit/core';
import { activationKernels } from './activations.js';
import { castKernels } from './cast.js';
import { compareKernels } from './compare.js';
import { concatSplitKernels } from './concat-split.js';
import { controlFlowKernels } from './control-flow.js';
import { elementwiseExtraKernels } from './elementwise.js';
import { gatherKernels } from './gather.js';
import { generatorKernels } from './generators.js';
import { layoutKernels } from './layout.js';
import { padKernels } from './pad.js';
import { reduceKernels } from './reduce.js';
import { sliceKernels } from './slice.js';

/**
 * The JS backend's tensor kernels: activations, comparisons and logic, reductions, layout (moving data of any
 * dtype), Cast, generators (ConstantOfShape, Size, Range) and control flow (If, Loop).
 */
export const tensorKernels: readonly KernelPlugin[] = [
  ...activationKernels,
  ...elementwiseExtraKernels,
  ...compareKernels,
  ...reduceKernels,
  ...layoutKernels,
  ...concatSplitKernels,
  ...sliceKernels,
  ...gatherKernels,
  ...padKernels,
  ...generatorKernels,
  ...castKernels,
  ...controlFlowKernels,
] as readonly KernelPlugin[];
