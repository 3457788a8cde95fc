import { GRANULARITIES, type QuantizerPlugin } from '@quantkit/core';
import { type LinearQuantizerSettings, createRangeQuantizer } from './create-range-quantizer.js';
import { linearParamsForResolved } from './linear-params-for-range.js';
import { LINEAR_BITS, resolveLinearOptions } from './resolve-linear-options.js';

/**
 * Creates the linear (affine) quantizer: asymmetric or symmetric by `options.symmetric`, 2 to 16 bits, per tensor,
 * per channel or per block, with onnxruntime's scale and zero-point conventions (see `linearParamsForRange`).
 * Returns a plain plugin value; nothing is registered.
 *
 * @example
 * const registry = createRegistry([createLinearQuantizer()]);
 * const { codes, params } = registry.get('quantizer', 'linear')
 *   .quantizeWeight(weight, { bits: 8, symmetric: true, granularity: 'channel', axis: 0 });
 * @example
 * // A second copy for x86 without VNNI, registered next to the default one.
 * const reduced = createLinearQuantizer({ name: 'linear-reduced', defaults: { reduceRange: true } });
 * @throws QuantError INVALID_ARGUMENT for an empty name or invalid settings.defaults. The plugin's methods throw
 * INVALID_ARGUMENT for invalid options or non-finite weights.
 */
export function createLinearQuantizer(settings: LinearQuantizerSettings = {}): QuantizerPlugin {
  return createRangeQuantizer(
    {
      name: 'linear',
      description:
        'Linear (affine) quantization, asymmetric or symmetric, 2-16 bits, per tensor/channel/block',
      capabilities: Object.freeze({
        bits: LINEAR_BITS,
        granularities: GRANULARITIES,
        symmetric: Object.freeze([false, true]),
        activations: true,
      }),
      resolve: resolveLinearOptions,
      paramsForResolved: linearParamsForResolved,
    },
    settings,
  );
}

/** The default linear quantizer ('linear'), ready to pass to `createRegistry`. */
export const linearQuantizer: QuantizerPlugin = createLinearQuantizer();
