export {
  type WeightRangeOptions,
  type WeightValues,
  computeWeightRange,
} from './compute-weight-range.js';
export type { LinearQuantizerSettings } from './create-range-quantizer.js';
export { MIN_FLOAT32_SCALE, linearParamsForRange } from './linear-params-for-range.js';
export { createLinearQuantizer, linearQuantizer } from './linear-quantizer.js';
export { powerOfTwoParamsForRange, resolvePowerOfTwoOptions } from './power-of-two-params-for-range.js';
export { createPowerOfTwoQuantizer, powerOfTwoQuantizer } from './power-of-two-quantizer.js';
export {
  LINEAR_BITS,
  MAX_LINEAR_BITS,
  MIN_LINEAR_BITS,
  type ResolvedLinearOptions,
  checkLinearOptionValues,
  resolveLinearOptions,
} from './resolve-linear-options.js';
