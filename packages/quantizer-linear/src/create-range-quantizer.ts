import {
  API_VERSION,
  type LinearQuantParams,
  QuantError,
  type QuantizedTensor,
  type QuantizerCapabilities,
  type QuantizerOptions,
  type QuantizerPlugin,
  type Tensor,
  type ValueRange,
  quantizeLinear,
} from '@quantkit/core';
import { computeWeightRange } from './compute-weight-range.js';
import { type ResolvedLinearOptions, checkLinearOptionValues } from './resolve-linear-options.js';

/** Settings shared by the linear quantizer factories. */
export interface LinearQuantizerSettings {
  /**
   * Registry name. Defaults to the quantizer's own ('linear', 'pow2'); set it to register a second, differently
   * configured copy next to the default one.
   */
  readonly name?: string;
  /** One line for `quantkit plugins`. */
  readonly description?: string;
  /**
   * Options applied under every call's own options (a call's defined keys win), e.g. `{ reduceRange: true }` for
   * x86 without VNNI. Checked when the plugin is created.
   */
  readonly defaults?: Partial<QuantizerOptions>;
}

/** What a range-based quantizer supplies; the weight path (range, params, codes) is the same for all of them. */
export interface RangeQuantizerSpec {
  readonly name: string;
  readonly description: string;
  readonly capabilities: QuantizerCapabilities;
  resolve(options: QuantizerOptions, quantizer: string): ResolvedLinearOptions;
  paramsForResolved(range: ValueRange, options: ResolvedLinearOptions, quantizer: string): LinearQuantParams;
}

function withDefaults(defaults: Partial<QuantizerOptions>, options: QuantizerOptions): QuantizerOptions {
  if (typeof options !== 'object' || options === null) return options;
  const merged: Record<string, unknown> = { ...defaults };
  // A key the caller left undefined (e.g. axis: undefined from a spread) must not erase a default.
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value;
  return merged as unknown as QuantizerOptions;
}

/**
 * Builds a frozen quantizer plugin value from a range -> params rule: quantizeWeight takes each group's min/max
 * (computeWeightRange), turns them into params and quantizes with core's quantizeLinear, so codes match ONNX
 * QuantizeLinear exactly.
 * @throws QuantError INVALID_ARGUMENT for an empty name or invalid defaults.
 */
export function createRangeQuantizer(
  spec: RangeQuantizerSpec,
  settings: LinearQuantizerSettings = {},
): QuantizerPlugin {
  const name = settings.name ?? spec.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${spec.name} quantizer: settings.name must be a non-empty string`,
    );
  }
  const defaults = Object.freeze({ ...(settings.defaults ?? {}) });
  checkLinearOptionValues(defaults, name);
  if (defaults.symmetric !== undefined && !spec.capabilities.symmetric.includes(defaults.symmetric)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${name} quantizer: settings.defaults.symmetric must be ${spec.capabilities.symmetric.join(' or ')}`,
    );
  }
  const resolve = (options: QuantizerOptions) => spec.resolve(withDefaults(defaults, options), name);

  const plugin: QuantizerPlugin = {
    kind: 'quantizer',
    name,
    apiVersion: API_VERSION,
    description: settings.description ?? spec.description,
    capabilities: spec.capabilities,
    paramsForRange(range: ValueRange, options: QuantizerOptions): LinearQuantParams {
      return spec.paramsForResolved(range, resolve(options), name);
    },
    quantizeWeight(weight: Tensor<'float32'>, options: QuantizerOptions): QuantizedTensor {
      // Options first, so a bad flag is reported as such even when the weight is also bad.
      const resolved = resolve(options);
      if (weight?.dtype !== 'float32') {
        throw new QuantError(
          'INVALID_ARGUMENT',
          `${name} quantizer: weights must be float32 tensors, got ${String(weight?.dtype)}`,
        );
      }
      const range = computeWeightRange(weight, resolved);
      const params = spec.paramsForResolved(range, resolved, name);
      return { codes: quantizeLinear(weight.data, weight.shape, params), params };
    },
  };
  return Object.freeze(plugin);
}
