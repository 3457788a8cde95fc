import {
  API_VERSION,
  QuantError,
  type QuantizedTensor,
  type QuantizerOptions,
  type QuantizerPlugin,
  type Tensor,
} from '@quantkit/core';
import { createNnieLogPacking } from './nnie-log-packing.js';
import { buildNnieTensor, computeNnieCodes } from './nnie-tensor-form.js';
import { resolveLogOptions } from './resolve-log-options.js';

/** Settings of {@link createNnieLogQuantizer}. */
export interface NnieLogQuantizerSettings {
  /** Registry name; defaults to 'log-nnie'. */
  readonly name?: string;
  /** One line for `quantkit plugins`. */
  readonly description?: string;
}

/**
 * Creates the NNIE-style 8-bit log quantizer ('log-nnie'), the method of HiSilicon's NNIE log mode as public
 * descriptions state it (not vendor code): 16 steps per octave, value = sign * 2^((z + m)/16) with
 * z = round(16 log2 max|x|) - 127 per tensor, a sign-magnitude byte with 128 positive magnitudes (0x00..0x7F),
 * the zero code 0x80 and 127 negative magnitudes (0x81..0xFF); see nnie-levels.ts for the exact rule.
 *
 * Its stock-ONNX form is always the lookup form: codes are uint8 indices into an ascending 256-entry table
 * (negatives 0..126, zero 127, positives 128..255) and the scale 2^floor(T/16); the graph computes
 * Gather(table, codes) * scale. Only 8 bits, per tensor, symmetric. The packed form ('log-nnie') stores the code
 * bytes themselves.
 *
 * @example
 * const { codes, params, lookup } = nnieLogQuantizer.quantizeWeight(weight, { bits: 8, symmetric: true, granularity: 'tensor' });
 * const value = lookup!.table[codes.data[0]!]! * params.scale[0]!;
 * @throws QuantError INVALID_ARGUMENT for an empty name. quantizeWeight throws INVALID_ARGUMENT for bits other than
 * 8, symmetric false, granularity other than 'tensor', or non-finite weights.
 */
export function createNnieLogQuantizer(settings: NnieLogQuantizerSettings = {}): QuantizerPlugin {
  const name = settings.name ?? 'log-nnie';
  if (typeof name !== 'string' || name.length === 0) {
    throw new QuantError('INVALID_ARGUMENT', 'log-nnie quantizer: settings.name must be a non-empty string');
  }
  const limits = { quantizer: name, bits: [8], granularities: ['tensor'] as const };
  const plugin: QuantizerPlugin = {
    kind: 'quantizer',
    name,
    apiVersion: API_VERSION,
    description:
      settings.description ??
      'NNIE-style 8-bit log codes: sign + 7-bit magnitude, 16 steps per octave, per tensor',
    capabilities: Object.freeze({
      bits: Object.freeze([8]),
      granularities: Object.freeze(['tensor'] as const),
      symmetric: Object.freeze([true]),
      activations: false,
    }),
    quantizeWeight(weight: Tensor<'float32'>, options: QuantizerOptions): QuantizedTensor {
      resolveLogOptions(options, weight, limits);
      return buildNnieTensor(computeNnieCodes(weight.data, weight.shape));
    },
    packing: createNnieLogPacking(name),
  };
  return Object.freeze(plugin);
}

/** The default NNIE-style log quantizer ('log-nnie'), used by the hisilicon-log target profile. */
export const nnieLogQuantizer: QuantizerPlugin = createNnieLogQuantizer();
