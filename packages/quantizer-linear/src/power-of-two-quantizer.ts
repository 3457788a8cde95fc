import { GRANULARITIES, type QuantizerPlugin } from '@quantkit/core';
import { type LinearQuantizerSettings, createRangeQuantizer } from './create-range-quantizer.js';
import { powerOfTwoParamsForResolved, resolvePowerOfTwoOptions } from './power-of-two-params-for-range.js';
import { LINEAR_BITS } from './resolve-linear-options.js';

/**
 * Creates the power-of-two-scale quantizer ('pow2', Ristretto-style dynamic fixed point): symmetric signed codes,
 * zero point 0, and per group the smallest scale 2^-n whose code range covers the values (see
 * `powerOfTwoParamsForRange`). Returns a plain plugin value; nothing is registered.
 *
 * @example
 * const pow2 = createPowerOfTwoQuantizer();
 * const { params } = pow2.quantizeWeight(weight, { bits: 8, symmetric: true, granularity: 'channel', axis: 0 });
 * // every params.scale[i] is an exact power of two
 * @throws QuantError INVALID_ARGUMENT for an empty name or invalid settings.defaults. The plugin's methods throw
 * INVALID_ARGUMENT for asymmetric or unsigned options, any option the linear quantizer refuses, or non-finite
 * weights.
 */
export function createPowerOfTwoQuantizer(settings: LinearQuantizerSettings = {}): QuantizerPlugin {
  return createRangeQuantizer(
    {
      name: 'pow2',
      description:
        'Power-of-two scales (Ristretto dynamic fixed point), symmetric, 2-16 bits, per tensor/channel/block',
      capabilities: Object.freeze({
        bits: LINEAR_BITS,
        granularities: GRANULARITIES,
        symmetric: Object.freeze([true]),
        activations: true,
      }),
      resolve: resolvePowerOfTwoOptions,
      paramsForResolved: powerOfTwoParamsForResolved,
    },
    settings,
  );
}

/** The default power-of-two quantizer ('pow2'), ready to pass to `createRegistry`. */
export const powerOfTwoQuantizer: QuantizerPlugin = createPowerOfTwoQuantizer();
